"""How an attempt ends when it ends without a PR: its work kept, refused, or escalated.

`keep` carries an unfinished attempt's work to its branch the way a finished one's goes: the
files committed, the outbound gate, the push (nothing bypasses the gate). `off --now`, a cost cap
reached and a quota window all use it. `refuse` escalates what the gate refused, `escalate`
hands the issue to a person, `end_in` moves the task file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import contract, lifecycle
from orchestrator.core.contract import AgentResult
from orchestrator.core.outbound import Refusal
from orchestrator.core.routing import ChainResult
from orchestrator.core.tasks import MailboxState, Task
from orchestrator.core.workspace import Workspace
from orchestrator.delivery import guard, handoff
from orchestrator.deps import Deps
from orchestrator.errors import PushRejected
from orchestrator.store import rooms


@dataclass(frozen=True, slots=True)
class KeptWork:
    """What `keep` did: the files committed, whether they reached the branch, what was refused."""

    files: tuple[str, ...]
    pushed: bool
    refusals: tuple[Refusal, ...] = ()


def keep(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    ws: Workspace,
    room: rooms.Room,
    chained: ChainResult,
    canary: str,
    message: str,
) -> KeptWork:
    """Commit what the agent left, pass it through the outbound gate, and push it to its branch."""
    committed = deps.worktrees.commit(ws, message)
    refusals = guard.inspect(deps, config, repo, ws, committed, chained, canary)
    if refusals:
        return KeptWork(tuple(committed.files), False, tuple(refusals))
    pushed = False
    if committed.ahead:
        try:
            deps.worktrees.push(ws)
            pushed = True
        except PushRejected as error:
            room.record("push.rejected", error=str(error)[:500])
    return KeptWork(tuple(committed.files), pushed)


def refuse(
    deps: Deps,
    repo: RepoConfig,
    task: Task,
    room: rooms.Room,
    outcome: AgentResult,
    refusals: Sequence[Refusal],
) -> MailboxState:
    """The gate refused the attempt's work: nothing is pushed, and the task is escalated."""
    refused = guard.blocked(refusals, outcome)
    room.write_result(contract.render(refused))
    code = refused.blocker.value if refused.blocker else "outbound_refused"
    places = [refusal.path for refusal in refusals]
    rules = [refusal.rule for refusal in refusals]
    room.record("gate.refused", code=code, places=places, rules=rules)
    said = {"issue": task.issue, "task_id": task.id, "code": code, "places": places[:20]}
    if code == "canary_tripped":
        deps.log.warning("security.canary_tripped", extra=said)
    else:
        deps.log.warning("gate.refused", extra=said)
    deps.audit.record(
        "gate.refused",
        actor="agentos",
        repo=task.repo,
        issue=task.issue,
        task=task.id,
        reason=f"{code}: " + "; ".join(guard.describe(r) for r in refusals[:5]),
    )
    return escalate(deps, repo, task, room, f"blocked:{code}", refused.items("BLOCKERS"))


def escalate(
    deps: Deps,
    repo: RepoConfig,
    task: Task,
    room: rooms.Room,
    reason: str,
    steps: Sequence[str],
) -> MailboxState:
    """Hand the issue to a person; the task ends escalated."""
    handoff.escalate_task(deps, repo, task, reason, steps)
    room.transition(lifecycle.State.FAILED, reason)
    return end_in(deps, task, MailboxState.ESCALATED)


def end_in(deps: Deps, task: Task, state: MailboxState) -> MailboxState:
    """Move the task file out of processing/ to where the attempt ended."""
    deps.mailbox.move(task.id, MailboxState.PROCESSING, state)
    return state

"""An attempt cut short without a PR: stopped by the operator, at its cost cap, or by a quota.

Each first keeps what the agent left on its branch (`endings.keep`: the commit, the outbound
gate, the push; a refusal escalates as any refused push does). Then:

- `stopped` (`off --now`): the task goes back to the inbox under its own id, to go on from its
  branch once Agent OS is on again;
- `capped`: the task's cost cap is reached; it is escalated with its spend and its cap;
- `deferred`: a quota ended the chain with no backend left; the same attempt waits in the inbox
  until the reset the agent reported (or its cooldown), not counted as a failed attempt, and
  goes on with this run's result in its prompt (`earlier_run`); after `limits.max_deferrals`
  such waits it is escalated instead;
- `waiting`: every agent of the chain rests, nothing ran; the task waits for the first to be back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import contract, lifecycle, markdown, queue
from orchestrator.core.contract import AgentResult
from orchestrator.core.model import Issue
from orchestrator.core.routing import ChainEnd, ChainResult
from orchestrator.core.spend import Tally, money
from orchestrator.core.tasks import MailboxState, Task
from orchestrator.core.workspace import Workspace
from orchestrator.delivery import endings, handoff, prompt
from orchestrator.delivery.endings import KeptWork
from orchestrator.deps import Deps
from orchestrator.store import rooms

QUOTA = "quota_exhausted"  # the reason of a wait for a quota's reset (room and log)


def _now() -> datetime:
    return datetime.now(UTC)


def stopped(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    task: Task,
    issue: Issue,
    ws: Workspace,
    room: rooms.Room,
    canary: str,
) -> MailboxState:
    """Told to stop now: keep what the agent left on the branch (through the gate), requeue.

    The task goes back to the inbox under its own id: the same attempt, resumed from its branch
    once Agent OS is switched on again.
    """
    why = "stopped by the operator"
    kept = endings.keep(
        deps,
        config,
        repo,
        ws,
        room,
        ChainResult(ChainEnd.STOPPED),
        canary,
        _message(task, issue, why),
    )
    if kept.refusals:
        return endings.refuse(deps, repo, task, room, contract.invalid(why), kept.refusals)
    room.transition(lifecycle.State.QUEUED, "stopped")
    room.record("task.stopped", kept_on_branch=kept.pushed, files=list(kept.files))
    deps.log.info(
        "task.stopped",
        extra={"issue": task.issue, "task_id": task.id, "kept_on_branch": kept.pushed},
    )
    return endings.end_in(deps, task, MailboxState.INBOX)


def capped(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    task: Task,
    issue: Issue,
    ws: Workspace,
    room: rooms.Room,
    canary: str,
    chained: ChainResult,
    spent: Tally,
) -> MailboxState:
    """The task's cost cap is reached: keep its work on the branch, escalate it with its spend."""
    why = f"stopped at its cost cap: {money(spent.spent)} spent of {money(spent.cap or 0)}"
    kept = endings.keep(deps, config, repo, ws, room, chained, canary, _message(task, issue, why))
    if kept.refusals:
        return endings.refuse(deps, repo, task, room, contract.invalid(why), kept.refusals)
    room.write_result(contract.render(_result(chained, why, kept)))
    amount = round(spent.spent, 2)
    room.record(
        "task.capped",
        spent=amount,
        cap=spent.cap,
        kept_on_branch=kept.pushed,
        files=list(kept.files),
    )
    deps.log.warning(
        "task.capped",
        extra={"issue": task.issue, "task_id": task.id, "spent": amount, "cap": spent.cap},
    )
    if kept.pushed or ws.continued:
        where = f"Its work so far is on branch `{task.branch}`."
    else:
        where = "Its work could not be kept on the branch." if kept.files else "It changed nothing."
    step = (
        f"The task spent {money(spent.spent)} of its {money(spent.cap or 0)} cap "
        f"(limits.max_cost_per_task). {where} Raise the cap or finish the work by hand, then "
        "remove agentos:blocked."
    )
    return endings.escalate(deps, repo, task, room, spent.reason(), (step,))


def deferred(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    task: Task,
    issue: Issue,
    ws: Workspace,
    room: rooms.Room,
    canary: str,
    chained: ChainResult,
) -> MailboxState:
    """A quota ended the chain: keep the work, then wait for the reset (or escalate, waited out)."""
    until = chained.retry_at or _now() + timedelta(minutes=config.limits.agent_cooldown_minutes)
    last = chained.last.backend if chained.last else "the agent"
    why = f"paused: {last} hit its quota; the work goes on after {until:%Y-%m-%d %H:%M} UTC"
    kept = endings.keep(deps, config, repo, ws, room, chained, canary, _message(task, issue, why))
    if kept.refusals:
        return endings.refuse(deps, repo, task, room, contract.invalid(why), kept.refusals)
    room.write_result(contract.render(_result(chained, why, kept)))
    waits = sum(
        1
        for e in rooms.read(config.paths.rooms_dir, task.id).events
        if e.get("event") == "task.deferred" and e.get("reason") == QUOTA
    )
    verdict = queue.after_quota(waits, config.caps.max_deferrals)
    if verdict.next is queue.Next.ESCALATE:
        return endings.escalate(deps, repo, task, room, verdict.reason, ())
    deps.mailbox.update(handoff.not_before(task, until), MailboxState.PROCESSING)
    room.transition(lifecycle.State.QUEUED, QUOTA)
    room.record(
        "task.deferred",
        reason=QUOTA,
        until=until.isoformat(),
        waits=waits + 1,
        kept_on_branch=kept.pushed,
        files=list(kept.files),
    )
    deps.log.info(
        "task.deferred",
        extra={
            "issue": task.issue,
            "task_id": task.id,
            "until": until.isoformat(),
            "reason": QUOTA,
        },
    )
    return endings.end_in(deps, task, MailboxState.INBOX)


def waiting(deps: Deps, task: Task, room: rooms.Room, chained: ChainResult) -> MailboxState:
    """Every agent of the chain rests: the task waits in the inbox until the first rest ends."""
    retry_at = chained.retry_at or _now() + timedelta(
        minutes=deps.config.limits.agent_cooldown_minutes
    )
    deps.mailbox.update(handoff.not_before(task, retry_at), MailboxState.PROCESSING)
    room.transition(lifecycle.State.QUEUED, "agents_cooling_down")
    deps.log.info(
        "task.deferred",
        extra={
            "issue": task.issue,
            "task_id": task.id,
            "until": retry_at.isoformat(),
            "reason": "agents_cooling_down",
        },
    )
    return endings.end_in(deps, task, MailboxState.INBOX)


def earlier_run(room: rooms.Room) -> tuple[prompt.EarlierResult, ...]:
    """Return this attempt's own result from an earlier run (a quota wait ended it), if any."""
    text = rooms.read(room.path.parent, room.task_id, last_events=1).result
    if not text:
        return ()
    return (prompt.EarlierResult(f"{room.task_id}, an earlier run of this attempt", text),)


def _result(chained: ChainResult, why: str, kept: KeptWork) -> AgentResult:
    """Return the result of a run cut short: why, what the agent said, and the files kept."""
    last = chained.last
    base = last.result if last is not None else contract.invalid(why)
    said = last.outcome.final_message.strip() if last is not None else ""
    parts = (why, base.summary, f"The agent's last words: {said}" if said else "")
    files = kept.files or base.items("FILES_CHANGED")
    return replace(
        base,
        summary="\n".join(part for part in parts if part),
        lists={**base.lists, "FILES_CHANGED": tuple(files)},
    )


def _message(task: Task, issue: Issue, why: str) -> str:
    """Return the commit message of work in progress."""
    return (
        f"{markdown.defuse(issue.title)} (#{task.issue})\n\n"
        f"Work in progress, {why}.\n\nAgent OS task {task.id}"
    )

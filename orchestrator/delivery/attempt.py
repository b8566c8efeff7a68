"""One attempt at a task, start to finish, as a worker process runs it.

    prepare the worktree → render the prompt → run the agent chain (confined, a canary planted)
    → parse the result → commit the agent's files → the outbound gate → run the repo's tests →
    push → open the PR (or retry, or escalate)

A run cut short ends in delivery/pauses.py instead: stopped by `off --now`, at the task's cost
cap (delivery/spending.py counts it), or by a quota with no backend left (deferred to its reset).

Every step writes to the room first and to GitHub second, and each GitHub write is
idempotent (a PR from a branch is found, not duplicated), so a worker killed at any line is
simply run again by the supervisor's recovery.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.config.executor_model import LOCAL
from orchestrator.config.model import Config, RepoConfig
from orchestrator.config.objectives import constraints_for
from orchestrator.core import contract, lifecycle, markdown
from orchestrator.core.agent import AgentEvent, AgentRequest, event_record
from orchestrator.core.contract import AgentResult
from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.outbound import Refusal
from orchestrator.core.queue import Next, after_attempt, after_fix
from orchestrator.core.routing import ChainEnd, ChainResult
from orchestrator.core.spend import Tally
from orchestrator.core.tasks import MailboxState, Task, TaskType, task_id
from orchestrator.core.workspace import Workspace
from orchestrator.delivery import (
    acceptance,
    approval,
    cards,
    endings,
    guard,
    handoff,
    pauses,
    prompt,
    spending,
    stopping,
)
from orchestrator.delivery.chain import run_chain
from orchestrator.delivery.remote import RemoteAgent
from orchestrator.deps import Deps
from orchestrator.errors import ConfigError, PushRejected, Stopped
from orchestrator.ports import Agent
from orchestrator.store import rooms
from orchestrator.store.remote_runs import RunRecords


def _now() -> datetime:
    return datetime.now(UTC)


def run(deps: Deps, config: Config, task: Task, room: rooms.Room) -> MailboxState:
    """Run the attempt and settle the task file; return the mailbox state it ended in."""
    repo = config.repo(task.repo_key)
    settled = _end_reached_before(deps, repo, task, room)
    if settled is not None:
        room.record("task.resumed", state=settled)
        return endings.end_in(deps, task, settled)
    issue = deps.tracker.issue(IssueRef(task.repo, task.issue))
    if not issue.is_open:
        room.record("task.dropped", reason="issue_closed")
        return endings.end_in(deps, task, MailboxState.DROPPED)
    trusted, reason = approval.recheck(deps, issue)
    if not trusted:  # an outsider edited the issue after its approval, or it was withdrawn
        room.record("task.dropped", reason=reason)
        approval.hold(deps, repo, task, reason)
        return endings.end_in(deps, task, MailboxState.DROPPED)
    room.transition(lifecycle.State.DEVELOPING, task.reason or task.task_type)
    if RunRecords(config.paths.rooms_dir).load(task.id) is None:  # not a parked run's return
        deps.notifier.notify(handoff.started(task, issue))
    ws = deps.worktrees.prepare(repo.key, task.id, task.branch, task.base)
    room.record(
        "worktree.prepared",
        path=ws.path,
        branch=ws.branch,
        continued=ws.continued,
        task_type=task.task_type.value,
    )
    try:
        return _attempt(deps, config, repo, task, issue, ws, room)
    finally:
        deps.worktrees.remove(repo.key, task.id)


def _end_reached_before(
    deps: Deps, repo: RepoConfig, task: Task, room: rooms.Room
) -> MailboxState | None:
    """Return where a task goes whose last worker decided its end but died before moving its file.

    A recovered task is run again from the start, except when its room shows the end already
    reached: the PR is open (review), the escalation done (failed), or the follow-up queued.
    Running it again would redo finished work, or run the follow-up's attempt twice at once.
    """
    life = room.lifecycle()
    if life is None or len(life.history) < 2:
        return None
    if life.state is lifecycle.State.REVIEW:
        cards.move(deps, repo, IssueRef(task.repo, task.issue), BoardStatus.IN_REVIEW)
        return MailboxState.DELIVERED
    if life.state is lifecycle.State.FAILED:
        return MailboxState.ESCALATED
    follow_up = task_id(task.repo_key, task.issue, task.generation, task.attempt + 1)
    if life.state is lifecycle.State.QUEUED and deps.mailbox.locate(follow_up) is not None:
        return MailboxState.RETRIED
    return None


def _attempt(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    task: Task,
    issue: Issue,
    ws: Workspace,
    room: rooms.Room,
) -> MailboxState:
    earlier = tuple(
        prompt.EarlierResult(tid, text)
        for tid, text in rooms.earlier_results(config.paths.rooms_dir, task.id)
    ) + pauses.earlier_run(room)
    try:  # the operator's rules reach every prompt: no agent runs while they cannot be read
        rules = constraints_for(config, repo.key)
    except ConfigError as error:
        steps = tuple(f"Fix {error.source}: {line}" for line in error.problems)
        return endings.escalate(deps, repo, task, room, "objectives_invalid", steps)
    fixing = handoff.fixing_of(deps, task)
    text = prompt.render(
        prompt.PromptInput(
            issue, task, Path(ws.path), room.path, earlier, fixing, constraints=rules
        )
    )
    if not prompt.fits(text):
        return endings.escalate(deps, repo, task, room, "blocked:prompt_too_large", ())
    prompt_file = room.write_prompt(text)
    conflicted = _merge_base(deps, task, ws, room)
    kept = RunRecords(config.paths.rooms_dir).load(task.id)  # a parked remote run's, if any
    canary = guard.kept_canary(kept.canary) if kept and kept.canary else guard.new_canary()
    request = AgentRequest(
        task.id, text, str(prompt_file), ws.path, canary=canary, readable=_readable(ws, prompt_file)
    )
    spent = spending.tally(config, repo, task)
    if spent is not None and spent.reached:  # spent before this run, with nothing left
        return pauses.capped(
            deps, config, repo, task, issue, ws, room, canary, ChainResult(ChainEnd.STOPPED), spent
        )
    agents = _agents(deps, config, repo, task, ws, room, remote=not conflicted)
    try:
        with stopping.interruptible():
            chained = _chain(deps, config, task, agents, request, room, spent)
    except Stopped:
        for agent in agents:  # a parked remote run is cancelled, not left to go on
            if isinstance(agent, RemoteAgent):
                agent.abandon(task.id)
        return pauses.stopped(deps, config, repo, task, issue, ws, room, canary)
    if chained.capped and spent is not None:
        return pauses.capped(deps, config, repo, task, issue, ws, room, canary, chained, spent)
    if chained.end is ChainEnd.COOLING_DOWN:
        return pauses.waiting(deps, task, room, chained)
    if chained.paused:
        return pauses.deferred(deps, config, repo, task, issue, ws, room, canary, chained)
    outcome = _demote_if_unresolved(
        ws, conflicted, chained.result or contract.invalid("no agent could run")
    )
    # Commit what the agent left before the tests run, so nothing the test run writes (caches,
    # reports) is ever committed; the worktree, with those leftovers, is removed afterwards.
    committed = deps.worktrees.commit(ws, _commit_message(task, issue, outcome))
    refusals = guard.inspect(deps, config, repo, ws, committed, chained, canary)
    if refusals:
        return _refuse(deps, repo, task, room, outcome, refusals)
    outcome = _run_tests(deps, repo, ws, outcome, room)
    acceptance.prove(deps, repo, ws, committed, outcome, room)  # kept for the PR and its tier
    pushed = False
    if committed.ahead:
        try:
            deps.worktrees.push(ws)
            pushed = True
        except PushRejected as error:
            room.record("push.rejected", error=str(error)[:500])
            outcome = _as_push_rejected(outcome, str(error))
    room.write_result(contract.render(outcome))
    if task.task_type is TaskType.FIXING:
        verdict = after_fix(outcome, pushed)
    else:
        verdict = after_attempt(task, outcome, _signatures(config, task), committed.has_changes)
    room.record(
        "attempt.judged",
        next=verdict.next.value,
        reason=verdict.reason,
        files=list(committed.files),
    )
    if verdict.next is Next.OPEN_PR:
        handoff.deliver(
            deps, repo, task, issue, outcome, chained.finished_by or "?", committed.files, room
        )
        return endings.end_in(deps, task, MailboxState.DELIVERED)
    if verdict.next is Next.RETRY and task.task_type is TaskType.IMPLEMENTATION:
        deps.mailbox.create(handoff.follow_up(task, outcome, _now()))
        room.transition(lifecycle.State.QUEUED, verdict.reason)
        deps.log.info(
            "task.retried",
            extra={"issue": task.issue, "task_id": task.id, "reason": verdict.reason},
        )
        return endings.end_in(deps, task, MailboxState.RETRIED)
    if task.task_type is TaskType.FIXING and verdict.next is Next.RETRY:
        # the PR monitor sees it still red and counts the round
        return endings.end_in(deps, task, MailboxState.RETRIED)
    return endings.escalate(deps, repo, task, room, verdict.reason, outcome.items("MANUAL_STEPS"))


def _readable(ws: Workspace, prompt_file: Path) -> tuple[str, ...]:
    """Return what the agent may read besides its worktree: its prompt, the objects git borrows."""
    return (str(prompt_file), ws.objects) if ws.objects else (str(prompt_file),)


def _agents(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    task: Task,
    ws: Workspace,
    room: rooms.Room,
    *,
    remote: bool,
) -> list[Agent]:
    """Return who runs the agent: the task's chain here, or the repo's remote executor.

    A conflict is always resolved here: its merge is under way in the worktree, and a remote
    run starts from a commit.
    """
    name = repo.placement.for_type(task.task_type.value)
    if name == LOCAL or not remote:
        return [deps.agents[n] for n in task.chain if n in deps.agents]
    settings = config.executors[name]
    executor = deps.executor_for(name, repo)
    return [RemoteAgent(executor, settings, deps.task_refs, repo, ws, room, park=True)]


def _chain(
    deps: Deps,
    config: Config,
    task: Task,
    agents: list[Agent],
    request: AgentRequest,
    room: rooms.Room,
    spent: Tally | None,
) -> ChainResult:
    """Run the chain; with a cost cap, the tally counts its events and the runs ask it."""
    sink = room.sink("agent")

    def on_event(event: AgentEvent) -> None:
        if spent is not None:
            spent.observe(event)
        sink(event_record(event))

    result = run_chain(
        agents,
        replace(request, over_cap=spent.over if spent is not None else None),
        deps.cooldowns,
        _now,
        on_event,
        default_cooldown=timedelta(minutes=config.limits.agent_cooldown_minutes),
    )
    usage = result.usage
    room.record(
        "chain.finished",
        end=result.end.value,
        backend=result.finished_by,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
    )
    deps.log.info(
        "agent.finished",
        extra={
            "issue": task.issue,
            "task_id": task.id,
            "end": result.end.value,
            "backend": result.finished_by,
            "worktree": request.worktree,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost_usd": usage.cost_usd,
        },
    )
    return result


def _merge_base(deps: Deps, task: Task, ws: Workspace, room: rooms.Room) -> tuple[str, ...]:
    """For a conflict, start merging the base in, so the agent resolves real markers in place."""
    fixing = handoff.fixing_of(deps, task)
    if fixing is None or not fixing.conflicts:
        return ()
    conflicted = deps.worktrees.merge_base(ws)
    room.record("merge.started", base=ws.base, conflicted=list(conflicted))
    return conflicted


def _demote_if_unresolved(
    ws: Workspace, conflicted: tuple[str, ...], outcome: AgentResult
) -> AgentResult:
    """A `complete` that leaves conflict markers in a conflicted file is not complete."""
    left = [p for p in conflicted if _has_markers(Path(ws.path) / p)]
    if not left or outcome.status is not contract.Status.COMPLETE:
        return outcome
    line = "conflict markers left in " + ", ".join(left)
    return contract.after_tests(outcome, False, line)


def _has_markers(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return False
    return any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines())


def _run_tests(
    deps: Deps, repo: RepoConfig, ws: Workspace, outcome: AgentResult, room: rooms.Room
) -> AgentResult:
    """Run the repo's own tests after a `complete`.

    A failure demotes it; a pass never promotes anything.
    """
    if outcome.status is not contract.Status.COMPLETE or not repo.test_command:
        return outcome
    run = deps.tests.run(
        repo.test_command,
        ws.path,
        deps.config.limits.test_timeout_minutes * 60,
        readable=(ws.objects,) if ws.objects else (),
    )
    room.record(
        "tests.finished", command=repo.test_command, passed=run.passed, line=run.line, tail=run.tail
    )
    return contract.after_tests(outcome, run.passed, run.line)


def _signatures(config: Config, task: Task) -> list[str]:
    """Return the failure signatures of this generation's earlier attempts, oldest first."""
    earlier = rooms.earlier_results(
        config.paths.rooms_dir, task.id, limit=task.attempt, same_generation=True
    )
    return [contract.parse(text).signature for _, text in earlier]


def _as_push_rejected(outcome: AgentResult, error: str) -> AgentResult:
    blockers = (*outcome.items("BLOCKERS"), f"push rejected: {error[:200]}")
    return contract.AgentResult(
        contract.Status.BLOCKED,
        contract.BlockerCode.PUSH_REJECTED,
        outcome.summary,
        "Rebase on the branch as it is on GitHub and push again.",
        {**outcome.lists, "BLOCKERS": blockers},
    )


def _refuse(
    deps: Deps,
    repo: RepoConfig,
    task: Task,
    room: rooms.Room,
    outcome: AgentResult,
    refusals: list[Refusal],
) -> MailboxState:
    """The gate refused the attempt's work: nothing is pushed, and the task is escalated."""
    return endings.refuse(deps, repo, task, room, outcome, refusals)


def _commit_message(task: Task, issue: Issue, outcome: AgentResult) -> str:
    summary = outcome.summary.splitlines()[0][:200] if outcome.summary else "work in progress"
    title = markdown.defuse(issue.title)
    return f"{title} (#{task.issue})\n\n{markdown.defuse(summary)}\n\nAgent OS task {task.id}"

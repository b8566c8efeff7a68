"""Decide which queued tasks start now, which running ones are dead, and what follows an attempt."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.contract import AgentResult, Status
from orchestrator.core.tasks import Task


@dataclass(frozen=True, slots=True)
class Running:
    """A task in `processing/`: who runs it and when it last showed a sign of life."""

    task: Task
    worker_alive: bool  # the worker process still exists
    last_beat: datetime | None  # its heartbeat; None: it never beat
    claimed_at: datetime | None = None  # when its file entered processing/; None: unknown


CLAIM_GRACE = timedelta(seconds=60)
LOCAL_POOL = "local"  # the executor of this machine's workers
STOP_NOW = "AGENTOS_STOP_NOW"  # a worker's environment: stop at once (`off --now`, a parked run)


def pick(
    queued: Sequence[Task],
    running: Sequence[Task],
    total: int,
    per_repo: Mapping[str, int],
    now: datetime | None = None,
    *,
    pool: Callable[[Task], str] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> list[Task]:
    """Return the queued tasks to start, most urgent first, within both limits.

    Urgent means priority (0 high), then the older task; a repo at its own limit does not stop
    the next repo's task from starting, and a task deferred past `now` waits. With `pool`, each
    task runs on an executor (`local`, or a remote one) with its own number of slots (`sizes`;
    `total` for a pool it does not name): a full cluster does not hold back local work.
    """
    where = pool or (lambda task: LOCAL_POOL)
    busy: dict[str, int] = {}
    in_repo: dict[str, int] = {}
    for task in running:
        busy[where(task)] = busy.get(where(task), 0) + 1
        in_repo[task.repo_key] = in_repo.get(task.repo_key, 0) + 1
    chosen: list[Task] = []
    for task in sorted(queued, key=lambda t: (t.priority, t.created_at, t.id)):
        name = where(task)
        if busy.get(name, 0) >= (sizes or {}).get(name, total):
            continue
        if in_repo.get(task.repo_key, 0) >= per_repo.get(task.repo_key, 1):
            continue
        if now is not None and task.not_before is not None and task.not_before > now:
            continue
        chosen.append(task)
        busy[name] = busy.get(name, 0) + 1
        in_repo[task.repo_key] = in_repo.get(task.repo_key, 0) + 1
    return chosen


def stalled(run: Running, now: datetime, stall_minutes: float) -> str | None:
    """Return why a running task is dead (`worker_died`, `no_heartbeat`), or None while it lives.

    A task claimed moments ago whose beat predates the claim (none yet, or an earlier attempt's)
    is starting: its supervisor beats right after the claim, and another supervisor scanning in
    between must not take the starting worker for dead.
    """
    if starting(run, now):
        return None
    if not run.worker_alive:
        return "worker_died"
    if run.last_beat is None or now - run.last_beat > timedelta(minutes=stall_minutes):
        return "no_heartbeat"
    return None


def starting(run: Running, now: datetime) -> bool:
    """True while a fresh claim has no beat of its own yet."""
    claimed = run.claimed_at
    if claimed is None or now - claimed >= CLAIM_GRACE:
        return False
    return run.last_beat is None or run.last_beat < claimed


class Next(enum.Enum):
    OPEN_PR = "open_pr"  # complete, tests green: push and open (or update) the PR
    RETRY = "retry"  # another attempt on the same branch, with this result in its prompt
    ESCALATE = "escalate"  # a human must look: board Blocked, label, one comment
    DEFER = "defer"  # the same attempt waits for its agent's quota to reset, then goes on


@dataclass(frozen=True, slots=True)
class Judgement:
    next: Next
    reason: str  # the word logs and tests share


def after_attempt(
    task: Task, result: AgentResult, earlier: Sequence[str], has_changes: bool
) -> Judgement:
    """Return what follows one attempt, given the failure signatures of the attempts before it.

    `earlier` holds the signatures of this issue's earlier attempts, oldest first. The same
    failure twice in a row escalates at once: a third identical try is a retry storm.
    """
    if result.status is Status.COMPLETE:
        if not has_changes:
            return Judgement(Next.ESCALATE, "no_diff_produced")
        return Judgement(Next.OPEN_PR, "complete")
    if result.blocker is not None and not result.blocker.retryable:
        return Judgement(Next.ESCALATE, f"blocked:{result.blocker.value}")
    if earlier and earlier[-1] == result.signature:
        return Judgement(Next.ESCALATE, "same_failure_twice")
    if task.attempt >= task.max_attempts:
        return Judgement(Next.ESCALATE, "attempts_exhausted")
    return Judgement(
        Next.RETRY, f"{result.status.value}:{result.blocker.value if result.blocker else '-'}"
    )


def after_fix(result: AgentResult, pushed: bool) -> Judgement:
    """Return what follows a fixing task: its push goes back to review; else one fix round is used.

    The PR monitor counts the rounds and escalates when they run out, so a fixing task is never
    retried here; only a blocker no one can fix escalates at once.
    """
    if result.status is Status.COMPLETE:
        return (
            Judgement(Next.OPEN_PR, "fix_pushed")
            if pushed
            else Judgement(Next.RETRY, "fix_changed_nothing")
        )
    if result.blocker is not None and not result.blocker.retryable:
        return Judgement(Next.ESCALATE, f"blocked:{result.blocker.value}")
    return Judgement(
        Next.RETRY, f"{result.status.value}:{result.blocker.value if result.blocker else '-'}"
    )


def after_quota(deferrals: int, max_deferrals: int) -> Judgement:
    """Return what follows a chain that a quota ended with no backend left to run.

    The attempt waits for the reset and goes on (not a failed attempt), at most `max_deferrals`
    times: each wait is at most core.routing's MAX_COOLDOWN, so a reset time that is broken, or
    set far ahead by whoever answers the agent, parks a task for a bounded time only.
    """
    if deferrals >= max_deferrals:
        return Judgement(Next.ESCALATE, "quota_windows_exhausted")
    return Judgement(Next.DEFER, "quota_exhausted")

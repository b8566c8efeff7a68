"""core.queue: who starts, who is dead, and what follows an attempt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core import queue
from orchestrator.core.contract import AgentResult, BlockerCode, Status
from orchestrator.core.queue import Next, Running
from orchestrator.core.tasks import Task, TaskType

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def task(
    repo: str, issue: int, priority: int = 1, age: int = 0, attempt: int = 1, max_attempts: int = 3
) -> Task:
    return Task(
        id=f"{repo}-{issue}-g1-a{attempt}",
        repo_key=repo,
        repo=f"o/{repo}",
        issue=issue,
        title="t",
        branch=f"agent/{issue}-t",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("a",),
        attempt=attempt,
        max_attempts=max_attempts,
        generation=1,
        priority=priority,
        created_at=T0 - timedelta(minutes=age),
    )


def ids(tasks: list[Task]) -> list[int]:
    return [t.issue for t in tasks]


def test_pick_takes_priority_then_age_within_the_total_limit() -> None:
    queued = [
        task("a", 1, age=5),
        task("a", 2, priority=0),
        task("b", 3, age=9),
        task("b", 4, priority=2, age=99),
    ]
    assert ids(queue.pick(queued, [], total=3, per_repo={"a": 5, "b": 5})) == [2, 3, 1]


def test_a_full_repo_does_not_hold_back_another_repos_task() -> None:
    queued = [task("a", 1, age=9), task("a", 2, age=8), task("b", 3)]
    running = [task("a", 9)]
    assert ids(queue.pick(queued, running, total=4, per_repo={"a": 2, "b": 1})) == [1, 3]


def test_several_tasks_of_one_repo_run_at_once_up_to_its_limit() -> None:
    queued = [task("a", n, age=n) for n in range(1, 6)]
    assert ids(queue.pick(queued, [], total=8, per_repo={"a": 3})) == [5, 4, 3]


def test_nothing_starts_when_every_worker_is_busy() -> None:
    assert (
        queue.pick([task("a", 1)], [task("b", 2), task("c", 3)], total=2, per_repo={"a": 2}) == []
    )


@pytest.mark.parametrize(
    "alive, beat_minutes_ago, expected",
    [
        (True, 1, None),
        (True, 11, "no_heartbeat"),
        (True, None, "no_heartbeat"),
        (False, 0, "worker_died"),
    ],
)
def test_a_running_task_is_dead_by_its_worker_or_its_heartbeat(
    alive: bool, beat_minutes_ago: int | None, expected: str | None
) -> None:
    beat = None if beat_minutes_ago is None else T0 - timedelta(minutes=beat_minutes_ago)
    assert queue.stalled(Running(task("a", 1), alive, beat), T0, stall_minutes=10) == expected


@pytest.mark.parametrize(
    "claimed_seconds_ago, beat_seconds_ago, expected",
    [
        (1, None, None),  # claimed, its supervisor has not beaten yet: starting
        (1, 600, None),  # the beat is an earlier attempt's (a recovered task claimed again)
        (1, 0, "worker_died"),  # it beat after its claim: its pid speaks for it
        (60, None, "worker_died"),  # a claim a minute old with no beat: its supervisor died
        (None, None, "worker_died"),  # no claim time (the file is gone): no grace
    ],
)
def test_a_task_claimed_moments_ago_is_starting_until_its_supervisor_beats(
    claimed_seconds_ago: int | None, beat_seconds_ago: int | None, expected: str | None
) -> None:
    """Another supervisor can scan processing/ between a claim (the rename) and its first beat."""
    claimed = None if claimed_seconds_ago is None else T0 - timedelta(seconds=claimed_seconds_ago)
    beat = None if beat_seconds_ago is None else T0 - timedelta(seconds=beat_seconds_ago)
    run = Running(task("a", 1), False, beat, claimed)
    assert queue.stalled(run, T0, stall_minutes=10) == expected


def result(status: Status, code: BlockerCode | None = None, blocker: str = "") -> AgentResult:
    return AgentResult(status, code, lists={"BLOCKERS": (blocker,)} if blocker else {})


PARTIAL = result(Status.PARTIAL, BlockerCode.TEST_FAILURE, "test_x fails")


@pytest.mark.parametrize(
    "outcome, attempt, earlier, changes, expected",
    [
        (result(Status.COMPLETE), 1, [], True, (Next.OPEN_PR, "complete")),
        (result(Status.COMPLETE), 1, [], False, (Next.ESCALATE, "no_diff_produced")),
        (PARTIAL, 1, [], True, (Next.RETRY, "partial:test_failure")),
        (PARTIAL, 2, ["blocked:timeout:"], True, (Next.RETRY, "partial:test_failure")),
        (PARTIAL, 2, [PARTIAL.signature], True, (Next.ESCALATE, "same_failure_twice")),
        (PARTIAL, 3, ["x", "y"], True, (Next.ESCALATE, "attempts_exhausted")),
        (
            result(Status.BLOCKED, BlockerCode.MANUAL_INTERVENTION_REQUIRED),
            1,
            [],
            False,
            (Next.ESCALATE, "blocked:manual_intervention_required"),
        ),
        (
            result(Status.BLOCKED, BlockerCode.MISSING_CONTEXT),
            1,
            [],
            False,
            (Next.RETRY, "blocked:missing_context"),
        ),
    ],
)
def test_what_follows_an_attempt(
    outcome: AgentResult,
    attempt: int,
    earlier: list[str],
    changes: bool,
    expected: tuple[Next, str],
) -> None:
    verdict = queue.after_attempt(task("a", 1, attempt=attempt), outcome, earlier, changes)
    assert (verdict.next, verdict.reason) == expected


def test_the_last_allowed_attempt_still_opens_a_pr_when_it_completes() -> None:
    last = replace(task("a", 1, attempt=3), max_attempts=3)
    assert queue.after_attempt(last, result(Status.COMPLETE), ["x", "y"], True).next is Next.OPEN_PR


def test_a_deferred_task_waits_until_its_time() -> None:
    later = replace(task("a", 1), not_before=T0 + timedelta(minutes=5))
    assert queue.pick([later, task("a", 2)], [], total=4, per_repo={"a": 4}, now=T0) == [
        task("a", 2)
    ]
    assert ids(
        queue.pick([later], [], total=4, per_repo={"a": 4}, now=T0 + timedelta(minutes=6))
    ) == [1]


@pytest.mark.parametrize(
    "outcome, pushed, expected",
    [
        (result(Status.COMPLETE), True, (Next.OPEN_PR, "fix_pushed")),
        (result(Status.COMPLETE), False, (Next.RETRY, "fix_changed_nothing")),
        (PARTIAL, True, (Next.RETRY, "partial:test_failure")),
        (
            result(Status.BLOCKED, BlockerCode.MANUAL_INTERVENTION_REQUIRED),
            False,
            (Next.ESCALATE, "blocked:manual_intervention_required"),
        ),
    ],
)
def test_what_follows_a_fixing_task(
    outcome: AgentResult, pushed: bool, expected: tuple[Next, str]
) -> None:
    verdict = queue.after_fix(outcome, pushed)
    assert (verdict.next, verdict.reason) == expected


@pytest.mark.parametrize("code", [BlockerCode.OUTBOUND_REFUSED, BlockerCode.CANARY_TRIPPED])
def test_a_change_the_outbound_gate_refused_escalates_at_once_and_is_never_retried(
    code: BlockerCode,
) -> None:
    refused = result(Status.BLOCKED, code, ".env: deny:.env")
    first = queue.after_attempt(task("a", 1, attempt=1), refused, [], True)
    assert (first.next, first.reason) == (Next.ESCALATE, f"blocked:{code.value}")
    fix = queue.after_fix(refused, False)
    assert (fix.next, fix.reason) == (Next.ESCALATE, f"blocked:{code.value}")
    assert code.permanent and not code.retryable  # and no other agent of the chain tries either


@pytest.mark.parametrize(
    "waits, limit, next_, reason",
    [
        (0, 5, Next.DEFER, "quota_exhausted"),
        (4, 5, Next.DEFER, "quota_exhausted"),
        (5, 5, Next.ESCALATE, "quota_windows_exhausted"),
        (0, 1, Next.DEFER, "quota_exhausted"),
        (1, 1, Next.ESCALATE, "quota_windows_exhausted"),
    ],
)
def test_a_quota_with_no_backend_left_defers_the_attempt_a_bounded_number_of_times(
    waits: int, limit: int, next_: Next, reason: str
) -> None:
    assert queue.after_quota(waits, limit) == queue.Judgement(next_, reason)


def test_each_executor_has_its_own_slots_and_a_full_one_holds_back_nothing_else() -> None:
    remote_repo = {"r"}  # repo r runs on the cluster, repo l here

    def pool(t: Task) -> str:
        return "cluster" if t.repo_key in remote_repo else queue.LOCAL_POOL

    queued = [task("r", n, age=100 - n) for n in range(1, 8)] + [task("l", 50), task("l", 51)]
    running = [task("r", 90), task("l", 91)]
    chosen = queue.pick(
        queued, running, total=2, per_repo={"r": 50, "l": 50}, pool=pool, sizes={"cluster": 5}
    )
    # the cluster has 5 slots (1 busy): four of r's start; the 2 local slots (1 busy): one of l's
    assert ids(chosen) == [1, 2, 3, 4, 50]


def test_without_pools_the_total_bounds_everything_as_before() -> None:
    queued = [task("r", n) for n in range(1, 5)]
    assert len(queue.pick(queued, [], total=2, per_repo={"r": 9})) == 2

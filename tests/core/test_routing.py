"""core.routing: which backend runs next, and what each way an attempt ends means for the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.agent import AgentOutcome, OutcomeKind, Usage
from orchestrator.core.contract import AgentResult, BlockerCode, Status, parse, render
from orchestrator.core.routing import (
    CAPPED,
    MAX_COOLDOWN,
    MIN_COOLDOWN,
    BackendRun,
    ChainEnd,
    ChainMove,
    Cooldown,
    PassedOver,
    Ruling,
    at_cap,
    conclude,
    cooldown_until,
    judge,
    pick,
    result_of,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def outcome(kind: OutcomeKind, backend: str = "claude", **fields: object) -> AgentOutcome:
    return AgentOutcome(backend, kind, 0 if kind is OutcomeKind.FINISHED else 1, 1.0, **fields)  # type: ignore[arg-type]


def contract(status: Status, code: BlockerCode | None = None) -> AgentResult:
    return parse(render(AgentResult(status, code, summary="s")))


def test_pick_takes_the_first_backend_not_tried_and_not_resting() -> None:
    rests = {"claude": Cooldown("claude", NOW + HOUR, "quota")}
    choice = pick(["claude", "codex", "api"], rests, NOW, tried=set())
    assert choice.backend == "codex" and choice.skipped == (
        PassedOver("claude", "cooling_down", NOW + HOUR),
    )
    assert pick(["claude", "codex", "api"], rests, NOW, tried={"codex"}).backend == "api"


def test_a_cooldown_that_has_ended_no_longer_keeps_a_backend_out() -> None:
    assert (
        pick(["claude"], {"claude": Cooldown("claude", NOW, "quota")}, NOW, set()).backend
        == "claude"
    )


def test_pick_returns_nothing_once_every_backend_is_tried_or_resting() -> None:
    rests = {"codex": Cooldown("codex", NOW + HOUR, "quota")}
    choice = pick(["claude", "codex", "claude"], rests, NOW, tried={"claude"})
    assert choice.backend is None and [s.backend for s in choice.skipped] == ["codex"]


@pytest.mark.parametrize(
    "kind, verdict, reason",
    [
        (OutcomeKind.TIMED_OUT, ChainMove.NEXT, "timed_out"),
        (OutcomeKind.CRASHED, ChainMove.NEXT, "crashed"),
        (OutcomeKind.AUTH_FAILED, ChainMove.NEXT, "auth_failed"),
        (OutcomeKind.MODEL_ERROR, ChainMove.NEXT, "model_error"),
        (OutcomeKind.TURN_LIMIT, ChainMove.NEXT, "turn_limit"),
        (OutcomeKind.UNAVAILABLE, ChainMove.NEXT, "unavailable"),
        (OutcomeKind.PROMPT_TOO_LARGE, ChainMove.STOP, "prompt_too_large"),
        (OutcomeKind.QUOTA_EXHAUSTED, ChainMove.COOLDOWN, "quota_exhausted"),
    ],
)
def test_a_run_that_did_not_finish_hands_on_rests_or_stops(
    kind: OutcomeKind, verdict: ChainMove, reason: str
) -> None:
    ended = outcome(kind)
    decision = judge(ended, result_of(ended, None), NOW, HOUR)
    assert (decision.move, decision.reason) == (verdict, reason)
    assert (decision.cooldown is not None) == (verdict is ChainMove.COOLDOWN)


@pytest.mark.parametrize(
    "result, verdict, reason",
    [
        (contract(Status.COMPLETE), ChainMove.DONE, "complete"),
        (contract(Status.PARTIAL, BlockerCode.TEST_FAILURE), ChainMove.DONE, "partial"),
        (contract(Status.BLOCKED, BlockerCode.MISSING_CONTEXT), ChainMove.NEXT, "missing_context"),
        (
            contract(Status.BLOCKED, BlockerCode.MANUAL_INTERVENTION_REQUIRED),
            ChainMove.STOP,
            "manual_intervention_required",
        ),
        (contract(Status.BLOCKED, BlockerCode.QUOTA_LIMITED), ChainMove.COOLDOWN, "quota_limited"),
        (parse(None), ChainMove.NEXT, "invalid_result_contract"),
        (parse("STATUS: done\n"), ChainMove.NEXT, "invalid_result_contract"),
    ],
)
def test_a_finished_run_is_judged_by_its_contract(
    result: AgentResult, verdict: ChainMove, reason: str
) -> None:
    decision = judge(outcome(OutcomeKind.FINISHED), result, NOW, HOUR)
    assert (decision.move, decision.reason) == (verdict, reason)


def test_a_quota_failure_rests_the_backend_until_the_reset_it_reported() -> None:
    reset = NOW + timedelta(hours=3)
    ended = outcome(OutcomeKind.QUOTA_EXHAUSTED, "codex", reset_at=reset, error="usage limit")
    decision = judge(ended, result_of(ended, None), NOW, HOUR)
    assert decision.cooldown == Cooldown("codex", reset, "usage limit")


def test_a_quota_failure_without_a_reset_rests_the_backend_for_the_default() -> None:
    ended = outcome(OutcomeKind.QUOTA_EXHAUSTED)
    assert judge(ended, result_of(ended, None), NOW, HOUR).cooldown == Cooldown(
        "claude", NOW + HOUR, "quota_exhausted"
    )


@pytest.mark.parametrize(
    "reset, until",
    [
        (None, NOW + HOUR),
        (NOW - HOUR, NOW + HOUR),  # a reset already past: the default
        (NOW + timedelta(seconds=5), NOW + MIN_COOLDOWN),
        (NOW + timedelta(days=400), NOW + MAX_COOLDOWN),
        (NOW + timedelta(hours=5), NOW + timedelta(hours=5)),
    ],
)
def test_cooldowns_stay_within_sane_bounds(reset: datetime | None, until: datetime) -> None:
    assert cooldown_until(reset, NOW, HOUR) == until


@pytest.mark.parametrize(
    "kind, code",
    [
        (OutcomeKind.TIMED_OUT, BlockerCode.TIMEOUT),
        (OutcomeKind.QUOTA_EXHAUSTED, BlockerCode.QUOTA_LIMITED),
        (OutcomeKind.AUTH_FAILED, BlockerCode.MISSING_CREDENTIALS),
        (OutcomeKind.CRASHED, BlockerCode.RUNNER_FAILURE),
        (OutcomeKind.UNAVAILABLE, BlockerCode.ENVIRONMENT_FAILURE),
    ],
)
def test_a_run_that_did_not_finish_gets_a_blocked_result_saying_why(
    kind: OutcomeKind, code: BlockerCode
) -> None:
    # a stale contract is not believed
    result = result_of(outcome(kind, error="it broke"), "STATUS: complete\n")
    assert (result.status, result.blocker) == (Status.BLOCKED, code)
    assert result.items("BLOCKERS") == (f"claude {kind.value}: it broke",)


def attempt(backend: str, verdict: ChainMove, until: datetime | None = None) -> BackendRun:
    ended = outcome(OutcomeKind.FINISHED, backend, usage=Usage(10, 5, 2, 0.5))
    rest = Cooldown(backend, until, "quota") if until else None
    return BackendRun(backend, ended, contract(Status.COMPLETE), Ruling(verdict, "r", rest))


def test_conclude_names_how_the_chain_ended_and_when_a_resting_backend_is_back() -> None:
    done = conclude([attempt("claude", ChainMove.NEXT), attempt("codex", ChainMove.DONE)], [])
    assert (done.end, done.finished_by, done.retry_at) == (ChainEnd.FINISHED, "codex", None)
    assert done.usage == Usage(20, 10, 4, 1.0)
    stopped = conclude([attempt("claude", ChainMove.STOP)], [])
    assert (stopped.end, stopped.finished_by) == (ChainEnd.STOPPED, None)
    later, soon = NOW + 2 * HOUR, NOW + HOUR
    exhausted = conclude(
        [attempt("claude", ChainMove.COOLDOWN, later)], [PassedOver("codex", "cooling_down", soon)]
    )
    assert (exhausted.end, exhausted.retry_at) == (ChainEnd.EXHAUSTED, soon)
    resting = conclude([], [PassedOver("codex", "cooling_down", soon)])
    assert (resting.end, resting.retry_at, resting.last, resting.result) == (
        ChainEnd.COOLING_DOWN,
        soon,
        None,
        None,
    )
    assert conclude([], []).end is ChainEnd.EXHAUSTED


def test_a_run_stopped_at_its_cost_cap_ends_the_chain_for_a_person() -> None:
    capped = outcome(OutcomeKind.COST_CAPPED, error="stopped at a turn boundary")
    ruling = judge(capped, result_of(capped, None), NOW, HOUR)
    assert (ruling.move, ruling.reason) == (ChainMove.STOP, CAPPED)
    assert result_of(capped, None).blocker is BlockerCode.MANUAL_INTERVENTION_REQUIRED


@pytest.mark.parametrize(
    "move, ends_chain",
    [(ChainMove.DONE, False), (ChainMove.NEXT, True), (ChainMove.COOLDOWN, True)],
)
def test_past_the_cap_only_a_run_that_finished_the_task_stands(
    move: ChainMove, ends_chain: bool
) -> None:
    rest = Cooldown("claude", NOW + HOUR, "quota") if move is ChainMove.COOLDOWN else None
    ruling = at_cap(Ruling(move, "x", rest))
    assert (ruling.move is ChainMove.STOP) is ends_chain
    assert ruling.cooldown == rest  # a rest it earned is still recorded
    run = BackendRun("claude", outcome(OutcomeKind.CRASHED), contract(Status.PARTIAL), ruling)
    assert conclude([run], []).capped is ends_chain


@pytest.mark.parametrize(
    "moves, paused",
    [
        ([ChainMove.COOLDOWN], True),  # a one-backend chain hit its quota
        ([ChainMove.NEXT, ChainMove.COOLDOWN], True),  # the last one did
        ([ChainMove.COOLDOWN, ChainMove.NEXT], False),  # the next one ran and failed otherwise
        ([ChainMove.STOP], False),
        ([ChainMove.DONE], False),
    ],
)
def test_a_chain_is_paused_when_its_last_run_hit_a_quota_and_none_was_left(
    moves: list[ChainMove], paused: bool
) -> None:
    runs = [
        BackendRun(
            f"b{i}",
            outcome(OutcomeKind.QUOTA_EXHAUSTED),
            contract(Status.BLOCKED, BlockerCode.QUOTA_LIMITED),
            Ruling(
                move,
                "r",
                Cooldown(f"b{i}", NOW + HOUR, "q") if move is ChainMove.COOLDOWN else None,
            ),
        )
        for i, move in enumerate(moves)
    ]
    result = conclude(runs, [])
    assert result.paused is paused
    if paused:
        assert result.retry_at == NOW + HOUR
    assert not conclude([], [PassedOver("b0", "cooling_down", NOW + HOUR)]).paused  # nothing ran

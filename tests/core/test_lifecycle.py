"""The lifecycle allows exactly the moves the loop makes, and survives a job re-running a move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.lifecycle import (
    ALLOWED,
    Entry,
    InvalidTransition,
    Lifecycle,
    State,
    advance,
    from_dict,
    start,
    to_dict,
)

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_the_happy_path_is_recorded_with_timestamps_and_reasons() -> None:
    lc = start("app-7-g1-a1", T0, "blockers_done")
    for n, (state, reason) in enumerate(
        [
            (State.DEVELOPING, "claimed"),
            (State.REVIEW, "pr_opened"),
            (State.FIXING, "checks_red"),
            (State.REVIEW, "pushed"),
            (State.PASSED, "merged"),
        ],
        start=1,
    ):
        lc = advance(lc, state, T0 + timedelta(minutes=n), reason)
    assert lc.state is State.PASSED and lc.updated_at == T0 + timedelta(minutes=5)
    assert [e.state.value for e in lc.history] == [
        "queued",
        "developing",
        "review",
        "fixing",
        "review",
        "passed",
    ]
    assert lc.entered(State.REVIEW) == T0 + timedelta(minutes=4)
    assert lc.entered(State.FAILED) is None


@pytest.mark.parametrize("state", list(State))
def test_moving_to_the_current_state_is_a_no_op(state: State) -> None:
    lc = start("t", T0)
    path = {
        State.QUEUED: [],
        State.DEVELOPING: [State.DEVELOPING],
        State.REVIEW: [State.DEVELOPING, State.REVIEW],
        State.FIXING: [State.DEVELOPING, State.REVIEW, State.FIXING],
        State.PASSED: [State.DEVELOPING, State.REVIEW, State.PASSED],
        State.FAILED: [State.FAILED],
    }[state]
    for step in path:
        lc = advance(lc, step, T0)
    assert advance(lc, state, T0 + timedelta(hours=1)) is lc


@pytest.mark.parametrize(
    "source, target",
    [
        (State.QUEUED, State.REVIEW),
        (State.QUEUED, State.PASSED),
        (State.DEVELOPING, State.PASSED),
        (State.DEVELOPING, State.FIXING),
        (State.FIXING, State.PASSED),
        (State.PASSED, State.DEVELOPING),
        (State.FAILED, State.QUEUED),
        (State.PASSED, State.FAILED),
    ],
)
def test_moves_the_loop_never_makes_are_refused_with_both_states_named(
    source: State, target: State
) -> None:
    lc = Lifecycle("app-7-g1-a1", (Entry(source, T0),))
    with pytest.raises(
        InvalidTransition, match=f"app-7-g1-a1 cannot go from {source.value} to {target.value}"
    ):
        advance(lc, target, T0)


def test_terminal_states_allow_nothing_and_every_live_state_can_fail() -> None:
    assert all(not ALLOWED[s] for s in State if s.terminal)
    assert all(State.FAILED in ALLOWED[s] for s in State if not s.terminal)


def test_the_json_form_round_trips() -> None:
    lc = advance(
        start("app-7-g1-a1", T0, "queued by dispatcher"),
        State.DEVELOPING,
        T0 + timedelta(seconds=3),
    )
    data = to_dict(lc)
    assert data["state"] == "developing" and data["updated_at"] == "2026-05-01T10:00:03+00:00"
    assert from_dict(data) == lc


def test_a_lifecycle_without_history_is_rejected() -> None:
    with pytest.raises(ValueError, match="'x' has no history"):
        from_dict({"task_id": "x", "history": []})

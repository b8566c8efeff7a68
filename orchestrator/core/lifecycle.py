"""A task's lifecycle: its states, the moves allowed between them, and the record of each move.

    queued ──▶ developing ──▶ review ──▶ passed
                                │  ▲
                                ▼  │
                               fixing       (red CI, a conflict, changes requested)

    back to queued: a retry after partial/blocked (developing, fixing) or a wedged PR (review)
    to failed: from any state but passed, when attempts or fix rounds run out (escalated)

Moving to the state a task is already in is a no-op, so a job killed after writing the move
and run again by the next tick does not fail on it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any


class State(enum.Enum):
    QUEUED = "queued"
    DEVELOPING = "developing"
    REVIEW = "review"
    FIXING = "fixing"
    PASSED = "passed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """True for the states a task never leaves."""
        return self in (State.PASSED, State.FAILED)


ALLOWED: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.DEVELOPING, State.FAILED}),
    State.DEVELOPING: frozenset({State.REVIEW, State.QUEUED, State.FAILED}),
    State.REVIEW: frozenset({State.FIXING, State.PASSED, State.QUEUED, State.FAILED}),
    State.FIXING: frozenset({State.REVIEW, State.QUEUED, State.FAILED}),
    State.PASSED: frozenset(),
    State.FAILED: frozenset(),
}


class InvalidTransition(ValueError):
    """A move the lifecycle does not allow, e.g. passed -> developing."""


@dataclass(frozen=True, slots=True)
class Entry:
    state: State
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Lifecycle:
    task_id: str
    history: tuple[Entry, ...]

    @property
    def state(self) -> State:
        return self.history[-1].state

    @property
    def updated_at(self) -> datetime:
        return self.history[-1].at

    def entered(self, state: State) -> datetime | None:
        """Return when the task last entered `state`, or None if it never did."""
        return next((e.at for e in reversed(self.history) if e.state is state), None)


def start(task_id: str, at: datetime, reason: str = "") -> Lifecycle:
    """Return the lifecycle of a task just queued."""
    return Lifecycle(task_id, (Entry(State.QUEUED, at, reason),))


def restart(task_id: str, state: State, at: datetime, reason: str = "") -> Lifecycle:
    """Return a lifecycle whose record was lost (set aside as damaged), begun again at `state`.

    The moves before it are unknown, so none is checked: the task is where the caller says.
    """
    return Lifecycle(task_id, (Entry(state, at, reason),))


def advance(lifecycle: Lifecycle, to: State, at: datetime, reason: str = "") -> Lifecycle:
    """Return the lifecycle moved to `to`; raise InvalidTransition for a move it does not allow."""
    if to is lifecycle.state:
        return lifecycle
    if to not in ALLOWED[lifecycle.state]:
        raise InvalidTransition(
            f"task {lifecycle.task_id} cannot go from {lifecycle.state.value} to {to.value}"
        )
    return replace(lifecycle, history=(*lifecycle.history, Entry(to, at, reason)))


def to_dict(lifecycle: Lifecycle) -> dict[str, Any]:
    """Return the JSON-ready form written to lifecycle.json."""
    return {
        "task_id": lifecycle.task_id,
        "state": lifecycle.state.value,
        "updated_at": lifecycle.updated_at.isoformat(),
        "history": [
            {"state": e.state.value, "at": e.at.isoformat(), "reason": e.reason}
            for e in lifecycle.history
        ],
    }


def from_dict(data: dict[str, Any]) -> Lifecycle:
    """Read the form `to_dict` wrote; ValueError (or KeyError) names what is wrong."""
    history = tuple(
        Entry(State(e["state"]), datetime.fromisoformat(e["at"]), str(e.get("reason", "")))
        for e in data["history"]
    )
    if not history:
        raise ValueError(f"lifecycle of {data.get('task_id')!r} has no history")
    return Lifecycle(str(data["task_id"]), history)

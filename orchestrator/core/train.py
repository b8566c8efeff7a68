"""A merge train: green PRs to one base merged together on a branch, tested once, landed at once.

When two or more agent PRs to one base are green in the same tick, Agent OS merges them onto the
base in order, with merge commits (so each PR's head stays an ancestor), on a branch
`agentos/train/<n>`; CI runs once on its head; when green, the base is fast-forwarded to it, and
GitHub records every PR in it as merged. When red, the train is bisected: its first half is tested
alone, and whichever half holds the culprit is split again, while each green part lands; the one
PR that breaks it alone is sent back with the failure.

This module decides; `review.trains` carries the decisions out and keeps the state. Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

from orchestrator.core.model import Check, CheckState

BRANCH_PREFIX = "agentos/train/"
MIN_CARS = 2  # fewer green PRs than this merge one by one: a train of one costs a CI run


@dataclass(frozen=True, slots=True)
class Car:
    """One PR in a train: its number, branch, the head it joined with, and its issue."""

    number: int
    branch: str
    sha: str
    issue: int


@dataclass(frozen=True, slots=True)
class Train:
    """A train on its way: `cars` are merged on its branch, `waiting` run in the next one.

    `suspect`: the train is a part of a red one, so even a single car is tested before it lands.
    `head_sha` is "" until the branch is pushed.
    """

    number: int
    base: str
    base_sha: str
    cars: tuple[Car, ...]
    head_sha: str = ""
    waiting: tuple[Car, ...] = ()
    suspect: bool = False
    started_at: str = ""  # ISO time its branch was pushed
    # A part of a red train: if it lands green, the first `doubt` waiting cars hold the culprit
    # (one: that car is it, no CI needed); `red_sha` is the red train's head, whose failed checks
    # a known culprit is sent back with.
    doubt: int = 0
    red_sha: str = ""

    @property
    def branch(self) -> str:
        return f"{BRANCH_PREFIX}{self.number}"

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(c.number for c in self.cars)


@dataclass(frozen=True, slots=True)
class TrainBuild:
    """A train's branch as built: the base it starts from, its head, which cars rode, which not."""

    base_sha: str
    head_sha: str
    merged: tuple[int, ...]
    conflicted: tuple[int, ...]  # their merge conflicted with the cars before them: left out


class Move(enum.Enum):
    WAIT = "wait"  # CI is running on the train's head
    LAND = "land"  # green: fast-forward the base to the train's head
    BISECT = "bisect"  # red with several cars: test the first half alone
    CULPRIT = "culprit"  # red with one suspect car: send it back with the failure
    ABANDON = "abandon"  # a car changed or left, the train's CI never came: merge by other means


@dataclass(frozen=True, slots=True)
class TrainStep:
    move: Move
    reason: str  # the word logs and tests share
    failed: tuple[Check, ...] = ()  # the red checks, for the culprit's fixing task


def judge(train: Train, checks: Sequence[Check], intact: bool, ci_overdue: bool) -> TrainStep:
    """Return what follows for a pushed train, from the checks on its head.

    `intact`: every car is still open at the head it joined with and still green on its own.
    `ci_overdue`: no check appeared on the head within the grace (no CI runs on train branches).
    """
    if not intact:
        return TrainStep(Move.ABANDON, "car_changed")
    failed = tuple(c for c in checks if c.state is CheckState.FAILURE)
    if failed:
        if len(train.cars) == 1:
            return TrainStep(Move.CULPRIT, "checks_failed", failed)
        return TrainStep(Move.BISECT, "checks_failed", failed)
    if not checks:
        return (
            TrainStep(Move.ABANDON, "no_ci_on_train")
            if ci_overdue
            else TrainStep(Move.WAIT, "no_checks")
        )
    if any(c.state is CheckState.PENDING for c in checks):
        return TrainStep(Move.WAIT, "checks_pending")
    if any(c.state is CheckState.SUCCESS for c in checks):
        return TrainStep(Move.LAND, "green")
    return (
        TrainStep(Move.ABANDON, "no_ci_on_train")
        if ci_overdue
        else TrainStep(Move.WAIT, "no_checks")
    )


def halves(train: Train) -> Train:
    """Return the next train of a red one: its first half, the rest waiting behind it."""
    half = max(1, len(train.cars) // 2)
    return replace(
        train,
        cars=train.cars[:half],
        waiting=train.cars[half:] + train.waiting,
        head_sha="",
        suspect=True,
        started_at="",
        doubt=len(train.cars) - half,
        red_sha=train.head_sha,
    )


def known_culprit(landed: Train) -> Car | None:
    """Return the car a green part's landing proves to be the culprit: the only other car of
    the red train it was split from (None when more than one may be)."""
    return landed.waiting[0] if landed.doubt == 1 and landed.waiting else None


def after(train: Train, number: int, base_sha: str, *, suspect: bool = True) -> Train | None:
    """Return the train that follows one that landed or lost its culprit: the waiting cars, on
    the new base. `suspect` after a green part landed (a red train's culprit is among them); not
    once the culprit is found, when fewer than MIN_CARS left merge one by one. None: none wait."""
    if not train.waiting or (not suspect and len(train.waiting) < MIN_CARS):
        return None
    return Train(number, train.base, base_sha, train.waiting, suspect=suspect)


def without_culprit(train: Train, culprit: Car) -> Train:
    """Return the train whose waiting cars no longer hold the known culprit (no doubt left)."""
    waiting = tuple(c for c in train.waiting if c.number != culprit.number)
    return replace(train, waiting=waiting, doubt=0)


def should_form(ready: Sequence[Car]) -> bool:
    """Tell whether the green PRs of one base make a train (else they merge one by one)."""
    return len(ready) >= MIN_CARS


def order(ready: Sequence[Car]) -> tuple[Car, ...]:
    """Return the cars in the order they are merged: oldest PR first (as one by one would)."""
    return tuple(sorted(ready, key=lambda c: c.number))


def dropped(train: Train, lost: Sequence[int]) -> Train:
    """Return the train without the cars whose merge conflicted on the branch."""
    gone = set(lost)
    return replace(train, cars=tuple(c for c in train.cars if c.number not in gone))

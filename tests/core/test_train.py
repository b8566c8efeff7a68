"""The merge train's decisions: when a train forms, what its checks lead to, how it is bisected."""

from __future__ import annotations

import pytest

from orchestrator.core import train
from orchestrator.core.model import Check, CheckState
from orchestrator.core.train import Car, Move, Train

CARS = tuple(Car(n, f"agent/{n}-x", f"sha{n}", 100 + n) for n in (3, 1, 2))
GREEN = Check("ci", CheckState.SUCCESS)
RED = Check("ci", CheckState.FAILURE, "FAILED test_x")
PENDING = Check("ci", CheckState.PENDING)
SKIPPED = Check("lint", CheckState.NEUTRAL)


def a_train(*numbers: int, suspect: bool = False) -> Train:
    cars = tuple(c for c in train.order(CARS) if c.number in numbers)
    return Train(7, "main", "base0", cars, head_sha="head7", suspect=suspect)


def test_two_green_prs_make_a_train_one_merges_alone() -> None:
    assert not train.should_form(CARS[:1]) and train.should_form(CARS[:2])


def test_cars_ride_oldest_pr_first() -> None:
    assert [c.number for c in train.order(CARS)] == [1, 2, 3]


def test_a_trains_branch_is_named_by_its_number() -> None:
    assert a_train(1, 2).branch == "agentos/train/7"


@pytest.mark.parametrize(
    "checks, intact, overdue, move, reason",
    [
        ([GREEN], True, False, Move.LAND, "green"),
        ([GREEN, SKIPPED], True, False, Move.LAND, "green"),
        ([GREEN, PENDING], True, False, Move.WAIT, "checks_pending"),
        ([], True, False, Move.WAIT, "no_checks"),
        ([], True, True, Move.ABANDON, "no_ci_on_train"),
        ([SKIPPED], True, True, Move.ABANDON, "no_ci_on_train"),  # nothing ran: not green
        ([GREEN, RED], True, False, Move.BISECT, "checks_failed"),
        ([RED, PENDING], True, False, Move.BISECT, "checks_failed"),  # red already: no wait
        ([GREEN], False, False, Move.ABANDON, "car_changed"),
        ([RED], False, False, Move.ABANDON, "car_changed"),
    ],
)
def test_a_pushed_train_is_judged_by_the_checks_on_its_head(
    checks: list[Check], intact: bool, overdue: bool, move: Move, reason: str
) -> None:
    step = train.judge(a_train(1, 2, 3), checks, intact, overdue)
    assert (step.move, step.reason) == (move, reason)


def test_a_red_train_of_one_names_its_culprit_with_the_failed_checks() -> None:
    step = train.judge(a_train(2, suspect=True), [GREEN, RED], True, False)
    assert step.move is Move.CULPRIT and step.failed == (RED,)


def test_bisecting_tests_the_first_half_and_keeps_the_rest_waiting_in_order() -> None:
    red = a_train(1, 2, 3)
    half = train.halves(red)
    assert [c.number for c in half.cars] == [1] and [c.number for c in half.waiting] == [2, 3]
    assert half.suspect and half.head_sha == "" and half.started_at == ""


def test_after_a_green_part_lands_the_waiting_cars_ride_next_still_suspect() -> None:
    half = train.halves(a_train(1, 2, 3))
    following = train.after(half, 8, "head-of-1")
    assert following is not None
    assert following.numbers == (2, 3) and following.base_sha == "head-of-1"
    assert following.suspect and following.number == 8 and following.waiting == ()
    assert train.after(a_train(1, 2), 9, "x") is None


def test_once_the_culprit_is_found_one_car_left_merges_alone_and_two_ride_on() -> None:
    one_left = train.halves(a_train(2, 3))  # [2] tested, [3] waits
    assert train.after(one_left, 9, "base0", suspect=False) is None
    two_left = train.halves(a_train(1, 2, 3))  # [1] tested, [2, 3] wait
    following = train.after(two_left, 9, "base0", suspect=False)
    assert following is not None and following.numbers == (2, 3) and not following.suspect


def replay(culprit: int, cars: tuple[int, ...]) -> tuple[list[int], list[int], list[int], int]:
    """Run a train of `cars` where `culprit` breaks any train it rides, to the end; return the
    PRs landed by train, merged alone, sent back, and the CI runs the trains cost."""
    landed: list[int] = []
    alone: list[int] = []
    culprits: list[int] = []
    runs = 0
    current: Train | None = a_train(*cars)
    number = 8
    while current is not None:
        runs += 1
        checks = [RED] if culprit in current.numbers else [GREEN]
        step = train.judge(current, checks, True, False)
        suspect = True
        if step.move is Move.LAND:
            landed += current.numbers
            known = train.known_culprit(current)
            if known is not None:  # proven by the landing: no CI run for it
                culprits.append(known.number)
                current, suspect = train.without_culprit(current, known), False
        elif step.move is Move.BISECT:
            current = train.halves(current)
            number += 1
            continue
        else:
            assert step.move is Move.CULPRIT
            culprits += current.numbers
            suspect = False
        following = train.after(current, number, "base", suspect=suspect)
        if following is None:  # one left, the culprit known: it merges alone
            alone += [c.number for c in current.waiting]
        current = following
        number += 1
    return landed, alone, culprits, runs


@pytest.mark.parametrize(
    "culprit, runs",
    [
        (1, 3),  # [1,2,3] red, [1] red: the culprit; [2,3] green, landed
        (2, 4),  # [1,2,3] red, [1] green, [2,3] red, [2] red: the culprit; 3 merges alone
        (3, 4),  # [1,2,3] red, [1] green, [2,3] red, [2] green: 3 is proven the culprit
    ],
)
def test_one_culprit_among_three_is_found_in_at_most_three_more_runs_and_the_others_merge(
    culprit: int, runs: int
) -> None:
    landed, alone, culprits, got_runs = replay(culprit, (1, 2, 3))
    assert culprits == [culprit] and got_runs == runs
    assert sorted(landed + alone) == sorted({1, 2, 3} - {culprit})


def test_a_green_part_of_a_red_pair_proves_the_other_the_culprit() -> None:
    red = a_train(2, 3)
    part = train.halves(red)
    assert part.doubt == 1 and part.red_sha == "head7"
    known = train.known_culprit(part)
    assert known is not None and known.number == 3
    assert train.known_culprit(train.halves(a_train(1, 2, 3))) is None  # two may hold it


def test_cars_whose_merge_conflicted_are_dropped() -> None:
    assert train.dropped(a_train(1, 2, 3), [2]).numbers == (1, 3)

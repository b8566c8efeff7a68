"""core.awaiting: the PR monitor's remembered decisions read back, and the review budget."""

from __future__ import annotations

import pytest

from orchestrator.core.awaiting import ReviewBudget, person_wait, phrase


@pytest.mark.parametrize(
    "signature, reason",
    [
        ("wait:blocked_by_branch_protection", "blocked_by_branch_protection"),
        ("wait:no_checks", "no_checks"),
        ("hold:dispatcher_only", "dispatcher_only"),
        ("wait:checks_pending", None),
        ("merge:green", None),
        ("restart:wedged_on_checks_pending", None),
        ("f" * 64, None),  # a long signature the memo kept as its digest
        ("nonsense:no_checks", None),
        ("", None),
        (None, None),
    ],
)
def test_a_remembered_decision_waits_for_a_person_or_not(
    signature: str | None, reason: str | None
) -> None:
    assert person_wait(signature) == reason


def test_each_wait_for_a_person_has_its_phrase() -> None:
    assert phrase("no_checks") == "no check reported on its head (require_checks)"
    assert phrase("risk_high") == "its risk tier is high: a person reviews and merges it"
    assert phrase("verifier_is_author") == "verifier is author"  # one without a phrase: plainly


@pytest.mark.parametrize(
    "budget, exhausted, detail",
    [
        (ReviewBudget(2), False, "0 PRs await review (max_awaiting_review 2)"),
        (ReviewBudget(2, (14,)), False, "1 PR awaits review (max_awaiting_review 2): #14"),
        (
            ReviewBudget(2, (14, 12)),
            True,
            "2 PRs await review (max_awaiting_review 2): #12, #14",
        ),
        (
            ReviewBudget(2, (12,), (20,)),
            True,
            "1 PR awaits review, 1 more on the way (max_awaiting_review 2): #12, issue #20 in "
            "progress",
        ),
        (
            ReviewBudget(5, unreadable="GitHub answered 502"),
            True,
            "the open PRs could not be read (GitHub answered 502)",
        ),
    ],
)
def test_a_review_budget_is_spent_by_the_prs_that_wait_for_a_person(
    budget: ReviewBudget, exhausted: bool, detail: str
) -> None:
    assert budget.exhausted() is exhausted
    assert budget.detail() == detail


def test_new_work_spends_the_budget_only_where_every_pr_waits_for_a_person() -> None:
    assert ReviewBudget(2, (12,), new_work_waits=True).exhausted(queued=1)
    assert not ReviewBudget(2, (12,)).exhausted(queued=1)

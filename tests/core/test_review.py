"""PR decisions, one table row per situation the PR monitor meets."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from orchestrator.core.model import Check, CheckState, PullRequest, Review
from orchestrator.core.review import Action, PullState, decide, wedged

T0 = datetime(2026, 11, 1, 12, 0)
PR = PullRequest(
    "acme/app",
    7,
    "Add greeting",
    "Closes #12",
    "agent/12-add-greeting",
    "main",
    "abc",
    "agentos-bot",
    True,
    False,
    False,
    True,
    "clean",
    "http://x/pull/7",
    T0,
    T0,
)
GREEN = (Check("sandbox-ci", CheckState.SUCCESS),)
RED = (Check("sandbox-ci", CheckState.FAILURE, "FAILED tests/test_greet.py::test_hello"),)
PENDING = (Check("sandbox-ci", CheckState.PENDING),)


def state(
    pr: PullRequest = PR,
    checks: tuple[Check, ...] = GREEN,
    reviews: tuple[Review, ...] = (),
    **kw: object,
) -> PullState:
    values: dict = dict(
        full_automation=True, fix_rounds=0, max_fix_rounds=3, bot_login="agentos-bot"
    )
    values.update(kw)
    return PullState(pr, checks, reviews, **values)


def review(author: str, verdict: str, minutes: int = 0, body: str = "") -> Review:
    return Review(author, verdict, body, T0 + timedelta(minutes=minutes))


CASES = [
    ("green and mergeable", state(), Action.MERGE, "green"),
    ("no checks at all", state(checks=()), Action.MERGE, "green"),
    (
        "neutral checks do not block",
        state(checks=(*GREEN, Check("lint", CheckState.NEUTRAL))),
        Action.MERGE,
        "green",
    ),
    ("dispatcher_only never merges", state(full_automation=False), Action.HOLD, "dispatcher_only"),
    (
        "dispatcher_only leaves red PRs to people",
        state(checks=RED, full_automation=False),
        Action.HOLD,
        "dispatcher_only",
    ),
    (
        "branch protection wants more",
        state(replace(PR, mergeable_state="blocked")),
        Action.WAIT,
        "blocked_by_branch_protection",
    ),
    (
        "no checks yet on a fresh push",
        state(checks=(), checks_grace_over=False),
        Action.WAIT,
        "awaiting_checks",
    ),
    ("checks pending", state(checks=PENDING), Action.WAIT, "checks_pending"),
    ("checks red", state(checks=RED), Action.FIX, "checks_failed"),
    (
        "red after the last fix round",
        state(checks=RED, fix_rounds=3),
        Action.ESCALATE,
        "checks_failed_after_3_fix_rounds",
    ),
    (
        "red while a fix runs",
        state(checks=RED, fix_in_progress=True),
        Action.WAIT,
        "fix_in_progress",
    ),
    (
        "conflict",
        state(pr=replace(PR, mergeable=False, mergeable_state="dirty")),
        Action.REBASE,
        "conflict",
    ),
    ("behind base", state(pr=replace(PR, mergeable_state="behind")), Action.REBASE, "behind"),
    (
        "mergeability still computing",
        state(pr=replace(PR, mergeable=None, mergeable_state="unknown")),
        Action.WAIT,
        "mergeability_unknown",
    ),
    (
        "human requests changes",
        state(reviews=(review("alice", "CHANGES_REQUESTED", body="rename it"),)),
        Action.FIX,
        "changes_requested",
    ),
    (
        "changes requested then approved",
        state(reviews=(review("alice", "CHANGES_REQUESTED"), review("alice", "APPROVED", 5))),
        Action.MERGE,
        "green",
    ),
    (
        "a comment review does not clear a request",
        state(reviews=(review("alice", "CHANGES_REQUESTED"), review("alice", "COMMENTED", 5))),
        Action.FIX,
        "changes_requested",
    ),
    (
        "our own review does not count",
        state(reviews=(review("agentos-bot", "CHANGES_REQUESTED"),)),
        Action.MERGE,
        "green",
    ),
    ("draft", state(pr=replace(PR, draft=True)), Action.WAIT, "draft"),
    ("closed", state(pr=replace(PR, is_open=False)), Action.WAIT, "not_open"),
]


@pytest.mark.parametrize("case, given, action, reason", CASES, ids=[c[0] for c in CASES])
def test_decide(case: str, given: PullState, action: Action, reason: str) -> None:
    decision = decide(given)
    assert (decision.action, decision.reason) == (action, reason)


def test_a_fix_carries_the_failed_output_and_the_review_comments() -> None:
    assert "test_hello" in decide(state(checks=RED)).detail
    assert (
        decide(state(reviews=(review("alice", "CHANGES_REQUESTED", body="rename it"),))).detail
        == "alice: rename it"
    )


def test_failed_output_is_trimmed_from_the_start() -> None:
    long = (Check("ci", CheckState.FAILURE, "x" * 10_000 + "THE END"),)
    detail = decide(state(checks=long)).detail
    assert len(detail) <= 3001 and detail.endswith("THE END")


NOW = T0 + timedelta(hours=5)


@pytest.mark.parametrize(
    "since, restarts, action",
    [
        (None, 0, Action.WAIT),
        (NOW - timedelta(hours=1), 0, Action.WAIT),
        (NOW - timedelta(hours=4), 0, Action.RESTART),
        (NOW - timedelta(hours=4), 1, Action.ESCALATE),
    ],
)
def test_a_pr_stuck_on_one_blocker_restarts_once_then_escalates(since, restarts, action) -> None:
    stuck = decide(state(checks=PENDING))
    assert wedged(stuck, since, NOW, 4, restarts).action is action


def test_merging_is_never_wedged() -> None:
    assert wedged(decide(state()), T0, NOW, 4, 0).action is Action.MERGE

"""PR decisions, one table row per situation the PR monitor meets."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from orchestrator.core.model import Check, CheckState, PullRequest, Review
from orchestrator.core.review import Action, Decision, PullState, decide, waits_for_person, wedged
from orchestrator.core.risk import RiskAssessment, Tier
from orchestrator.core.verifier import AWAITING, VerdictKind, VerifierVerdict

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
    ("no checks, no merge", state(checks=()), Action.WAIT, "no_checks"),
    (
        "no checks, and the repo does not require them",
        state(checks=(), require_checks=False),
        Action.MERGE,
        "green",
    ),
    (
        "no checks yet on a fresh push, checks not required",
        state(checks=(), checks_grace_over=False, require_checks=False),
        Action.WAIT,
        "awaiting_checks",
    ),
    (
        "branch protection blocks a PR with no checks",
        state(replace(PR, mergeable_state="blocked"), checks=()),
        Action.WAIT,
        "blocked_by_branch_protection",
    ),
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


@pytest.mark.parametrize(
    "given",
    [
        state(replace(PR, mergeable_state="blocked")),  # a required review, say
        state(checks=()),  # no checks: a person adds CI
        state(full_automation=False),  # dispatcher_only: a person merges
    ],
    ids=["blocked_by_branch_protection", "no_checks", "dispatcher_only"],
)
def test_a_pr_waiting_for_a_person_is_never_wedged(given: PullState) -> None:
    waiting = decide(given)
    assert waits_for_person(waiting)
    for restarts in (0, 1):
        assert wedged(waiting, T0, T0 + timedelta(days=30), 4, restarts) == waiting


@pytest.mark.parametrize(
    "decision, waits",
    [
        (Decision(Action.WAIT, "blocked_by_branch_protection"), True),
        (Decision(Action.WAIT, "no_checks"), True),
        (Decision(Action.HOLD, "dispatcher_only"), True),
        (Decision(Action.HOLD, "any_hold_to_come"), True),
        (Decision(Action.WAIT, "checks_pending"), False),
        (Decision(Action.WAIT, "awaiting_checks"), False),
        (Decision(Action.FIX, "no_checks"), False),
        (Decision(Action.MERGE, "green"), False),
    ],
)
def test_who_waits_for_a_person(decision: Decision, waits: bool) -> None:
    assert waits_for_person(decision) is waits


# -- the verifier (core/verifier.py): no verdict, no merge -----------------------------------------
APPROVED = VerifierVerdict(VerdictKind.APPROVE, "approved")
ASKED = VerifierVerdict(VerdictKind.REQUEST_CHANGES, "changes_requested", "- add a test for 0")


@pytest.mark.parametrize(
    "verdict, decision",
    [
        (None, Decision(Action.MERGE, "green")),  # no verifier for this repo
        (APPROVED, Decision(Action.MERGE, "green")),
        (AWAITING, Decision(Action.WAIT, "awaiting_verdict")),
        (
            VerifierVerdict(VerdictKind.NONE, "verifier_failed"),
            Decision(Action.WAIT, "verifier_failed"),
        ),
        (ASKED, Decision(Action.FIX, "verifier_changes_requested", "- add a test for 0")),
        (
            VerifierVerdict(VerdictKind.HOLD, "verifier_is_author", "- only the author"),
            Decision(Action.HOLD, "verifier_is_author", "- only the author"),
        ),
    ],
)
def test_a_green_pr_merges_only_with_the_verifiers_approval(verdict, decision: Decision) -> None:
    assert decide(state(verdict=verdict)) == decision


def test_the_verdict_is_asked_last_after_everything_else_is_green() -> None:
    assert decide(state(checks=RED, verdict=AWAITING)).reason == "checks_failed"
    assert decide(state(checks=PENDING, verdict=AWAITING)).reason == "checks_pending"
    assert decide(state(checks=(), verdict=AWAITING)).reason == "no_checks"


def test_the_verifiers_requests_escalate_once_the_fix_rounds_run_out() -> None:
    assert decide(state(verdict=ASKED, fix_rounds=3)) == Decision(
        Action.ESCALATE, "verifier_changes_requested_after_3_fix_rounds", "- add a test for 0"
    )


def test_a_held_pr_waits_for_a_person_and_is_never_wedged() -> None:
    held = decide(state(verdict=VerifierVerdict(VerdictKind.HOLD, "gate_not_passed")))
    assert waits_for_person(held)
    assert wedged(held, T0, T0 + timedelta(days=30), 4, 0) == held


# -- the risk tier (core/risk.py): high waits for a person, medium for the verifier, low merges ----
HIGH = RiskAssessment(Tier.HIGH, ("touches `auth/login.py`",))
MEDIUM = RiskAssessment(Tier.MEDIUM, ("changes code without touching a test",))
LOW = RiskAssessment(Tier.LOW)


@pytest.mark.parametrize(
    "risk, verdict, required, decision",
    [
        # high: a person decides, even in full mode, with or without a verifier or its approval
        (HIGH, None, False, Decision(Action.HOLD, "risk_high", HIGH.describe())),
        (HIGH, AWAITING, False, Decision(Action.HOLD, "risk_high", HIGH.describe())),
        (HIGH, APPROVED, True, Decision(Action.HOLD, "risk_high", HIGH.describe())),
        # medium: the verifier's approval; with none configured, as risk.medium_requires_verifier
        (MEDIUM, AWAITING, False, Decision(Action.WAIT, "awaiting_verdict")),
        (MEDIUM, APPROVED, True, Decision(Action.MERGE, "green")),
        (MEDIUM, ASKED, False, Decision(Action.FIX, "verifier_changes_requested", ASKED.text)),
        (MEDIUM, None, True, Decision(Action.HOLD, "risk_medium_unverified")),
        (MEDIUM, None, False, Decision(Action.MERGE, "green")),
        # low: merges on green; the verifier's verdict is not needed, nor waited for
        (LOW, AWAITING, True, Decision(Action.MERGE, "green")),
        (LOW, None, True, Decision(Action.MERGE, "green")),
        # not assessed: the verifier alone, as before tiers
        (None, AWAITING, True, Decision(Action.WAIT, "awaiting_verdict")),
    ],
)
def test_the_risk_tier_gates_a_green_pr(risk, verdict, required, decision: Decision) -> None:
    given = state(risk=risk, verdict=verdict, medium_requires_verifier=required)
    assert decide(given) == decision


def test_the_tier_is_asked_only_of_a_green_pr_and_its_holds_wait_for_a_person() -> None:
    assert decide(state(checks=RED, risk=HIGH)).reason == "checks_failed"
    assert decide(state(checks=PENDING, risk=HIGH)).reason == "checks_pending"
    assert decide(state(full_automation=False, risk=LOW)).reason == "dispatcher_only"
    for held in (state(risk=HIGH), state(risk=MEDIUM, medium_requires_verifier=True)):
        decision = decide(held)
        assert waits_for_person(decision)
        assert wedged(decision, T0, T0 + timedelta(days=30), 4, 1) == decision

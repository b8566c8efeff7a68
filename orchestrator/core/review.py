"""Decide what to do with an open agent PR: wait, merge, rebase, fix, restart, escalate."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.model import Check, CheckState, PullRequest, Review
from orchestrator.core.risk import RiskAssessment, Tier
from orchestrator.core.verifier import FIX_REASON, VerdictKind, VerifierVerdict

FAILED_OUTPUT_LIMIT = 3000


class Action(enum.Enum):
    WAIT = "wait"  # nothing to do yet: no comment, no noise
    MERGE = "merge"
    HOLD = "hold"  # green, but a human merges (dispatcher_only, high risk, the verifier held it)
    REBASE = "rebase"  # behind or conflicting: rebase in a scratch worktree
    FIX = "fix"  # a fixing task on the same branch
    RESTART = "restart"  # wedged: close the PR, delete the branch, issue back to Ready
    ESCALATE = "escalate"  # a human must look


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str  # the word logs, comments and tests share
    detail: str = ""  # failed checks' output, review comments: what a fixing task needs

    @property
    def signature(self) -> str:
        """What the PR is stuck on; the same signature for too long means the PR is wedged."""
        return f"{self.action.value}:{self.reason}"


@dataclass(frozen=True, slots=True)
class PullState:
    """Everything the decision needs about one PR, gathered by the job."""

    pr: PullRequest
    checks: tuple[Check, ...]
    reviews: tuple[Review, ...]
    full_automation: bool  # automation_mode == full
    fix_rounds: int  # fixing tasks already run for this PR
    max_fix_rounds: int
    fix_in_progress: bool = False  # a fixing task for this PR is queued or running
    bot_login: str = ""  # our own reviews never count as a human's
    checks_grace_over: bool = True  # False while a head with no checks at all may still get some
    require_checks: bool = True  # repos[].require_checks: no check at all is no merge
    verdict: VerifierVerdict | None = None  # the verifier's on this head; None: no verifier
    # what the deterministic checks settle on a head the model does not judge (review.screen):
    # a hold or changes; None: nothing (or not screened)
    screened: VerifierVerdict | None = None
    risk: RiskAssessment | None = None  # this head's tier (core.risk); None: not assessed
    medium_requires_verifier: bool = False  # risk.medium_requires_verifier


def decide(state: PullState) -> Decision:
    """Return the one thing to do with this PR now."""
    pr = state.pr
    if not pr.is_open:
        return Decision(Action.WAIT, "not_open")
    if not state.full_automation:
        return Decision(Action.HOLD, "dispatcher_only")  # a person reviews, fixes and merges
    if state.fix_in_progress:
        return Decision(Action.WAIT, "fix_in_progress")
    requested = _changes_requested(state.reviews, state.bot_login)
    if requested:
        return _fix(state, "changes_requested", requested)
    if pr.mergeable is None:
        return Decision(Action.WAIT, "mergeability_unknown")
    if pr.mergeable is False or pr.mergeable_state == "dirty":
        return Decision(Action.REBASE, "conflict")
    failed = [c for c in state.checks if c.state is CheckState.FAILURE]
    if failed:
        return _fix(state, "checks_failed", _describe(failed))
    if any(c.state is CheckState.PENDING for c in state.checks):
        return Decision(Action.WAIT, "checks_pending")
    if pr.mergeable_state == "blocked":
        # required reviews or checks: people's call
        return Decision(Action.WAIT, "blocked_by_branch_protection")
    if pr.mergeable_state == "behind":
        return Decision(Action.REBASE, "behind")
    if pr.draft:
        return Decision(Action.WAIT, "draft")
    if not state.checks and not state.checks_grace_over:
        # CI may not have reported on a fresh push yet
        return Decision(Action.WAIT, "awaiting_checks")
    if not state.checks and state.require_checks:
        return Decision(Action.WAIT, "no_checks")  # no checks, no merge: a person adds CI
    return _gate(state)


# Waits only a person can end (a review, a protection rule, CI to add): never wedged, since a
# restart cannot help; listed in the digest; counted against repos[].max_awaiting_review. Every
# HOLD is one too (dispatcher_only, the risk tier's, the verifier's): a new kind of wait joins
# the set, a new hold is a HOLD.
PERSON_WAITS = frozenset({"blocked_by_branch_protection", "no_checks"})


def waits_for_person(decision: Decision) -> bool:
    """Tell whether only a person can move this PR on."""
    return decision.action is Action.HOLD or (
        decision.action is Action.WAIT and decision.reason in PERSON_WAITS
    )


def _gate(state: PullState) -> Decision:
    """Return what a green PR gets from its risk tier and the verifier.

    High waits for a person, even in full mode; a head the verifier's deterministic checks
    settled (`screened`) is held or sent back, whatever its tier; medium needs the verifier's
    approval (with no verifier configured it merges, or with `medium_requires_verifier` waits
    for a person); low merges on green, the model not asked. Not assessed: the verifier alone
    decides, as before.
    """
    risk = state.risk
    tier = risk.tier if risk is not None else None
    if risk is not None and tier is Tier.HIGH:
        return Decision(Action.HOLD, "risk_high", risk.describe())  # a person decides
    if state.screened is not None:
        return _unverified(state, state.screened)  # held, or tests to restore: before any merge
    if tier is Tier.MEDIUM and state.verdict is None and state.medium_requires_verifier:
        return Decision(Action.HOLD, "risk_medium_unverified")  # fail closed: no verifier here
    verdict = None if tier is Tier.LOW else state.verdict
    if verdict is not None and verdict.kind is not VerdictKind.APPROVE:
        return _unverified(state, verdict)  # no verdict, no merge
    return Decision(Action.MERGE, "green")


def _unverified(state: PullState, verdict: VerifierVerdict) -> Decision:
    """Return what a green head the verifier did not approve gets: its fixing round, a hold for a
    person, or a wait for the verdict."""
    if verdict.kind is VerdictKind.REQUEST_CHANGES:
        return _fix(state, FIX_REASON, verdict.text)
    action = Action.HOLD if verdict.kind is VerdictKind.HOLD else Action.WAIT
    return Decision(action, verdict.reason, verdict.text)


def _fix(state: PullState, reason: str, detail: str) -> Decision:
    if state.fix_rounds >= state.max_fix_rounds:
        return Decision(Action.ESCALATE, f"{reason}_after_{state.fix_rounds}_fix_rounds", detail)
    return Decision(Action.FIX, reason, detail)


def _changes_requested(reviews: tuple[Review, ...], bot_login: str) -> str:
    """Return the comments of reviewers whose latest verdict is CHANGES_REQUESTED."""
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda r: r.submitted_at or datetime.min):
        if review.author != bot_login and review.state in (
            "APPROVED",
            "CHANGES_REQUESTED",
            "DISMISSED",
        ):
            latest[review.author] = review
    asks = [
        f"{r.author}: {r.body.strip() or '(no comment)'}"
        for r in latest.values()
        if r.state == "CHANGES_REQUESTED"
    ]
    return "\n".join(asks)


def _describe(failed: list[Check]) -> str:
    parts = [f"{c.name}: {c.summary.strip()}" if c.summary.strip() else c.name for c in failed]
    text = "\n\n".join(parts)
    return text if len(text) <= FAILED_OUTPUT_LIMIT else "…" + text[-FAILED_OUTPUT_LIMIT:]


def wedged(
    decision: Decision, since: datetime | None, now: datetime, limit_hours: float, restarts: int
) -> Decision:
    """Turn a decision stuck on a signature for `limit_hours` into one restart, then escalation.

    A PR waiting for a person is never wedged: it waits as long as they take (the digest lists it).
    """
    if decision.action is Action.MERGE or waits_for_person(decision) or since is None:
        return decision
    if now - since < timedelta(hours=limit_hours):
        return decision
    if restarts == 0:
        return Decision(Action.RESTART, f"wedged_on_{decision.reason}", decision.detail)
    return Decision(Action.ESCALATE, f"wedged_again_on_{decision.reason}", decision.detail)

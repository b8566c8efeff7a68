"""The verifier's verdicts on GitHub: read back from a head's `agentos/verifier` status, posted as
that status plus a review, remembered in the PR monitor's memo.

A verdict is asked once per head commit. GitHub keeps it: the commit status on the head (success
approves, failure requests changes, error holds for a person), with the review that says why,
linked from the status. Without a second identity (`review.token`) the review is a COMMENT
(GitHub refuses APPROVE and REQUEST_CHANGES from the pull request's author, which Agent OS is);
with one, it is a real APPROVE or REQUEST_CHANGES by that identity. The memo keeps the verdict's
text (what a fixing task is given) and the model's failures with their backoff: 5, 10, 20, 40
minutes, then the PR waits for a person until its head changes. Losing the memo costs one more
question to the model, never a merge without a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from orchestrator.config.model import RepoConfig
from orchestrator.core.model import Check, PullRequest, Review
from orchestrator.core.verifier import (
    AWAITING,
    CONTEXT,
    FIX_REASON,
    VerdictKind,
    VerifierVerdict,
    from_status,
    is_verdict,
    review_body,
    status_for,
)
from orchestrator.deps import Deps
from orchestrator.errors import ReviewRefused
from orchestrator.store.memo import Memo

MEMO = "verifier"  # the PR monitor's memo section: repo#number -> this head's verdict or failures
AUTHOR = "agentos-verifier"  # who the fixing task is told asked for the changes
RETRY_MINUTES = 5
MAX_FAILURES = 5


@dataclass(frozen=True, slots=True)
class Kept:
    """What the memo keeps about one PR's head."""

    sha: str = ""
    kind: str = ""  # a VerdictKind value once the verdict is known
    reason: str = ""
    text: str = ""
    by: str = ""
    failures: int = 0
    next_try: str = ""  # ISO time before which a failed model is not asked again


def recorded(
    repo: RepoConfig, pr: PullRequest, checks: Sequence[Check], now: datetime, memo: Memo
) -> tuple[tuple[Check, ...], VerifierVerdict | None]:
    """Return the head's checks without the verifier's own status, and the verdict known on this
    head: None when the repo has no verifier, AWAITING when it is still to be asked."""
    others = tuple(c for c in checks if c.name != CONTEXT)
    if not repo.review.enabled:
        return others, None
    kept = _kept(memo, pr)
    status = next((from_status(c) for c in checks if c.name == CONTEXT), None)
    if status is not None and status.kind is not VerdictKind.REQUEST_CHANGES:
        return others, replace(status, text=kept.text, by=kept.by)
    if status is not None and kept.kind == status.kind.value and kept.text:
        return others, replace(status, text=kept.text, by=kept.by)  # its reasons, for the fix
    return others, _after_failures(kept, now) or AWAITING


def known(pr: PullRequest, memo: Memo) -> VerifierVerdict | None:
    """Return the verdict the memo holds for this head and GitHub may lack (a post that failed)."""
    kept = _kept(memo, pr)
    if kept.kind not in {kind.value for kind in VerdictKind}:
        return None
    return VerifierVerdict(VerdictKind(kept.kind), kept.reason, kept.text, kept.by)


def publish(
    deps: Deps, pr: PullRequest, verdict: VerifierVerdict, memo: Memo, judge: str
) -> VerifierVerdict:
    """Remember the verdict, then post its review and the head's status; return it."""
    kept = Kept(pr.head_sha, verdict.kind.value, verdict.reason, verdict.text, verdict.by)
    _keep(memo, pr, kept)
    url = _review(deps, pr, verdict, review_body(verdict, pr.head_sha, judge))
    deps.tracker.create_status(pr.repo, pr.head_sha, status_for(verdict, url))
    deps.log.info(
        "pr.verified",
        extra={
            "pr": pr.number,
            "repo": pr.repo,
            "sha": pr.head_sha[:12],
            "verdict": verdict.kind.value,
            "reason": verdict.reason,
            "backend": judge or None,
        },
    )
    return verdict


def failed(
    deps: Deps, pr: PullRequest, judge: str, error: str, now: datetime, memo: Memo
) -> VerifierVerdict:
    """Count a model's failure on this head; return the wait (or, past MAX_FAILURES, the hold)."""
    failures = _kept(memo, pr).failures + 1
    retry = now + timedelta(minutes=RETRY_MINUTES * 2 ** (failures - 1))
    kept = Kept(pr.head_sha, failures=failures, next_try=retry.isoformat())
    _keep(memo, pr, kept)
    deps.log.warning(
        "verifier.failed",
        extra={
            "pr": pr.number,
            "repo": pr.repo,
            "backend": judge,
            "error": error[:200],
            "failures": failures,
            "next_try": retry.isoformat(),
        },
    )
    return _after_failures(kept, now) or AWAITING


def of_people(reviews: Sequence[Review]) -> list[Review]:
    """Return the reviews that are not the verifier's own (those are its verdicts, read from the
    head's status: never a person's review, whoever's identity posted them)."""
    return [r for r in reviews if not is_verdict(r.body)]


def as_reviews(reason: str, detail: str) -> list[Review]:
    """Return the verifier's request for changes as the review a fixing task answers ([] for any
    other reason)."""
    if reason != FIX_REASON:
        return []
    return [Review(AUTHOR, "CHANGES_REQUESTED", detail or "(no reason given)", None)]


def _review(deps: Deps, pr: PullRequest, verdict: VerifierVerdict, body: str) -> str:
    """Post the review: a real verdict by the second identity when there is one, else a COMMENT."""
    event = {VerdictKind.APPROVE: "APPROVE", VerdictKind.REQUEST_CHANGES: "REQUEST_CHANGES"}
    reviewer = deps.reviewer
    if reviewer is None:
        return deps.tracker.create_review(pr, "COMMENT", body)
    try:
        return reviewer.create_review(pr, event.get(verdict.kind, "COMMENT"), body)
    except ReviewRefused as error:  # review.token is the PR's author too: say so, and comment
        deps.log.warning(
            "verifier.review_refused", extra={"pr": pr.number, "error": str(error)[:200]}
        )
        return deps.tracker.create_review(pr, "COMMENT", body)


def _after_failures(kept: Kept, now: datetime) -> VerifierVerdict | None:
    """Return the wait a failing model leaves (a hold past MAX_FAILURES); None: ask it now."""
    if kept.failures >= MAX_FAILURES:
        text = f"- the verifier failed {kept.failures} times on this head; a person reviews it"
        return VerifierVerdict(VerdictKind.HOLD, "verifier_failed", text)
    if kept.failures and now < datetime.fromisoformat(kept.next_try):
        return VerifierVerdict(VerdictKind.NONE, "verifier_failed")
    return None


def _kept(memo: Memo, pr: PullRequest) -> Kept:
    raw = memo.get(MEMO, f"{pr.repo}#{pr.number}")
    try:
        data = json.loads(raw) if raw else {}
        kept = Kept(**data) if isinstance(data, dict) else Kept()
        datetime.fromisoformat(kept.next_try or "2000-01-01T00:00:00+00:00")
    except (TypeError, ValueError):  # an older or damaged entry: as if there were none
        return Kept()
    usable = isinstance(kept.failures, int) and all(
        isinstance(getattr(kept, k), str) for k in Kept.__dataclass_fields__ if k != "failures"
    )
    return kept if usable and kept.sha == pr.head_sha else Kept()


def _keep(memo: Memo, pr: PullRequest, kept: Kept) -> None:
    value = json.dumps({k: getattr(kept, k) for k in Kept.__dataclass_fields__}, sort_keys=True)
    memo.changed(MEMO, f"{pr.repo}#{pr.number}", value, digest=False)

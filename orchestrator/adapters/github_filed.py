"""Read back what Agent OS filed itself: its labelled issues, open or recently closed, and the
merged pull request that closed one. Only GitHub's payload shapes for these are read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from orchestrator.adapters.github_normalize import Json, is_pull_request, text, timestamp
from orchestrator.core.model import FiledIssue, IssueRef


def since_param(closed_since: datetime) -> str:
    """Return `closed_since` as GitHub's `since` (UTC, whole seconds rounded down: a superset).

    `since` filters on `updated_at`, which is never before `closed_at`, so every issue closed at
    or after `closed_since` is in the closed listing; `filed` then keeps them by `closed_at`.
    """
    if closed_since.tzinfo is None:
        raise ValueError("closed_since must be timezone-aware")
    return closed_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_filed(raw: Json) -> FiledIssue:
    """Return an issue payload as a FiledIssue."""
    closed = raw.get("closed_at")
    return FiledIssue(
        number=int(raw["number"]),
        title=text(raw.get("title")).strip(),
        body=text(raw.get("body")),
        is_open=raw.get("state") == "open",
        closed_at=timestamp(closed) if closed and raw.get("state") != "open" else None,
        state_reason=raw.get("state_reason") or None,
    )


def filed(raws: Iterable[Json], closed_since: datetime) -> list[FiledIssue]:
    """Keep the issues (not pull requests) that are open or were closed at or after the date.

    Each once (an issue closed between the two listings may be in both), newest first.
    """
    found = {
        issue.number: issue
        for issue in map(normalize_filed, (raw for raw in raws if not is_pull_request(raw)))
        if issue.is_open or (issue.closed_at is not None and issue.closed_at >= closed_since)
    }
    return [found[number] for number in sorted(found, reverse=True)]


def closing_pull(data: Json, ref: IssueRef) -> int | None:
    """Return the merged pull request of `ref`'s repository that closed it (IssueCloser's answer).

    None when the issue is open, its last ClosedEvent has no closer (closed by hand), the closer
    is a commit or a board, the pull request was not merged, or it lives in another repository
    (its number alone would name the wrong one).
    """
    issue = (data.get("repository") or {}).get("issue") or {}
    if issue.get("state") != "CLOSED":
        return None
    events = (issue.get("timelineItems") or {}).get("nodes") or []
    closer = (events[-1] or {}).get("closer") if events else None
    if not closer or closer.get("__typename") != "PullRequest" or not closer.get("merged"):
        return None
    where = text((closer.get("repository") or {}).get("nameWithOwner"))
    return int(closer["number"]) if where.lower() == ref.repo.lower() else None

"""Turn GitHub's REST JSON into core.model values; only here are GitHub's payload shapes read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from orchestrator.core.model import (
    Check,
    CheckState,
    Comment,
    Issue,
    IssueRef,
    LabelEvent,
    Permission,
    PullRequest,
    Review,
)

Json = Mapping[str, Any]

# GitHub shows deleted accounts as the "ghost" user; the API sends null.
GHOST = "ghost"
_API_REPO = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)$")
_HTML_ISSUE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/(?:issues|pull)/(?P<number>\d+)$")
_ROLES = {
    "admin": Permission.ADMIN,
    "maintain": Permission.MAINTAIN,
    "write": Permission.WRITE,
    "triage": Permission.TRIAGE,
    "read": Permission.READ,
    "none": Permission.NONE,
}
_RUN_CONCLUSIONS = {
    "success": CheckState.SUCCESS,
    "neutral": CheckState.NEUTRAL,
    "skipped": CheckState.NEUTRAL,
}
_STATUS_STATES = {"success": CheckState.SUCCESS, "pending": CheckState.PENDING}


def timestamp(value: object) -> datetime:
    """Return GitHub's ISO 8601 time (`2026-05-01T10:00:03Z`) as an aware datetime."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def login(user: object) -> str:
    """Return a user object's login, trimmed and lower-cased (`ghost` when GitHub sends null)."""
    name = user.get("login") if isinstance(user, Mapping) else None
    return str(name).strip().lower() if name else GHOST


def label_name(label: object) -> str:
    """Return a label (an object or, in some payloads, a string) as a trimmed lower-case name."""
    name = label.get("name") if isinstance(label, Mapping) else label
    return str(name or "").strip().lower()


def text(value: object) -> str:
    """Return an optional string field, with "" for null."""
    return "" if value is None else str(value)


def issue_ref(raw: Json) -> IssueRef:
    """Return owner/name#N for an issue payload, from `repository_url` or else `html_url`."""
    found = _API_REPO.search(text(raw.get("repository_url")))
    if found:
        return IssueRef(found.group("repo"), int(raw["number"]))
    found = _HTML_ISSUE.search(text(raw.get("html_url")))
    if found:
        return IssueRef(found.group("repo"), int(found.group("number")))
    raise ValueError(f"issue payload #{raw.get('number')} names no repository")


def is_pull_request(raw: Json) -> bool:
    """Return whether an issue payload is a pull request (the issues API lists both)."""
    return raw.get("pull_request") is not None


def normalize_issue(raw: Json) -> Issue:
    """Return an issue (or a pull request seen through the issues API) as a model value."""
    labels = tuple(dict.fromkeys(n for n in map(label_name, raw.get("labels") or ()) if n))
    return Issue(
        ref=issue_ref(raw),
        id=int(raw["id"]),
        node_id=text(raw.get("node_id")),
        title=text(raw.get("title")).strip(),
        body=text(raw.get("body")),
        author=login(raw.get("user")),
        labels=labels,
        is_open=raw.get("state") == "open",
        created_at=timestamp(raw["created_at"]),
        updated_at=timestamp(raw["updated_at"]),
        state_reason=raw.get("state_reason") or None,
        is_pull_request=is_pull_request(raw),
    )


def normalize_comment(raw: Json) -> Comment:
    """Return an issue comment."""
    return Comment(
        id=int(raw["id"]),
        author=login(raw.get("user")),
        body=text(raw.get("body")),
        created_at=timestamp(raw["created_at"]),
    )


def label_events(raws: Iterable[Json]) -> list[LabelEvent]:
    """Return the labeled/unlabeled events among an issue's events, oldest first."""
    found = [
        LabelEvent(
            label=label_name(raw.get("label")),
            actor=login(raw.get("actor")),
            added=raw["event"] == "labeled",
            created_at=timestamp(raw["created_at"]),
        )
        for raw in raws
        if raw.get("event") in ("labeled", "unlabeled")
    ]
    # stable: same-second events keep GitHub's order
    return sorted(found, key=lambda event: event.created_at)


def last_edit(data: Json) -> datetime | None:
    """Return the later of an issue's last body and title edits, as IssueEdits reads them."""
    issue = (data.get("repository") or {}).get("issue") or {}
    renames = (issue.get("timelineItems") or {}).get("nodes") or []
    times = [issue.get("lastEditedAt"), *(node.get("createdAt") for node in renames if node)]
    return max((timestamp(t) for t in times if t), default=None)


def normalize_permission(raw: Json) -> Permission:
    """Return a collaborator's permission from `role_name`.

    For custom roles, it comes from the legacy `permission` instead.
    """
    return _ROLES.get(text(raw.get("role_name")).lower()) or _ROLES.get(
        text(raw.get("permission")).lower(), Permission.NONE
    )


def normalize_pull(raw: Json) -> PullRequest:
    """Return a pull request; list payloads lack mergeability, which then reads as unknown."""
    head, base = raw.get("head") or {}, raw.get("base") or {}
    mergeable = raw.get("mergeable")
    return PullRequest(
        repo=_pull_repo(raw),
        number=int(raw["number"]),
        title=text(raw.get("title")).strip(),
        body=text(raw.get("body")),
        head=text(head.get("ref")),
        base=text(base.get("ref")),
        head_sha=text(head.get("sha")),
        author=login(raw.get("user")),
        is_open=raw.get("state") == "open",
        merged=bool(raw.get("merged") or raw.get("merged_at")),
        draft=bool(raw.get("draft")),
        mergeable=None if mergeable is None else bool(mergeable),
        mergeable_state=text(raw.get("mergeable_state")) or "unknown",
        url=text(raw.get("html_url")),
        created_at=timestamp(raw["created_at"]),
        updated_at=timestamp(raw["updated_at"]),
    )


def is_own_branch(raw: Json) -> bool:
    """Return whether a pull request comes from a branch of its own repository.

    A fork's branch of the same name does not count.
    """
    head, base = raw.get("head") or {}, raw.get("base") or {}
    return bool(
        (head.get("repo") or {}).get("full_name") == (base.get("repo") or {}).get("full_name")
    )


def _pull_repo(raw: Json) -> str:
    """Return the repository a pull request merges into (its base), else the one in its html_url."""
    full_name = ((raw.get("base") or {}).get("repo") or {}).get("full_name")
    found = _HTML_ISSUE.search(text(raw.get("html_url")))
    if full_name or found is None:
        return text(full_name)
    return found.group("repo")


def normalize_review(raw: Json) -> Review:
    """Return a pull request review; a pending review has no `submitted_at`."""
    submitted = raw.get("submitted_at")
    return Review(
        author=login(raw.get("user")),
        state=text(raw.get("state")).upper(),
        body=text(raw.get("body")),
        submitted_at=timestamp(submitted) if submitted else None,
    )


def check_run_state(status: str, conclusion: str | None) -> CheckState:
    """Map a check run's status and conclusion to a CheckState.

    Any conclusion not known to pass or be neutral fails.
    """
    if status != "completed":
        return CheckState.PENDING  # queued, in_progress, waiting, requested, pending
    return _RUN_CONCLUSIONS.get(conclusion or "", CheckState.FAILURE)


def status_state(state: str) -> CheckState:
    """Map a commit status state: success, pending, and failure or error (both FAILURE)."""
    return _STATUS_STATES.get(state, CheckState.FAILURE)


def normalize_check_run(raw: Json) -> Check:
    """Return a check run as a Check; its summary is the output's title, else its summary."""
    output = raw.get("output") or {}
    summary = text(output.get("title") or output.get("summary")).strip()
    url = raw.get("details_url") or raw.get("html_url") or None
    return Check(
        name=text(raw.get("name")),
        state=check_run_state(text(raw.get("status")), raw.get("conclusion")),
        summary=summary,
        url=url,
        text=text(output.get("text")),
        run_id=int(raw["id"]),
        annotations=int(output.get("annotations_count") or 0),
        job=job_of(raw, url),
    )


_JOB = re.compile(r"/actions/runs/\d+/job/(\d+)(?:[/?#]|$)")


def job_of(raw: Json, url: str | None) -> int | None:
    """Return the GitHub Actions job a check run reports: the one its URL names
    (…/actions/runs/R/job/J), else, for the github-actions app, the run's own id (an Actions
    check run shares its job's id, and REST links it as …/runs/ID); None for other apps."""
    found = _JOB.search(url or "")
    if found:
        return int(found.group(1))
    return int(raw["id"]) if app_slug(raw) == "github-actions" else None


def app_slug(raw: Json) -> str:
    """Return the slug of the app that made a check run ("" when not given)."""
    app = raw.get("app")
    return text(app.get("slug")) if isinstance(app, Mapping) else ""


def normalize_status(raw: Json) -> Check:
    """Return a commit status as a Check named by its context."""
    return Check(
        name=text(raw.get("context")),
        state=status_state(text(raw.get("state"))),
        summary=text(raw.get("description")).strip(),
        url=raw.get("target_url") or None,
    )


def newest_checks(check_runs: Iterable[Json], statuses: Iterable[Json]) -> list[Check]:
    """Return one Check per name, sorted: the newest check run or commit status carrying it."""
    newest: dict[str, tuple[tuple[datetime, int], Check]] = {}
    timed = [((_run_time(raw), int(raw["id"])), normalize_check_run(raw)) for raw in check_runs]
    timed += [
        (
            (timestamp(raw.get("updated_at") or raw["created_at"]), int(raw["id"])),
            normalize_status(raw),
        )
        for raw in statuses
    ]
    for when, check in timed:
        if check.name not in newest or when > newest[check.name][0]:
            newest[check.name] = (when, check)
    return [newest[name][1] for name in sorted(newest)]


def _run_time(raw: Json) -> datetime:
    """Return when a check run last changed: completed, else started.

    Queued runs may have neither.
    """
    stamp = raw.get("completed_at") or raw.get("started_at")
    return timestamp(stamp) if stamp else datetime.min.replace(tzinfo=UTC)

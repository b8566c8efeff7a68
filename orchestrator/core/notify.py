"""Notifications as values: what the operator is told (a task started, a PR merged, an escalation).

Jobs build these and hand them to the `Notifier` port; the outbox stores them as records and
the Telegram flush renders a batch of them into as few chat messages as it can
(`core.batching`). Text fields are plain text: renderers escape or send them as they are.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any

from orchestrator.core.model import IssueRef

MAX_TEXT = 300  # one line in the chat: longer text is cut at a word boundary when stored
MAX_DETAIL = 1500  # the detail under it (a reason, an error): a few lines at most
MAX_DIGEST = 3500  # a digest's body: one whole chat message (Telegram's limit is 4,096)


class Kind(enum.Enum):
    """What happened; the value is the word logs, records and tests share."""

    TASK_STARTED = "task_started"
    PR_OPENED = "pr_opened"
    MERGED = "merged"
    ESCALATED = "escalated"  # needs a human: carries the issue and task so buttons can act
    TASK_FAILED = "task_failed"
    JOB_CRASHED = "job_crashed"
    CREDENTIALS_REFUSED = "credentials_refused"  # a service refused its token: nothing runs
    DIGEST = "digest"  # the daily digest: its detail is a whole message, sent as it is
    PLAN = "plan"  # a proposed sprint: its planning issue and plan id, for Approve / Skip
    INFO = "info"

    @property
    def icon(self) -> str:
        return _ICONS[self]


_ICONS = {
    Kind.TASK_STARTED: "🚀",
    Kind.PR_OPENED: "📬",
    Kind.MERGED: "✅",
    Kind.ESCALATED: "🛑",
    Kind.TASK_FAILED: "❌",
    Kind.JOB_CRASHED: "💥",
    Kind.CREDENTIALS_REFUSED: "🔑",
    Kind.DIGEST: "📊",
    Kind.PLAN: "🗺️",
    Kind.INFO: "ℹ️",
}


BUTTONED = (Kind.ESCALATED, Kind.PLAN)  # notes whose message carries buttons


@dataclass(frozen=True, slots=True)
class Notification:
    """One event for the operator. An escalation must name its issue and task."""

    kind: Kind
    text: str  # one line: "acme/app#12 Add login: PR #40 opened"
    issue: IssueRef | None = None
    task_id: str | None = None
    url: str | None = None
    detail: str = ""  # why, or the error: shown under the line
    job: str | None = None  # the job that crashed or was refused

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a notification needs a text")
        if self.kind in BUTTONED and (self.issue is None or not self.task_id):
            raise ValueError(
                "an escalation or a plan needs the issue and the task id, so its buttons can act"
            )


def task_started(issue: IssueRef, task_id: str, title: str, agent: str = "") -> Notification:
    """Return the notification for an agent starting on an issue."""
    by = f" ({agent})" if agent else ""
    return Notification(Kind.TASK_STARTED, f"{issue} {title}: started{by}", issue, task_id)


def pr_opened(issue: IssueRef, task_id: str, title: str, pr: int, url: str) -> Notification:
    """Return the notification for a pull request opened for an issue."""
    return Notification(Kind.PR_OPENED, f"{issue} {title}: PR #{pr} opened", issue, task_id, url)


def merged(issue: IssueRef, title: str, pr: int, url: str) -> Notification:
    """Return the notification for a pull request merged (its issue closes)."""
    return Notification(Kind.MERGED, f"{issue} {title}: PR #{pr} merged", issue, url=url)


def escalated(
    issue: IssueRef, task_id: str, title: str, reason: str, url: str | None = None
) -> Notification:
    """Return the escalation of a task that needs a human.

    Its message carries Retry / Close buttons.
    """
    return Notification(Kind.ESCALATED, f"{issue} {title}: needs you", issue, task_id, url, reason)


def task_failed(issue: IssueRef, task_id: str, title: str, reason: str) -> Notification:
    """Return the notification for a task that failed (attempts remain or not)."""
    return Notification(Kind.TASK_FAILED, f"{issue} {title}: failed", issue, task_id, detail=reason)


def job_crashed(job: str, error: str) -> Notification:
    """Return the notification for a job tick that crashed."""
    return Notification(Kind.JOB_CRASHED, f"job {job} crashed", detail=error, job=job)


def file_set_aside(file: str, reason: str, moved_to: str) -> Notification:
    """Return the one notification for a damaged runtime file moved to runtime/quarantine/."""
    return Notification(
        Kind.INFO,
        f"runtime file set aside: {file}",
        detail=(
            f"{reason}. Moved to {moved_to}; Agent OS carries on without it: look at it, then "
            "delete it or put a repaired copy back; see docs/operations.md."
        ),
    )


def credentials_refused(service: str, job: str, detail: str) -> Notification:
    """Return the one notification for a service refusing its credential (`github`).

    Sent once until a tick of that service succeeds again, not once per tick.
    """
    name = SERVICES.get(service, service)
    return Notification(
        Kind.CREDENTIALS_REFUSED,
        f"{name} refused Agent OS's token (job {job}); fix it, then run agentos doctor",
        detail=detail,
        job=job,
    )


def digest(text: str) -> Notification:
    """Return the daily digest (`core.digest`) as one note: its first line, the rest under it.

    Unlike other notes, its detail is kept and shown whole (`MAX_DIGEST`), not cut to a few lines.
    """
    head, _, body = text.strip().partition("\n")
    return Notification(Kind.DIGEST, head, detail=body.strip("\n"))


def plan(issue: IssueRef, plan_id: str, text: str, detail: str) -> Notification:
    """Return a proposed sprint (`improve.planner`): shown whole, with Approve / Skip buttons.

    `issue` is the planning issue the plan is posted on; `plan_id` is what the buttons act on.
    """
    return Notification(Kind.PLAN, text, issue, plan_id, detail=detail)


SERVICES = {"github": "GitHub", "telegram": "Telegram"}  # how texts name a service


def shorten(text: str, limit: int) -> str:
    """Return `text` cut to `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def to_record(note: Notification) -> dict[str, Any]:
    """Return the note as a JSON-ready mapping (what the outbox stores), long text shortened."""
    record: dict[str, Any] = {"kind": note.kind.value, "text": shorten(note.text, MAX_TEXT)}
    if note.issue is not None:
        record["issue"] = {"repo": note.issue.repo, "number": note.issue.number}
    for name in ("task_id", "url", "job"):
        if getattr(note, name):
            record[name] = getattr(note, name)
    if note.detail:
        limit = MAX_DIGEST if note.kind in (Kind.DIGEST, Kind.PLAN) else MAX_DETAIL
        record["detail"] = shorten(note.detail, limit)
    return record


def from_record(record: Any) -> Notification:
    """Rebuild a note from `to_record`'s mapping; ValueError names what is wrong."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a mapping, got {type(record).__name__}")
    try:
        kind = Kind(record.get("kind"))
    except ValueError:
        raise ValueError(f"unknown notification kind {record.get('kind')!r}") from None
    issue = record.get("issue")
    ref = None
    if issue is not None:
        if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
            raise ValueError(f"bad issue {issue!r}")
        ref = IssueRef(str(issue.get("repo")), issue["number"])
    return Notification(
        kind,
        str(record.get("text", "")),
        ref,
        _text(record, "task_id"),
        _text(record, "url"),
        str(record.get("detail", "")),
        _text(record, "job"),
    )


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if value is None else str(value)


def action_token(task_id: str) -> str:
    """Return the short, stable token an escalation's buttons carry for its task.

    Telegram's callback data holds at most 64 bytes.
    """
    return hashlib.sha256(task_id.encode("utf-8")).hexdigest()[:16]

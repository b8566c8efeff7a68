"""Why an agent run failed, read from what it printed, and when a quota it hit resets.

Used on the error text of a run that did not finish (a CLI's error result, a command's last
lines): a quota or rate limit, bad credentials, a prompt too large, or the model API failing.
Reset times come in the shapes the CLIs and APIs print them: an ISO timestamp, Claude's
`limit reached|<epoch>`, "resets 3pm (Europe/Berlin)", "try again in 2 hours 5 minutes".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.core.agent import OutcomeKind

_TOO_LARGE = re.compile(
    r"prompt is too long|argument list too long|context[_ ]length[_ ]exceeded"
    r"|maximum context length|request_too_large|input is too long",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"\b401\b|unauthori[sz]ed|authentication[_ ]error|invalid (?:x-)?api[ _-]?key"
    r"|api key (?:is )?(?:missing|invalid)|not logged in|please run /login"
    r"|oauth token (?:has )?expired|missing environment variable.{0,40}(?:key|token)",
    re.IGNORECASE,
)
_QUOTA = re.compile(
    r"\b429\b|rate[ _-]?limit|quota|usage limit|hit your (?:usage )?limit|limit reached"
    r"|too many requests|credit balance is too low|billing_error",
    re.IGNORECASE,
)
_MODEL = re.compile(
    r"overloaded|internal server error|service unavailable|bad gateway|gateway timeout"
    r"|\b5(?:00|02|03|04|29)\b|connection (?:error|refused|reset)|stream disconnected|api_error",
    re.IGNORECASE,
)

_ISO = re.compile(
    r"(?:reset|retry|try again)\D{0,24}?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)",
    re.IGNORECASE,
)
_EPOCH = re.compile(
    r"(?:limit reached\|(\d{10})\b|reset(?:s)?(?: at)?\s+(\d{10})\b)", re.IGNORECASE
)
_IN = re.compile(
    r"(?:try again|retry|resets?)(?: after| in)\s+((?:\d+\s*[a-z]+[\s,]*(?:and\s+)?)+)",
    re.IGNORECASE,
)
_UNIT = re.compile(r"(\d+)\s*(d|day|h|hr|hour|m|min|minute|s|sec|second)s?\b", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?:resets?|try again)(?: at)?\s+(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?"
    r"(?:\s*\(([A-Za-z_]+(?:/[A-Za-z_+-]+)*)\))?",
    re.IGNORECASE,
)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def classify(text: str) -> OutcomeKind | None:
    """Return what the error text says went wrong, or None when it says nothing we recognise."""
    for pattern, kind in (
        (_TOO_LARGE, OutcomeKind.PROMPT_TOO_LARGE),
        (_AUTH, OutcomeKind.AUTH_FAILED),
        (_QUOTA, OutcomeKind.QUOTA_EXHAUSTED),
        (_MODEL, OutcomeKind.MODEL_ERROR),
    ):
        if pattern.search(text):
            return kind
    return None


def from_status(status: int | None) -> OutcomeKind | None:
    """Return what a model API's HTTP status says went wrong."""
    if status is None:
        return None
    if status in (402, 429):
        return OutcomeKind.QUOTA_EXHAUSTED
    if status in (401, 403):
        return OutcomeKind.AUTH_FAILED
    if status == 413:
        return OutcomeKind.PROMPT_TOO_LARGE
    return OutcomeKind.MODEL_ERROR if status >= 500 else None


def reset_at(text: str, now: datetime, local: tzinfo | None = None) -> datetime | None:
    """Return when a limit resets, as the text reports it (UTC), or None.

    `local` is the clock's zone.
    """
    if match := _ISO.search(text):
        stamp = datetime.fromisoformat(match.group(1).replace(" ", "T").replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
    if match := _EPOCH.search(text):
        return datetime.fromtimestamp(int(match.group(1) or match.group(2)), UTC)
    if match := _IN.search(text):
        seconds = sum(
            int(n) * _SECONDS[unit[0].lower()] for n, unit in _UNIT.findall(match.group(1))
        )
        return now + timedelta(seconds=seconds) if seconds else None
    if match := _CLOCK.search(text):
        return _next_clock(match, now, local)
    return None


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """Return the end of an HTTP `retry-after` (seconds, or an HTTP date), or None."""
    if not value:
        return None
    if value.strip().isdigit():
        return now + timedelta(seconds=int(value.strip()))
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _next_clock(match: re.Match[str], now: datetime, local: tzinfo | None) -> datetime | None:
    hour, minute = (
        int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0),
        int(match.group(2) or 0),
    )
    zone: tzinfo | None = local
    if match.group(4):
        try:
            zone = UTC if match.group(4).upper() == "UTC" else ZoneInfo(match.group(4))
        except (ZoneInfoNotFoundError, ValueError):
            zone = local
    here = now.astimezone(zone) if zone else now.astimezone()
    candidate = here.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= here:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)

"""What a read of a signal source gives (`improve.sources`, `improve.probes`): its signals, or why
not, and for a file the cursor to save once they are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from orchestrator.config.model import SignalSource
from orchestrator.core.evidence import clip_detail
from orchestrator.core.redact import redact
from orchestrator.core.signatures import signature

REDACT_SPAN = 8000  # characters of a message redacted: the signature reads 2000, the detail 300
_CONTROLS = {c: " " for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


@dataclass(frozen=True, slots=True)
class SourceSignal:
    """One failure a source reported."""

    ts: str  # UTC ISO, as the logs write it: 2026-12-01T09:00:00.000Z
    signature: str
    detail: str  # redacted, at most 300 characters, one line
    key: str  # the same for the same report read twice: the ledger keeps one row per key


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a jsonl source's next read starts."""

    inode: int  # 0: the file did not exist (when it appears, it is read from its start)
    offset: int
    head: bytes  # the file's first HEAD bytes when it was read
    generation: int  # grows each time the file is found replaced or cut
    skipping: bool = False  # the offset is inside a line too long to read: skip to its end


@dataclass(frozen=True, slots=True)
class SourceReading:
    """What one read of one source found."""

    signals: tuple[SourceSignal, ...]
    problem: str | None = None  # the source could not be read: one line, naming it
    cursor: Cursor | None = None  # jsonl: what `commit` saves; None: nothing to save
    more: bool = False  # jsonl: the read stopped at a bound, the rest is read next tick


def stamp(when: datetime) -> str:
    """Return a time as the logs write it: UTC, milliseconds, `Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def message_signal(source: SignalSource, message: str, ts: str, key: str) -> SourceSignal | None:
    """Return the signal of a message: redacted, signed, its detail one clipped line."""
    clean = redact(message[:REDACT_SPAN].translate(_CONTROLS))
    detail = clip_detail(" ".join(clean.split()))
    if not detail:
        return None
    return SourceSignal(
        ts=ts, signature=signature(f"source:{source.name}", clean), detail=detail, key=key
    )


def problem(source: SignalSource, what: str) -> SourceReading:
    """Return a reading that says, in one line, what is wrong with the source."""
    line = " ".join(redact(f"source {source.name}: {what}").split())
    return SourceReading((), line[:300])

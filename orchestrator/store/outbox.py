"""The notification outbox: a JSON line per event in runtime/state/outbox.jsonl, sent in batches.

Jobs append (`OutboxNotifier.notify`); the Telegram flush reads what is pending, sends it as
few messages as it can, and records its progress in `outbox.cursor.json` after each message,
so a flush killed halfway resumes with the next message of the same batch instead of sending
the first one again. The cursor names the file's inode: when a fully delivered outbox is
compacted (replaced by an empty file), a stale cursor is recognised and starts from the top.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from orchestrator.core.notify import Notification, from_record, to_record
from orchestrator.core.redact import redact
from orchestrator.store import quarantine
from orchestrator.store.files import append_line, atomic_write, read_state

OUTBOX = "outbox.jsonl"
CURSOR = "outbox.cursor.json"
COMPACT_AT = 256 * 1024  # bytes of delivered lines before the file is replaced by an empty one


@dataclass(frozen=True, slots=True)
class Pending:
    """The notes to deliver: lines [start, end) of the outbox file `inode`.

    `sent` messages of them are out already.
    """

    notes: tuple[Notification, ...]
    times: tuple[datetime, ...]  # when each was appended
    inode: int
    start: int
    end: int
    sent: int = 0  # messages of this batch already delivered (a resumed flush)
    skipped: int = 0  # unreadable lines (a torn write), dropped


class Outbox:
    """The outbox file and its cursor under one state folder."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / OUTBOX
        self.cursor_path = state_dir / CURSOR

    def append(self, note: Notification, at: datetime) -> None:
        """Append the note (redacted) as one line, fsynced, under an exclusive lock."""
        record = {
            "at": at.astimezone(UTC).isoformat(timespec="milliseconds"),
            **_redacted(to_record(note)),
        }
        append_line(self.path, json.dumps(record, ensure_ascii=False), durable=True)

    def pending(self) -> Pending:
        """Return the batch in progress, or everything appended since the last delivered line."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return Pending((), (), 0, 0, 0)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            stat = os.fstat(fd)
            if not S_ISREG(stat.st_mode):
                os.close(fd)
                fd = -1
                quarantine.set_aside(self.path, self.path.parent.parent, "the outbox is not a file")
                return Pending((), (), 0, 0, 0)
            cursor = self._cursor(stat.st_ino, stat.st_size)
            same = cursor.get("inode") == stat.st_ino
            start = cursor["offset"] if same else 0
            end = cursor["end"] if same else None
            sent = cursor["sent"] if same and end is not None else 0
            stop = end if end is not None else stat.st_size
            data = os.pread(fd, stop - start, start) if stop > start else b""
        finally:
            if fd >= 0:
                os.close(fd)
        data = data[: data.rfind(b"\n") + 1]  # a line still being written is not pending yet
        notes, times, skipped = _parse(data)
        return Pending(
            tuple(notes), tuple(times), stat.st_ino, start, start + len(data), sent, skipped
        )

    def begin(self, batch: Pending) -> None:
        """Fix the batch's extent before its first message goes out.

        A resumed flush then sees the same notes.
        """
        self._write_cursor(batch.inode, batch.start, batch.end, batch.sent)

    def mark_sent(self, batch: Pending, sent: int) -> None:
        """Record that the first `sent` messages of the batch were delivered."""
        self._write_cursor(batch.inode, batch.start, batch.end, sent)

    def finish(self, batch: Pending) -> None:
        """Record the whole batch as delivered, and compact the file when everything in it is."""
        self._write_cursor(batch.inode, batch.end, None, 0)
        if batch.end >= COMPACT_AT:
            self._compact(batch)

    def _compact(self, batch: Pending) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # writers wait, then see the new inode and write there
            stat = os.fstat(fd)
            if stat.st_ino == batch.inode and stat.st_size == batch.end:
                atomic_write(self.path, b"")
        finally:
            os.close(fd)

    def _cursor(self, inode: int, size: int) -> dict[str, Any]:
        """Return the cursor, checked against the outbox it names (`inode`, `size` bytes).

        A cursor that cannot be read is set aside and counts as "all delivered": the notes
        pending then are skipped (they are in the jobs' logs), never sent a second time. One
        past the end of a file that shrank starts from the top.
        """
        try:
            value = json.loads(read_state(self.cursor_path))
            offset, end, sent = value["offset"], value["end"], value["sent"]
            if not (
                isinstance(value["inode"], int)
                and _count(offset)
                and (end is None or (_count(end) and end >= offset))
                and _count(sent)
            ):
                raise ValueError("offsets out of range")
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            quarantine.set_aside(
                self.cursor_path,
                self.cursor_path.parent.parent,
                f"unreadable outbox cursor ({type(exc).__name__}); pending notes skipped",
            )
            self._write_cursor(inode, size, None, 0)
            return {"inode": inode, "offset": size, "end": None, "sent": 0}
        if value["inode"] == inode and max(offset, end or 0) > size:
            return {}  # the file shrank under the same inode: start from its top
        return {"inode": value["inode"], "offset": offset, "end": end, "sent": sent}

    def _write_cursor(self, inode: int, offset: int, end: int | None, sent: int) -> None:
        atomic_write(
            self.cursor_path,
            json.dumps({"inode": inode, "offset": offset, "end": end, "sent": sent}),
        )


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse(data: bytes) -> tuple[list[Notification], list[datetime], int]:
    notes, times, skipped = [], [], 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            notes.append(from_record(record))
            times.append(datetime.fromisoformat(record["at"]))
        except (ValueError, KeyError, TypeError):
            skipped += 1
    return notes, times, skipped


def _redacted(record: dict[str, Any]) -> dict[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in record.items()}


def _fields(note: Notification) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": note.kind.value, "text": note.text}
    if note.issue is not None:
        fields["issue"] = str(note.issue)
    if note.task_id:
        fields["task_id"] = note.task_id
    if note.detail:
        fields["detail"] = note.detail[:200]
    return fields


class OutboxNotifier:
    """The Notifier when Telegram is configured: the outbox (for the flush) and the event log."""

    def __init__(
        self,
        outbox: Outbox,
        log: logging.Logger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox, self.log, self.clock = outbox, log, clock

    def notify(self, note: Notification) -> None:
        """Queue the note for the chat; a failed write is logged, never raised (a job goes on)."""
        try:
            self.outbox.append(note, self.clock())
        except OSError as exc:
            self.log.error("notification.failed", extra={**_fields(note), "error": str(exc)[:200]})
            return
        self.log.info("notification.queued", extra=_fields(note))


class LogNotifier:
    """The Notifier without Telegram: the event log is the only place notes go."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log

    def notify(self, note: Notification) -> None:
        """Log the note as a `notification.logged` event."""
        self.log.info("notification.logged", extra=_fields(note))

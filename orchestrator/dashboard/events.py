"""The last day's events of the job logs (runtime/logs/*.jsonl), newest first.

Each log is read from its end, a block at a time, and left at its first line older than the
window (lines are appended in time order), going on into its rotated `.1` when the window
reaches back past the current file's start. What every tick writes (`run.started`, an ok
`run.finished`, `job.skipped`, serve's ticks) is counted, not listed: a minute-by-minute cron
writes thousands of those a day. Those lines are recognised by their bytes, and only the lines
kept are parsed as JSON, so a busy day costs little more than reading its bytes.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.core.redact import redact
from orchestrator.dashboard.listing import is_task_id

ROUTINE = frozenset(
    {"run.started", "job.skipped", "board.unchanged", "serve.tick", "serve.busy", "serve.ended"}
)
_TS = b'"ts": "'
# A line worth listing: its event is no routine one, nor a `run.finished` that went ok.
_NOTABLE = re.compile(
    rb'"event": "(?!(?:'
    + b"|".join(re.escape(name.encode()) for name in sorted(ROUTINE))
    + rb')")(?!run\.finished"[^\n]*"outcome": "ok")'
)
_BLOCK = 65536
_HIDDEN = {"ts", "level", "job", "run_id", "event", "traceback", "task_id", "issue", "repo", "pr"}
_VALUE, _DETAIL = 80, 240  # characters of one field's value, and of the whole detail


@dataclass(frozen=True, slots=True)
class EventLine:
    """One event of a job log, as the page lists it."""

    ts: str
    job: str
    level: str
    event: str
    task_id: str  # the task the line names, when it names a valid one ('' otherwise)
    subject: str  # `repo#issue`, `PR #n`: what it is about
    detail: str  # its other fields, `key=value`, shortened


@dataclass(frozen=True, slots=True)
class Recent:
    """The window's events, newest first, and how many routine lines were left out."""

    events: tuple[EventLine, ...]
    routine: int


def recent(logs_dir: Path, since: str, limit: int = 150) -> Recent:
    """Return the events logged since `since` (newest first, at most `limit`)."""
    found: list[EventLine] = []
    routine = 0
    for log in sorted(logs_dir.glob("*.jsonl")):
        events, skipped = _tail(log, since, limit)
        found += events
        routine += skipped
    found.sort(key=lambda e: e.ts, reverse=True)
    return Recent(tuple(found[:limit]), routine)


def _tail(log: Path, since: str, limit: int) -> tuple[list[EventLine], int]:
    """The events of one log (and its rotated `.1`) since `since`, newest first.

    A block whose oldest line is in the window is taken whole: its notable lines are found by
    one regular expression over its bytes, and only those are parsed. The block the window
    begins in is cut at its first line in the window, found line by line.
    """
    kept: list[EventLine] = []
    routine = 0
    start = since.encode()
    for path in (log, log.with_name(f"{log.name}.1")):
        reached = False
        for block in blocks(path):
            oldest = _field(block[: block.find(b"\n")] if b"\n" in block else block, _TS)
            if oldest is None or oldest < since:
                block, reached = _in_window(block, start)
            notable = list(_NOTABLE.finditer(block))
            routine += block.count(b"\n") + 1 - len(notable) if block else 0
            for match in reversed(notable):
                begin = block.rfind(b"\n", 0, match.start()) + 1
                end = block.find(b"\n", match.end())
                line = _parse(block[begin : end if end >= 0 else None], log.name[:-6])
                if line is not None:
                    kept.append(line)
                    if len(kept) >= limit:
                        return kept, routine
            if reached:
                break
        if reached:
            break
    return kept, routine


def _in_window(block: bytes, since: bytes) -> tuple[bytes, bool]:
    """The block's lines from the first in the window on, and whether any line was before it.

    The lines are in time order, so the first in the window is found by bisection.
    """
    lines = block.split(b"\n")
    first = bisect.bisect_left(lines, since, key=_stamp_of)
    return (b"\n".join(lines[first:]), True) if first else (block, False)


def _stamp_of(line: bytes) -> bytes:
    at = line.find(_TS)
    return line[at + len(_TS) : at + len(_TS) + 24] if at >= 0 else b""


def blocks(path: Path) -> Iterator[bytes]:
    """Yield the file's lines in blocks of whole lines (joined by newlines), the last block first;
    nothing when it cannot be opened."""
    try:
        f = path.open("rb")
    except OSError:
        return
    with f:
        end = f.seek(0, os.SEEK_END)
        carry = b""
        while end > 0:
            start = max(0, end - _BLOCK)
            f.seek(start)
            chunk = f.read(end - start) + carry
            end = start
            if start > 0:  # its first line may have begun in the block before
                cut = chunk.find(b"\n")
                carry, chunk = (chunk, b"") if cut < 0 else (chunk[:cut], chunk[cut + 1 :])
            chunk = chunk.strip(b"\n")
            if chunk:
                yield chunk


def backwards(path: Path) -> Iterator[bytes]:
    """Yield the file's lines, the last first; nothing when it cannot be opened."""
    for block in blocks(path):
        for raw in reversed(block.split(b"\n")):
            if raw.strip():
                yield raw


def _field(raw: bytes, key: bytes) -> str | None:
    """The string value of `"key": "` in a line's bytes, as json.dumps writes it; or None."""
    at = raw.find(key)
    if at < 0:
        return None
    start = at + len(key)
    stop = raw.find(b'"', start)
    if stop < 0:
        return None
    return raw[start:stop].decode("utf-8", "replace")


def _parse(raw: bytes, job: str) -> EventLine | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        return None
    return EventLine(
        ts=str(data.get("ts", "")),
        job=str(data.get("job") or job),
        level=str(data.get("level") or "info"),
        event=str(data["event"]),
        task_id=_task_id(data.get("task_id")),
        subject=subject(data),
        detail=detail(data),
    )


def _task_id(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return text if is_task_id(text) else ""


def subject(data: dict[str, Any]) -> str:
    """Say what a line is about: `repo#issue`, `PR #n`, or its task."""
    parts = []
    issue, repo, pr = data.get("issue"), data.get("repo"), data.get("pr")
    if isinstance(issue, (int, str)) and issue != "":
        text = str(issue)
        parts.append(text if "#" in text else f"{repo}#{text}" if repo else f"#{text}")
    elif isinstance(repo, str) and repo:
        parts.append(repo)
    if isinstance(pr, int):
        parts.append(f"PR #{pr}")
    if not parts and isinstance(data.get("task_id"), str):
        parts.append(str(data["task_id"]))
    return " ".join(parts)


def detail(data: dict[str, Any], *, value: int = _VALUE, total: int = _DETAIL) -> str:
    """The line's other fields as `key=value`, each (to `value`) and all (to `total`) cut.

    Each value is redacted before it is cut, or a cut could leave part of a secret that no
    longer looks like one.
    """
    pairs = []
    for key, field in data.items():
        if key in _HIDDEN or field is None or field == "":
            continue
        text = field if isinstance(field, str) else json.dumps(field, ensure_ascii=False)
        text = " ".join(text.split())
        if len(text) > value:  # redacted before it is cut: no half a token left
            text = " ".join(redact(text).split())
            text = text if len(text) <= value else text[: value - 1] + "…"
        pairs.append(f"{key}={text}")
    joined = " · ".join(pairs)
    return joined if len(joined) <= total else redact(joined)[: total - 1] + "…"

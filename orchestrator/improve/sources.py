"""Read the user's signal sources (`improve.sources`): what their software reported since last time.

Three kinds (docs/improve.md, "Signal sources"):

- `jsonl`: a file of JSON lines the app appends to, read from where the last read stopped. A
  line is a signal when its level is warning or worse (or it carries `error`), or when it is no
  JSON at all; its message is the first of `message`, `msg`, `error`, `event` that is text.
- `command` (`improve.probes`): a program whose failing exit, or timeout, is one signal.
- `url` (`improve.probes`): an HTTP endpoint whose error, timeout or non-2xx answer is one.

What a read gives (`SourceReading`, `SourceSignal`, `Cursor`) is in `improve.readings`.

`read` never raises for a bad source: what cannot be read is the reading's `problem` (one line,
naming the source) and no signals. Each signal's `detail` is redacted and at most 300 characters;
its `signature` is `signature("source:<name>", message)`, of the redacted message.

A jsonl file's cursor (runtime/state/sources/<name>.json: inode, offset, the file's first 64
bytes, a generation) moves only when the job calls `commit` after recording the signals. A kill
between the record and the commit reads the same lines again next tick: each signal's `key`
(`<name>:<generation>:<byte offset of its line>`) is the same both times, so the ledger keeps one
row per key and the repeat counts once. The generation grows each time the file is found replaced
or cut (then it is read from its start), so keys never repeat across files. A first read, and a
read after a damaged cursor (set aside in runtime/quarantine/), starts at the file's end: an old
history is not replayed as a burst of incidents.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from orchestrator.config.model import Config, SignalSource, SourceKind
from orchestrator.improve import probes
from orchestrator.improve.readings import (
    Cursor,
    SourceReading,
    SourceSignal,
    message_signal,
    problem,
    stamp,
)
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FOLDER = "sources"  # under runtime/state/: one cursor per jsonl source
HEAD = 64  # bytes of a file's beginning kept with its cursor, to tell it was cut and rewritten
MAX_BYTES = 8 << 20  # bytes of a jsonl file read at most per read; the rest waits for the next
MAX_LINES = 50_000  # lines read at most per read
LINE_MAX = 64 << 10  # bytes of a line considered; a longer line is cut here, its rest skipped
BACK_MAX = 8 << 20  # bytes searched back from a file's end for where its last full line ends
MESSAGE_KEYS = ("message", "msg", "error", "event")
LEVEL_KEYS = ("level", "levelname", "severity")
QUIET = frozenset({"trace", "debug", "info", "notice", "verbose"})  # levels below warning
QUIET_BELOW = 40  # a numeric level below this is below warning (pino/bunyan: 40 is warn)
TIME_KEYS = ("ts", "time", "timestamp", "@timestamp")
PLAUSIBLE = timedelta(hours=24)  # a line's own time further back than this is not believed


def read(
    source: SignalSource, state_dir: Path, now: datetime, *, cwd: Path | None = None
) -> SourceReading:
    """Return what the source reported since the last read; never raises for a bad source.

    `state_dir` is runtime/state (a damaged cursor goes to runtime/quarantine); `cwd` is where a
    command runs (`workdir` gives it), `now` the tick's time (timezone-aware).
    """
    if source.kind is SourceKind.JSONL:
        return _read_jsonl(source, state_dir, now)
    if source.kind is SourceKind.COMMAND:
        return probes.run_command(source, cwd or state_dir, now)
    return probes.get_url(source, now)


def commit(source: SignalSource, state_dir: Path, reading: SourceReading) -> None:
    """Save the reading's cursor (atomically), once its signals are recorded; no-op without one."""
    cursor = reading.cursor
    if cursor is None:
        return
    record = {
        "inode": cursor.inode,
        "offset": cursor.offset,
        "head": cursor.head.hex(),
        "generation": cursor.generation,
        "skipping": cursor.skipping,
    }
    atomic_write(cursor_path(source, state_dir), json.dumps(record) + "\n")


def cursor_path(source: SignalSource, state_dir: Path) -> Path:
    return state_dir / FOLDER / f"{source.name}.json"


def workdir(config: Config, source: SignalSource) -> Path:
    """Return where a command source runs: its repo's local clone, else the config's folder."""
    repo = next((r for r in config.repos if r.key == source.repo), None)
    if repo is not None and repo.local_path is not None and repo.local_path.is_dir():
        return repo.local_path
    return config.source.parent


# -- jsonl ------------------------------------------------------------------------------------


def _read_jsonl(source: SignalSource, state_dir: Path, now: datetime) -> SourceReading:
    assert source.path is not None  # the config gives a jsonl source its path
    saved = _load_cursor(source, state_dir)
    try:
        fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:  # not yet written: when it appears, it is read from its start
        missing = problem(source, f"{source.path} does not exist")
        fresh = Cursor(0, 0, b"", _first_generation(now))
        return SourceReading((), missing.problem, fresh if saved is None else None)
    except OSError as exc:
        return problem(source, f"cannot open {source.path}: {exc.strerror or exc}")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a folder, or a FIFO that would block the job
        os.close(fd)
        return problem(source, f"{source.path} is not a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            return _follow(source, f, info.st_ino, info.st_size, saved, now)
        except OSError as exc:
            return problem(source, f"cannot read {source.path}: {exc.strerror or exc}")


def _follow(
    source: SignalSource, f: IO[bytes], inode: int, size: int, saved: Cursor | None, now: datetime
) -> SourceReading:
    head = f.read(HEAD)
    if saved is None:  # a first read, or a damaged cursor: from the end, no history replayed
        offset, skipping = _end_of_last_line(f, size)
        return SourceReading(
            (), None, Cursor(inode, offset, head, _first_generation(now), skipping)
        )
    same = saved.inode == inode and head.startswith(saved.head) and saved.offset <= size
    if same:
        start, generation, skipping = saved.offset, saved.generation, saved.skipping
    else:  # replaced (rotated) or cut: the file there now is read from its start
        start, generation, skipping = 0, saved.generation + 1, False
    f.seek(start)
    lines, end, skipping, more = _scan(f, start, skipping)
    signals = []
    for offset, raw in lines:
        found = _line_signal(source, raw, f"{source.name}:{generation}:{offset}", now)
        if found is not None:
            signals.append(found)
    return SourceReading(tuple(signals), None, Cursor(inode, end, head, generation, skipping), more)


def _scan(
    f: IO[bytes], start: int, skipping: bool
) -> tuple[list[tuple[int, bytes]], int, bool, bool]:
    """Return (offset, line) of the whole lines from `start`, where the read stopped, whether it
    stopped inside a long line, and whether it stopped at a bound (more is waiting)."""
    pos, out = start, list[tuple[int, bytes]]()
    while len(out) < MAX_LINES and pos - start < MAX_BYTES:
        piece = f.readline(LINE_MAX)
        if not piece:
            return out, pos, skipping, False
        whole = piece.endswith(b"\n")
        if not whole and len(piece) < LINE_MAX:  # the file ends inside a line
            if skipping:  # the rest of a line already cut: dropped as it comes
                return out, pos + len(piece), True, False
            return out, pos, False, False  # a line being written waits for its newline
        if not skipping:  # a line, or the first LINE_MAX bytes of a longer one
            out.append((pos, piece))
        skipping = not whole
        pos += len(piece)
    return out, pos, skipping, True


def _end_of_last_line(f: IO[bytes], size: int) -> tuple[int, bool]:
    """Return the offset just past the file's last newline (and False), searching back at most
    BACK_MAX bytes; (size, True) when none is that near: the offset is inside a line."""
    pos = size
    while pos > 0 and size - pos < BACK_MAX:
        step = min(LINE_MAX, pos)
        f.seek(pos - step)
        found = f.read(step).rfind(b"\n")
        if found >= 0:
            return pos - step + found + 1, False
        pos -= step
    return (0, False) if pos == 0 else (size, True)


def _line_signal(source: SignalSource, raw: bytes, key: str, now: datetime) -> SourceSignal | None:
    text = raw.rstrip(b"\r\n")
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # no JSON, not UTF-8, or nested past the parser's depth
        data = None
    if not isinstance(data, dict):
        return message_signal(source, text.decode("utf-8", "replace"), stamp(now), key)
    if _quiet(data) and not data.get("error"):
        return None
    return message_signal(source, _message(data, text), _when(data, now), key)


def _quiet(data: dict[str, Any]) -> bool:
    """Whether the line's level is below warning (info, debug, ...; a number below 40)."""
    for name in LEVEL_KEYS:
        level = data.get(name)
        if isinstance(level, str):
            return level.strip().lower() in QUIET
        if isinstance(level, int | float) and not isinstance(level, bool):
            return level < QUIET_BELOW
    return False


def _message(data: dict[str, Any], raw: bytes) -> str:
    for name in MESSAGE_KEYS:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return raw.decode("utf-8", "replace")


def _when(data: dict[str, Any], now: datetime) -> str:
    """The line's own time when it has a believable one (not ahead of now, at most a day old)."""
    for name in TIME_KEYS:
        value = data.get(name)
        if not isinstance(value, str) or len(value) > 64:
            continue
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        if now - PLAUSIBLE <= when <= now + timedelta(minutes=1):
            return stamp(min(when, now))
    return stamp(now)


def _load_cursor(source: SignalSource, state_dir: Path) -> Cursor | None:
    """Return the saved cursor; None when there is none, or it was damaged (and is set aside)."""
    path = cursor_path(source, state_dir)
    try:
        data = json.loads(read_state(path, limit=4096))
        cursor = Cursor(
            inode=_natural(data["inode"]),
            offset=_natural(data["offset"]),
            head=bytes.fromhex(data["head"])[:HEAD],
            generation=_natural(data["generation"]),
            skipping=data.get("skipping") is True,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = f"unreadable cursor of source {source.name} ({type(exc).__name__}); read from end"
        quarantine.set_aside(path, state_dir.parent, reason)
        return None
    return cursor


def _natural(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number ≥ 0, got {value!r}")
    return value


def _first_generation(now: datetime) -> int:
    """A new cursor's generation: the time in seconds, above any a lost cursor had reached."""
    return int(now.timestamp())

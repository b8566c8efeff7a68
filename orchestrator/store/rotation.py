"""Job log rotation and retention: `<job>.jsonl` past a size becomes `<job>.jsonl.1`.

A log past `max_bytes` is renamed to `.1`, the older ones shifted first (`.1` to `.2`, …; one
rename each, the oldest past `keep_files` deleted instead), all under the exclusive `flock` on
the log that `store.files.append_line` takes to write a line: a writer waiting for the lock finds
the file renamed when it gets it and opens a new `<job>.jsonl` (`append_line` checks), so a line
written during a rotation lands whole in one file, never in both, never nowhere. Rotated files
older than `keep_days`, or past `keep_files`, are deleted, the oldest first, so the rotated files
left are always `.1` … `.N` with no gap (the outcome ledger reads them in that order, under a
shared lock on the same file: store.ledger_follow).

The job runner calls `after_tick` once a tick: one `stat` of the job's own log, and only when it
is past the size the whole folder is looked at (every log past the size rotated, retention
applied).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

SUFFIX = ".jsonl"
MAX_ROTATED = 1000  # `.N` files looked at, at most


def after_tick(
    logs_dir: Path, job: str, max_bytes: int, keep_days: float, keep_files: int
) -> list[Path]:
    """Rotate when the job's own log is past `max_bytes` (else one stat); return what rotated."""
    try:
        size = os.stat(logs_dir / f"{job}{SUFFIX}").st_size
    except FileNotFoundError:
        return []
    if size <= max_bytes:
        return []
    return rotate(logs_dir, max_bytes, keep_days, keep_files)


def rotate(
    logs_dir: Path,
    max_bytes: int,
    keep_days: float,
    keep_files: int,
    *,
    now: float | None = None,
) -> list[Path]:
    """Rotate every `<job>.jsonl` past `max_bytes`, then apply retention; return those rotated."""
    if keep_files < 1:
        raise ValueError(f"keep_files must be at least 1, got {keep_files}")
    rotated = [log for log in _logs(logs_dir) if _rotate_one(log, max_bytes, keep_files)]
    prune(logs_dir, keep_days, keep_files, now=now)
    return rotated


def prune(logs_dir: Path, keep_days: float, keep_files: int, *, now: float | None = None) -> int:
    """Delete rotated logs older than `keep_days` or past `keep_files`; return how many."""
    oldest = (time.time() if now is None else now) - keep_days * 86400
    deleted = 0
    for log in _bases(logs_dir):
        fd = _lock(log)
        try:
            found = _rotated(log)
            cut = next(
                (k for k, path in enumerate(found, 1) if k > keep_files or _mtime(path) < oldest),
                None,
            )
            if cut is not None:
                for path in reversed(found[cut - 1 :]):  # the oldest first: never a gap
                    path.unlink(missing_ok=True)
                    deleted += 1
        finally:
            if fd is not None:
                os.close(fd)
    return deleted


def _rotate_one(log: Path, max_bytes: int, keep_files: int) -> bool:
    fd = _lock(log)
    if fd is None:
        return False
    try:
        if not _is(log, fd) or os.fstat(fd).st_size <= max_bytes:
            return False  # rotated by another tick meanwhile, or no longer past the size
        for k, path in reversed(list(enumerate(_rotated(log), 1))):
            if k >= keep_files:
                path.unlink(missing_ok=True)
            else:
                os.rename(path, f"{log}.{k + 1}")
        os.rename(log, f"{log}.1")
        _fsync_dir(log.parent)
        return True
    finally:
        os.close(fd)  # closing releases the lock; a waiting writer opens the new log


def _lock(log: Path) -> int | None:
    """Open the log and hold its exclusive lock (append_line's); None when it does not exist."""
    while True:
        try:
            fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _is(log, fd):
            return fd
        os.close(fd)  # renamed while the lock was awaited: lock what is there now


def _is(log: Path, fd: int) -> bool:
    try:
        return os.stat(log).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _rotated(log: Path) -> list[Path]:
    found = []
    for k in range(1, MAX_ROTATED + 1):
        path = Path(f"{log}.{k}")
        if not path.exists():
            break
        found.append(path)
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _logs(logs_dir: Path) -> list[Path]:
    try:
        with os.scandir(logs_dir) as entries:
            return sorted(Path(e.path) for e in entries if e.name.endswith(SUFFIX) and e.is_file())
    except FileNotFoundError:
        return []


def _bases(logs_dir: Path) -> list[Path]:
    """The logs that have rotated files (whether or not the log itself exists now)."""
    try:
        with os.scandir(logs_dir) as entries:
            names = {e.name.rpartition(".")[0] for e in entries if e.name.endswith(".1")}
    except FileNotFoundError:
        return []
    return sorted(logs_dir / n for n in names if n.endswith(SUFFIX))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

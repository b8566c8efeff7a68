"""Per-job locks: a second overlapping run of the same job finds the lock held and skips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def hold(locks_dir: Path, name: str) -> Iterator[bool]:
    """Try to take the lock without waiting; yield whether this process holds it.

    filelock uses flock(2) on Unix, so the kernel releases the lock when the holder dies:
    a killed run never leaves a stale lock behind for the next tick.
    """
    from filelock import FileLock, Timeout

    locks_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(locks_dir / f"{name}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()

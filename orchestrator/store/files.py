"""The two ways anything under runtime/ is written: a whole file atomically, or one line appended.

A reader sees a file's old content or its new content, never a torn one; a line is appended
whole, under an exclusive lock, so concurrent writers (jobs, workers, the bot) never interleave.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
from pathlib import Path

MAX_STATE = 8 << 20  # bytes: no state file Agent OS writes comes near; a bigger one is damage


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, line: str | bytes, *, durable: bool = False) -> None:
    """Append one line under an exclusive lock; `durable` fsyncs it before returning.

    A writer killed mid-line leaves no newline at the end: the next line starts on a line of its
    own, so a torn line costs only itself. A file replaced while the lock was awaited (the
    outbox's compaction) is reopened, so the line lands in the file that is there now.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = line.encode("utf-8") if isinstance(line, str) else line
    data = data.rstrip(b"\n") + b"\n"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _is_current(path, fd):
                continue  # replaced while we waited for the lock: write to the new file
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            os.write(fd, data)
            if durable:
                os.fsync(fd)
            return
        finally:
            os.close(fd)  # closing releases the lock


def _is_current(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def read_state(path: Path, limit: int = MAX_STATE) -> bytes:
    """Return a state file's bytes: FileNotFoundError if absent, OSError if it is no regular file
    (a directory, a FIFO that would block, a device) or passes `limit` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(
                errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL,
                "not a regular file",
                str(path),
            )
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return data
    finally:
        os.close(fd)

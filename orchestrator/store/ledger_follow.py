"""Following one log file from where the ledger stopped: across rotation, a chunk at a time.

A cursor (per log: the inode and byte offset reached, and the first bytes of that file) is moved
in the same transaction as the rows its lines made, so each line is applied once, whoever
applies it. A job log may have been rotated since (`store.rotation`: `<job>.jsonl` renamed to
`<job>.jsonl.1`, the older ones shifted up): the files are opened newest first under the lock
rotation takes, the cursor's file is found among them by its inode and finished from the
cursor's offset, and each newer file is then read from its start. A file is the cursor's when
it has the cursor's inode and begins with the bytes the cursor kept. When none is (a log rotated
before any update, a cursor's file deleted by retention, whose inode a newer file may reuse, or
a log cut and written again in place), every file left is read, the oldest first.

Lines are read a chunk (1 MiB) at a time, each chunk its own transaction, so memory does not grow
with a log's size; before each chunk the cursor is read again, and when another process moved it
meanwhile that process goes on and this one stops.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HEAD = 64  # bytes of a file's beginning kept with its cursor, to tell it was cut and rewritten
CHUNK = 1 << 20  # bytes read per transaction
MAX_ROTATED = 1000  # `<name>.N` looked for at most (rotation keeps a few)
Apply = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class _File:
    file: IO[bytes]
    inode: int
    size: int
    head: bytes


@dataclass(frozen=True, slots=True)
class _Spot:
    index: int  # in the chain, newest first: 0 is the file at the log's own path
    offset: int


def cursor_of(db: sqlite3.Connection, source: Path | str) -> tuple[int, int, bytes] | None:
    """The log's cursor: (inode, offset, head) of the file it was read to; None when never read."""
    row = db.execute(
        "SELECT inode, offset, head FROM cursors WHERE source = ?", (str(source),)
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))


def changed(db: sqlite3.Connection, source: Path | str) -> bool:
    """True when the log may hold lines its cursor is not past: read, it would give rows."""
    return not unchanged(source, cursor_of(db, source))


def unchanged(source: Path | str, cursor: tuple[int, int, bytes] | None) -> bool:
    """True when the log is still the cursor's file, begins as it did and has not grown."""
    if cursor is None:
        return False
    try:
        fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if info.st_ino != cursor[0] or info.st_size != cursor[1]:
            return False
        return os.read(fd, HEAD).startswith(cursor[2])
    finally:
        os.close(fd)


def follow(db: sqlite3.Connection, source: Path, apply: Apply, *, rotated: bool) -> int:
    """Apply the lines of `source` (and of its rotated files) past its cursor; return how many.

    `rotated`: look for `<source>.1`, `.2`, … (job logs); a room's channel is never rotated.
    """
    count, expected, chain = 0, None, None
    try:
        while True:
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = cursor_of(db, source)
                if chain is None:  # opened once the database is ours: no cursor is newer
                    chain = _open_chain(source, rotated)
                    spot = _spot(chain, cursor)
                elif cursor != expected:
                    db.execute("ROLLBACK")  # another process moved it meanwhile: it goes on
                    return count
                if spot is None:
                    db.execute("ROLLBACK")
                    return count
                read, spot, expected = _chunk(db, chain, spot, apply)
                count += read
                if expected is None or expected == cursor:
                    db.execute("ROLLBACK")  # nothing new: the cursor stays
                    return count
                db.execute(
                    "INSERT INTO cursors (source, inode, offset, head) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET inode = excluded.inode, "
                    "offset = excluded.offset, head = excluded.head",
                    (str(source), *expected),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    finally:
        for item in chain or ():
            item.file.close()


def _spot(chain: list[_File], cursor: tuple[int, int, bytes] | None) -> _Spot | None:
    """Where to read next: the cursor's file from its offset, or every file from the oldest."""
    if not chain:
        return None
    if cursor is not None:
        inode, offset, head = cursor
        for index, item in enumerate(chain):
            if item.inode == inode and item.head.startswith(head):
                return _Spot(index, offset if offset <= item.size else 0)
    # never read; or its file deleted (its inode maybe reused by a newer one), or cut and
    # written again in place: every file left, from the oldest
    return _Spot(len(chain) - 1, 0)


def _chunk(
    db: sqlite3.Connection, chain: list[_File], spot: _Spot, apply: Apply
) -> tuple[int, _Spot | None, tuple[int, int, bytes] | None]:
    """Apply the next chunk's whole lines; return how many events, the next spot, the cursor."""
    item = chain[spot.index]
    item.file.seek(spot.offset)
    data = item.file.read(CHUNK)
    if len(data) == CHUNK:
        data += item.file.readline()  # a line longer than the chunk is read whole
    at_end = spot.offset + len(data) >= item.size
    if spot.index > 0 and at_end:
        whole = data  # a rotated file grows no more: a torn last line is skipped with it
    else:
        whole = data[: data.rfind(b"\n") + 1]  # a line being written waits
    count = 0
    for raw in whole.splitlines():
        event = _event(raw)
        if event is not None:
            apply(event)
            count += 1
    offset = spot.offset + len(whole)
    if spot.index > 0 and at_end:  # on to the next newer file, from its start
        newer = chain[spot.index - 1]
        return count, _Spot(spot.index - 1, 0), (newer.inode, 0, _head(newer))
    if not whole:
        return count, None, None
    return count, _Spot(spot.index, offset), (item.inode, offset, _head(item))


def _head(item: _File) -> bytes:
    """The file's first bytes now: a file opened short may have grown since."""
    if len(item.head) == HEAD:
        return item.head
    return os.pread(item.file.fileno(), HEAD, 0)


def _event(raw: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:  # a torn line, or bytes that are not UTF-8
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _open_chain(source: Path, rotated: bool) -> list[_File]:
    """Open the log and its rotated files, newest first, as one rotation left them."""
    chain: list[_File] = []
    try:
        with _locked(source) as first:
            if first is not None:
                chain.append(first)
            for n in range(1, MAX_ROTATED + 1) if rotated else ():
                item = _open(Path(f"{source}.{n}"))
                if item is None:
                    break
                chain.append(item)
    except BaseException:
        for item in chain:
            item.file.close()
        raise
    seen: set[int] = set()
    unique = []
    for item in chain:  # the same file twice would be a rename seen from both sides
        if item.inode in seen:
            item.file.close()
        else:
            seen.add(item.inode)
            unique.append(item)
    return unique


@contextmanager
def _locked(source: Path) -> Iterator[_File | None]:
    """Open the log and hold a shared lock on it: rotation (an exclusive one) waits meanwhile."""
    while True:
        item = _open(source)
        if item is None:
            yield None
            return
        fcntl.flock(item.file.fileno(), fcntl.LOCK_SH)
        try:
            current = os.stat(source).st_ino == item.inode
        except FileNotFoundError:
            current = False
        if current:
            break
        item.file.close()  # rotated while the lock was awaited: open what is there now
    try:
        yield item
    finally:
        fcntl.flock(item.file.fileno(), fcntl.LOCK_UN)


def _open(path: Path) -> _File | None:
    """Open a regular file; None when there is none (a FIFO in its place would block a read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    f = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            f.close()
            return None
        head = f.read(HEAD)
    except BaseException:
        f.close()
        raise
    return _File(f, info.st_ino, info.st_size, head)

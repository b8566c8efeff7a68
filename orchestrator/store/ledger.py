"""The outcome ledger: one row per task attempt and per merged PR, in runtime/ledger.sqlite.

Derived, never the source of truth: the rows are built from the rooms' `channel.jsonl` (each
attempt's lifecycle, agents, tokens, judgement and failure) and the PR monitor's event log
(merges). `update` reads each file from where it stopped last time (a cursor per file: its inode
and byte offset, in the same transaction as the rows it produced), so it costs what is new; a
file replaced (rotated) is read from its start. A database that is lost or cannot be opened is
set aside and `rebuild` makes it again from the logs, which gives the same rows.

SQLite from the standard library, in WAL mode with short transactions and a busy timeout, so
several jobs may update it at once: a file's new lines and its cursor's move are one
`BEGIN IMMEDIATE` transaction, so each line is applied once, whoever applies it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from orchestrator.core.signatures import signature
from orchestrator.core.tasks import parse_id
from orchestrator.store import quarantine

FILE_NAME = "ledger.sqlite"
PR_LOG, DISPATCH_LOG = "pr_monitor.jsonl", "dispatcher.jsonl"
SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    repo_key TEXT NOT NULL,
    issue INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    agents TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    state TEXT,
    queued_at TEXT,
    started_at TEXT,
    review_at TEXT,
    ended_at TEXT,
    judged_at TEXT,
    next TEXT,
    reason TEXT,
    failure TEXT,
    signature TEXT,
    pr INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_issue ON tasks (repo_key, issue);
CREATE INDEX IF NOT EXISTS tasks_by_signature ON tasks (signature);
CREATE INDEX IF NOT EXISTS tasks_by_judgement ON tasks (judged_at);
CREATE TABLE IF NOT EXISTS merges (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    issue INTEGER,
    sha TEXT,
    merged_at TEXT NOT NULL,
    PRIMARY KEY (repo, pr)
);
CREATE INDEX IF NOT EXISTS merges_by_time ON merges (merged_at);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    head BLOB NOT NULL
);
"""
# lifecycle state -> the column that keeps when the attempt first entered it
_ENTERED = {"developing": "started_at", "review": "review_at"}
_ENDS = ("passed", "failed")
HEAD = 64  # bytes of a file's beginning kept with its cursor, to tell it was cut and rewritten


class Ledger:
    """The ledger of one runtime folder."""

    def __init__(self, runtime_dir: Path) -> None:
        self.runtime_dir = runtime_dir
        self.path = runtime_dir / FILE_NAME

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = _open(self.path)
        except sqlite3.DatabaseError as exc:  # not a database, or damaged: rebuilt from the logs
            quarantine.set_aside(self.path, self.runtime_dir, f"unreadable ledger ({exc})")
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            db = _open(self.path)
        with closing(db):
            yield db

    def update(self) -> int:
        """Apply what the logs gained since the last update; return how many events were read."""
        read = 0
        with self._connect() as db:
            for source, kind in self._sources():
                read += _follow(db, source, kind)
        return read

    def rebuild(self) -> int:
        """Make the ledger again from the logs alone; return how many events were read."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return self.update()

    def tasks(self) -> list[dict[str, Any]]:
        """Return every task row, by task id."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM tasks ORDER BY task_id")]

    def merges(self) -> list[dict[str, Any]]:
        """Return every merge, oldest first."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM merges ORDER BY merged_at, repo, pr")
            return [dict(r) for r in rows]

    def _sources(self) -> Iterator[tuple[Path, str]]:
        rooms = self.runtime_dir / "rooms"
        try:
            names = sorted(e.name for e in os.scandir(rooms) if e.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            names = []
        for name in names:
            yield rooms / name / "channel.jsonl", "room"
        yield self.runtime_dir / "logs" / DISPATCH_LOG, "dispatcher"
        yield self.runtime_dir / "logs" / PR_LOG, "pr_monitor"


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        db.execute("SELECT count(*) FROM tasks").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _follow(db: sqlite3.Connection, source: Path, kind: str) -> int:
    """Apply the lines of one file past its cursor, in one transaction with the cursor's move."""
    try:
        with source.open("rb") as f:
            info = os.fstat(f.fileno())
            db.execute("BEGIN IMMEDIATE")
            try:
                head = f.read(HEAD)
                row = db.execute(
                    "SELECT inode, offset, head FROM cursors WHERE source = ?", (str(source),)
                ).fetchone()
                # the same file if the same inode and it still begins as it did (not cut and
                # written again in place); a file read before it had HEAD bytes began with less
                same = row is not None and row[0] == info.st_ino and head.startswith(bytes(row[2]))
                offset = row[1] if same and row[1] <= info.st_size else 0
                f.seek(offset)
                data = f.read()
                data = data[: data.rfind(b"\n") + 1]  # a line being written waits
                count = 0
                for raw in data.splitlines():
                    event = _event(raw)
                    if event is not None:
                        _apply(db, kind, source, event)
                        count += 1
                db.execute(
                    "INSERT INTO cursors (source, inode, offset, head) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET inode = excluded.inode, "
                    "offset = excluded.offset, head = excluded.head",
                    (str(source), info.st_ino, offset + len(data), head),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return 0
    return count


def _event(raw: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:  # a torn line, or bytes that are not UTF-8
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _apply(db: sqlite3.Connection, kind: str, source: Path, event: dict[str, Any]) -> None:
    if kind == "pr_monitor":
        if event["event"] == "pr.merged" and isinstance(event.get("pr"), int):
            db.execute(
                "INSERT OR IGNORE INTO merges (repo, pr, issue, sha, merged_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    str(event.get("repo", "")),
                    event["pr"],
                    _int(event.get("issue")),
                    str(event.get("sha", "")),
                    str(event.get("ts", "")),
                ),
            )
        return
    if kind == "dispatcher":  # when the first attempt was queued (lead time's start)
        task_id = str(event.get("task_id", ""))
        if event["event"] == "task.queued" and _add_task(db, task_id):
            db.execute(
                "UPDATE tasks SET queued_at = coalesce(queued_at, ?) WHERE task_id = ?",
                (str(event.get("ts", "")), task_id),
            )
        return
    if _add_task(db, source.parent.name):
        _task_event(db, source.parent.name, event)


def _add_task(db: sqlite3.Connection, task_id: str) -> bool:
    """Make the task's row if it has none; False for a name that is no task id."""
    parsed = parse_id(task_id)
    if parsed is None:
        return False
    db.execute(
        "INSERT OR IGNORE INTO tasks (task_id, repo_key, issue, generation, attempt) "
        "VALUES (?, ?, ?, ?, ?)",
        (task_id, *parsed),
    )
    return True


def _task_event(db: sqlite3.Connection, task_id: str, event: dict[str, Any]) -> None:
    name, ts = event["event"], str(event.get("ts", ""))
    if name == "lifecycle.changed":
        state = str(event.get("state", ""))
        column = _ENTERED.get(state)
        if column:
            db.execute(
                f"UPDATE tasks SET {column} = coalesce({column}, ?) WHERE task_id = ?",
                (ts, task_id),
            )
        ended = ts if state in _ENDS else None
        db.execute(
            "UPDATE tasks SET state = ?, ended_at = coalesce(?, ended_at) WHERE task_id = ?",
            (state, ended, task_id),
        )
    elif name == "chain.finished":
        db.execute(
            "UPDATE tasks SET agents = CASE WHEN agents = '' THEN ? ELSE agents || ',' || ? END, "
            "input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
            "cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + ? END "
            "WHERE task_id = ?",
            (
                str(event.get("backend") or "-"),
                str(event.get("backend") or "-"),
                _int(event.get("input_tokens")) or 0,
                _int(event.get("output_tokens")) or 0,
                _number(event.get("cost_usd")),
                _number(event.get("cost_usd")),
                task_id,
            ),
        )
    elif name in ("tests.finished", "task.crashed", "gate.refused", "push.rejected"):
        failure = _failure(name, event)
        if failure:  # the failure's own kind and words make its signature, not the verdict
            db.execute(
                "UPDATE tasks SET failure = ?, signature = ? WHERE task_id = ?",
                (failure, signature(name, failure), task_id),
            )
    elif name == "attempt.judged":
        _judged(db, task_id, event)
    elif name == "pr.opened":
        db.execute(
            "UPDATE tasks SET pr = ? WHERE task_id = ?", (_int(event.get("number")), task_id)
        )


def _failure(name: str, event: dict[str, Any]) -> str:
    if name == "tests.finished":
        if event.get("passed"):
            return ""
        return f"{event.get('line', '')}\n{event.get('tail', '')}"[:4000]
    if name == "gate.refused":
        return f"{event.get('code', '')} {event.get('rules', '')}"
    return str(event.get("error", ""))[:4000]


def _judged(db: sqlite3.Connection, task_id: str, event: dict[str, Any]) -> None:
    nxt, reason = str(event.get("next", "")), str(event.get("reason", ""))
    # a failure without words of its own (no test, crash or gate line) is signed by the verdict
    sig = None if nxt == "open_pr" else signature("verdict", reason)
    db.execute(
        "UPDATE tasks SET next = ?, reason = ?, judged_at = ?, "
        "signature = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(signature, ?) END "
        "WHERE task_id = ?",
        (nxt, reason, str(event.get("ts", "")), sig, sig, task_id),
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

"""The outcome ledger: what every attempt did and cost, merges, reverts, incidents and signals.

Derived, never the source of truth: the rows are built from the rooms' `channel.jsonl` and from
every job's event log (`runtime/logs/<job>.jsonl`, rotated files included), in
runtime/ledger.sqlite. `update` reads each file from where it stopped last time (a cursor per
file, moved in the same transaction as the rows it produced: store.ledger_follow), so it costs
what is new. A database that is lost or cannot be opened is set aside and made again from the
logs; `rebuild` empties the derived tables and reads the logs again, which gives the same rows
(the same prices, the same repos), and numbers the signals again in time order. docs/ledger.md
describes the tables.

SQLite from the standard library, in WAL mode with short transactions and a busy timeout, so
several jobs may update it at once. Queries aggregate in SQL: none loads the signals whole.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.core.evidence import DEFAULT_PRICES, Price, SignalGroup, SignalRow
from orchestrator.core.redact import redact_all
from orchestrator.store import (
    ledger_events,
    ledger_follow,
    ledger_measures,
    ledger_schema,
    quarantine,
)
from orchestrator.store.files import append_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from orchestrator.config.model import Config

FILE_NAME = "ledger.sqlite"
SIGNALS_LOG = "signals.jsonl"  # signals from outside our logs, appended by the incident scanner
LOG_SUFFIX = ".jsonl"
CHANNEL = "channel.jsonl"  # a room's log
TASK_IDS, DETAILS = 5, 3  # distinct examples a signal group carries
_SIGNAL_FIELD = 2000  # characters of a field of a signal.received line, as a job log keeps them


class Ledger:
    """The ledger of one runtime folder.

    `prices` (model -> USD per million tokens; the defaults when None) prices the tokens of
    backends that report no cost, `models` (backend name -> configured model) names the model of
    a backend whose session did not, and `repo_keys` ("owner/name" -> repo key) maps a job log's
    repo to its key. A rebuild with the same three gives the same rows.
    """

    def __init__(
        self,
        runtime_dir: Path,
        *,
        prices: Mapping[str, Price] | None = None,
        models: Mapping[str, str] | None = None,
        repo_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.runtime_dir = runtime_dir
        self.path = runtime_dir / FILE_NAME
        self.reading = ledger_events.Reading(
            DEFAULT_PRICES if prices is None else prices, models or {}, repo_keys or {}
        )

    @classmethod
    def of(cls, config: Config) -> Ledger:
        """The ledger of a config's runtime folder, with its prices, models and repos."""
        return cls(
            config.paths.runtime_dir,
            prices=config.prices,
            models={n: b.model for n, b in config.agents.backends.items() if b.model},
            repo_keys={r.github: r.key for r in config.repos},
        )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = ledger_schema.open_db(self.path)
        except sqlite3.DatabaseError as exc:  # not a database, or damaged: rebuilt from the logs
            quarantine.set_aside(self.path, self.runtime_dir, f"unreadable ledger ({exc})")
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            db = ledger_schema.open_db(self.path)
        with closing(db):
            yield db

    # -- keeping it --------------------------------------------------------------------------------
    def update(self) -> int:
        """Apply what the logs gained since the last update; return how many events were read."""
        read = 0
        with self._connect() as db:
            for source, name, is_room in self._changed(db):
                read += ledger_follow.follow(
                    db, source, self._applier(db, name, is_room), rotated=not is_room
                )
        return read

    def rebuild(self) -> int:
        """Make the ledger again from the logs alone (the marks stay); return the events read.

        The signals are then numbered again in time order, so a job's mark is found again by its
        time (`signal_id_at`).
        """
        with self._connect() as db:
            ledger_schema.clear(db)
        read = self.update()
        with self._connect() as db:
            _renumber(db)
        return read

    def add_signals(self, rows: Iterable[SignalRow]) -> int:
        """Append signals from outside our logs to runtime/logs/signals.jsonl; return how many.

        They become rows at the next `update`, and survive a rebuild as every log line does.
        """
        count = 0
        for row in rows:
            record_signal(
                self.runtime_dir,
                ts=row.ts,
                repo_key=row.repo_key,
                kind=row.kind,
                signature=row.signature,
                detail=row.detail,
                source=row.source,
                key=row.key,
            )
            count += 1
        return count

    def _applier(self, db: sqlite3.Connection, name: str, is_room: bool) -> ledger_follow.Apply:
        reading = self.reading
        if is_room:
            return lambda event: ledger_events.apply_room(db, reading, name, event)
        return lambda event: ledger_events.apply_log(db, reading, name, event)

    def _changed(self, db: sqlite3.Connection) -> Iterator[tuple[Path, str, bool]]:
        """(file, task id or job name, is a room) for each log changed since its cursor.

        The rooms' channels first, by task id, then the job logs, by name. The rooms are walked
        in the folder's order, each cursor read by itself, and only the changed rooms' names are
        kept (to be sorted): what is held grows with what is new, not with every room ever made.
        """
        rooms = self.runtime_dir / "rooms"
        # joined as text: a Path per room would intern each name, and grow the interpreter's table
        changed = sorted(
            n for n in _dirs(rooms) if ledger_follow.changed(db, os.path.join(rooms, n, CHANNEL))
        )
        for name in changed:
            yield rooms / name / CHANNEL, name, True
        logs = self.runtime_dir / "logs"
        for base in sorted({_base(name) for name in _files(logs)} - {""}):
            if ledger_follow.changed(db, logs / base):
                yield logs / base, base.removesuffix(LOG_SUFFIX), False

    # -- reading it --------------------------------------------------------------------------------
    def tasks(
        self, since_ts: str | None = None, until_ts: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the task rows, by task id: all, or those judged in [since_ts, until_ts).

        `fix_rounds` is how many fixing attempts the row's issue had (in all time).
        """
        where, args = _window("t.judged_at", since_ts, until_ts)
        return self._rows(
            "SELECT t.*, (SELECT count(*) FROM tasks f WHERE f.repo_key = t.repo_key "
            "AND f.issue = t.issue AND f.task_type = 'fixing') AS fix_rounds "
            f"FROM tasks t {where} ORDER BY t.task_id",
            args,
        )

    def merges(self) -> list[dict[str, Any]]:
        """Return every merge, oldest first."""
        return self._rows("SELECT * FROM merges ORDER BY merged_at, repo, pr")

    def reverts(self) -> list[dict[str, Any]]:
        """Return every reverted PR, oldest revert first."""
        return self._rows("SELECT * FROM reverts ORDER BY reverted_at, repo, pr")

    def incidents(self) -> list[dict[str, Any]]:
        """Return every incident issue Agent OS filed, by repo and issue."""
        return self._rows("SELECT * FROM incidents ORDER BY repo_key, issue")

    def runs(self, since_ts: str) -> dict[str, int]:
        """Return the attempts judged since `since_ts`, per repo key (counted in SQL)."""
        with self._connect() as db:
            return ledger_measures.runs(db, since_ts)

    def spend(self, since_ts: str, until_ts: str) -> dict[str, float]:
        """Return the cost of the attempts started in [since_ts, until_ts), per repo key."""
        with self._connect() as db:
            return ledger_measures.spend(db, since_ts, until_ts)

    def agents(self, since_ts: str, until_ts: str) -> dict[str, tuple[int, int]]:
        """Return (attempts, merged) per agent, of the attempts judged in [since_ts, until_ts)."""
        with self._connect() as db:
            return ledger_measures.agents(db, self.reading.repo_keys, since_ts, until_ts)

    def merged_issues(self, pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
        """Return those of the (repo key, issue) pairs whose work was merged."""
        with self._connect() as db:
            return ledger_measures.merged_issues(db, self.reading.repo_keys, pairs)

    def last_signal_id(self) -> int:
        """Return the id of the newest signal, 0 when there is none."""
        return int(self._one("SELECT coalesce(max(id), 0) FROM signals") or 0)

    def signal_ts(self, signal_id: int) -> str | None:
        """Return the time of a signal, None when there is no such id."""
        found = self._one("SELECT ts FROM signals WHERE id = ?", (signal_id,))
        return None if found is None else str(found)

    def signal_id_at(self, ts: str) -> int:
        """Return the id of the last signal at or before `ts` (0 when none): where a mark made
        before a rebuild resumes, the rebuilt signals being numbered in time order."""
        return int(
            self._one(
                "SELECT coalesce(max(id), 0) FROM signals INDEXED BY signals_by_time WHERE ts <= ?",
                (ts,),
            )
            or 0
        )

    def signal_groups(self, after_id: int, up_to_id: int) -> list[SignalGroup]:
        """Return the signals with after_id < id <= up_to_id, grouped by (repo, kind, signature)."""
        return self._groups("", "id > ? AND id <= ?", (after_id, up_to_id))

    def signal_totals(self, since_ts: str, until_ts: str | None = None) -> list[SignalGroup]:
        """Return the signals with since_ts <= ts (< until_ts), grouped alike."""
        where, args = _window("ts", since_ts, until_ts)
        return self._groups("INDEXED BY signals_by_time", where.removeprefix("WHERE "), args)

    def mark(self, name: str) -> str | None:
        """Return what a job stored under `name` (its cursor into the signals), or None."""
        found = self._one("SELECT value FROM marks WHERE name = ?", (name,))
        return None if found is None else str(found)

    def set_mark(self, name: str, value: str) -> None:
        """Store `value` under `name`; marks survive a rebuild (a signal id is best stored with
        its time: `signal_id_at` finds the place again after the ids change)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO marks (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def _groups(self, index: str, where: str, args: tuple[Any, ...]) -> list[SignalGroup]:
        with self._connect() as db:
            heads = db.execute(
                "SELECT repo_key, kind, signature, count(*), min(ts), max(ts), min(id), max(id) "
                f"FROM signals {index} WHERE {where} "
                "GROUP BY repo_key, kind, signature ORDER BY min(id)",
                args,
            ).fetchall()
            return [_group(db, head, where, args) for head in heads]

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, args)]

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._connect() as db:
            row = db.execute(sql, args).fetchone()
        return None if row is None else row[0]


def _group(
    db: sqlite3.Connection, head: tuple[Any, ...], where: str, args: tuple[Any, ...]
) -> SignalGroup:
    """A group with its first distinct task ids and details, read by its key within its ids."""
    repo_key, kind, sig, count, first_ts, last_ts, low, high = head
    scope = (
        f"kind = ? AND signature = ? AND repo_key = ? AND id BETWEEN ? AND ? AND {where}",
        (kind, sig, repo_key, low, high, *args),
    )

    def distinct(column: str, limit: int) -> tuple[str, ...]:
        rows = db.execute(
            f"SELECT DISTINCT {column} FROM signals INDEXED BY signals_by_key "
            f"WHERE {scope[0]} AND {column} IS NOT NULL AND {column} != '' LIMIT {limit}",
            scope[1],
        )
        return tuple(str(r[0]) for r in rows)

    return SignalGroup(
        repo_key=repo_key,
        kind=kind,
        signature=sig,
        count=count,
        first_ts=first_ts,
        last_ts=last_ts,
        task_ids=distinct("task_id", TASK_IDS),
        details=distinct("detail", DETAILS),
    )


def _renumber(db: sqlite3.Connection) -> None:
    """Number the signals again in time order (after a rebuild read them file by file)."""
    columns = "ts, repo_key, kind, signature, task_id, issue, detail"
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"CREATE TEMP TABLE sorted AS SELECT {columns} FROM signals ORDER BY ts, id")
        db.execute("DELETE FROM signals")
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'signals'")
        db.execute(
            f"INSERT INTO signals ({columns}) SELECT {columns} FROM temp.sorted ORDER BY rowid"
        )
        db.execute("DROP TABLE temp.sorted")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _window(column: str, since: str | None, until: str | None) -> tuple[str, tuple[Any, ...]]:
    terms, args = [], []
    if since is not None:
        terms.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        terms.append(f"{column} < ?")
        args.append(until)
    return ("WHERE " + " AND ".join(terms) if terms else "", tuple(args))


def _dirs(folder: Path) -> Iterator[str]:
    """The names of the folder's subfolders, in the folder's own order, one at a time."""
    try:
        with os.scandir(folder) as entries:
            yield from (e.name for e in entries if e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return


def _files(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if not e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _base(name: str) -> str:
    """`queue.jsonl` and its rotated `queue.jsonl.3` are the one log `queue.jsonl`; else ''."""
    if name.endswith(LOG_SUFFIX):
        return name
    stem, _, number = name.rpartition(".")
    return stem if number.isdigit() and stem.endswith(LOG_SUFFIX) else ""


def record_signal(
    runtime_dir: Path,
    *,
    ts: str | datetime,
    repo_key: str,
    kind: str,
    signature: str,
    detail: str,
    source: str,
    key: str = "",
) -> None:
    """Append a `signal.received` line to runtime/logs/signals.jsonl (redacted, as logs are).

    `key` names the reading it came from (a source's line): the ledger counts a key once.
    """
    stamp = ts if isinstance(ts, str) else _stamp(ts)
    fields = {"repo": repo_key, "kind": kind, "signature": signature, "detail": detail}
    if key:
        fields["key"] = key
    line = {
        "ts": stamp,
        "level": "info",
        "job": SIGNALS_LOG.removesuffix(LOG_SUFFIX),
        "event": "signal.received",
        **redact_all({**fields, "source": source}, _SIGNAL_FIELD),
    }
    append_line(runtime_dir / "logs" / SIGNALS_LOG, json.dumps(line, ensure_ascii=False))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

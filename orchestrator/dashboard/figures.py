"""The dashboard's figures from the outcome ledger, each one grouped query counted by SQLite.

Merges per day, cost per day, lead times, queue depth over time, one task's row: what reaches
Python is a row per day (per merge, for the lead times' medians), never the ledger whole, so a
year of it builds in milliseconds. The database is opened read-only: the ledger's own `update`
(store.ledger) is the one writer; per agent, `Ledger.agents` (store.ledger_measures) is reused.

Times are the ledger's strings (UTC ISO, `2026-12-03T17:05:02.960Z`); a day is their first ten
characters. The window is `since` (inclusive) onwards.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAY = 10  # characters of a timestamp that name its day
# Finer buckets for the queue's depth when its changes span little time: (characters, seconds).
BUCKETS = ((19, 1), (16, 60), (13, 3600), (DAY, 86400))
MAX_BUCKETS = 400  # points of the queue's line, at most
MAX_PARTS = 2400  # parts its peaks are found in (100 days of hours), at most
_REPOS = "repos (github, key) AS (SELECT key, value FROM json_each(?))"
# When an attempt left the queue: it started, or it ended without starting.
_LEFT = "coalesce(started_at, ended_at, judged_at)"


@dataclass(frozen=True, slots=True)
class DayCount:
    """One day's figure: its count (merges, attempts) and, for cost, the dollars."""

    day: str
    count: int
    cost_usd: float = 0.0
    estimated: int = 0  # attempts whose cost was estimated from tokens


def connect(path: Path) -> sqlite3.Connection:
    """Open the ledger read-only; sqlite3.Error when it is missing or damaged."""
    if not path.is_file():
        raise sqlite3.OperationalError(f"no ledger at {path} yet")
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        db.execute("PRAGMA mmap_size = 268435456")  # a year's scans read mapped pages, no copies
        db.execute("SELECT count(*) FROM tasks").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


def merges_per_day(db: sqlite3.Connection, since: str) -> list[DayCount]:
    """Return the merges of each day since `since` that had any, oldest first."""
    rows = db.execute(
        f"SELECT substr(merged_at, 1, {DAY}) AS day, count(*) FROM merges "
        "WHERE merged_at >= ? GROUP BY day ORDER BY day",
        (since,),
    )
    return [DayCount(str(day), int(n)) for day, n in rows]


def cost_per_day(db: sqlite3.Connection, since: str) -> list[DayCount]:
    """Return the attempts judged each day since `since`, with what they cost, oldest first."""
    rows = db.execute(
        f"SELECT substr(judged_at, 1, {DAY}) AS day, count(*), coalesce(sum(cost_usd), 0), "
        "sum(cost_estimated) FROM tasks WHERE judged_at >= ? "
        "GROUP BY day ORDER BY day",
        (since,),
    )
    return [DayCount(str(day), int(n), float(cost), int(est or 0)) for day, n, cost, est in rows]


def lead_times(
    db: sqlite3.Connection, since: str, repo_keys: Mapping[str, str]
) -> list[tuple[str, float]]:
    """Return (day, hours) of each merge since `since`: its issue's first attempt queued (the
    dispatcher took the Ready issue) to the merge, as `agentos report` measures lead time.

    A merge whose repo no key maps, or whose issue was never queued, has none.
    """
    rows = db.execute(  # a correlated lookup per merge: twice as quick as a join and a group
        f"WITH {_REPOS} SELECT substr(m.merged_at, 1, {DAY}), (julianday(m.merged_at) - "
        "julianday((SELECT min(t.queued_at) FROM tasks t WHERE t.repo_key = r.key "
        "AND t.issue = m.issue))) * 24 FROM merges m JOIN repos r ON r.github = m.repo "
        "WHERE m.merged_at >= ? ORDER BY m.merged_at",
        (json.dumps(dict(repo_keys)), since),
    )
    return [(str(day), max(0.0, float(h))) for day, h in rows if h is not None]


def queue_depth(db: sqlite3.Connection, since: str) -> tuple[int, list[tuple[str, int]]]:
    """Return the buckets' width in seconds and, oldest first, (bucket, the most tasks waiting at
    the end of any of its parts) for each bucket since `since` in which the queue changed.

    An attempt waits from its `queued_at` (the dispatcher queued it) until it started, or ended
    without starting; attempts the dispatcher did not queue (a retry, a fixing round) have no
    queue time in the ledger and are not counted. The buckets are the finest of a second, a
    minute, an hour and a day that keeps the changes within MAX_BUCKETS of them; their parts
    are one step finer (a day's hours, an hour's minutes) while that makes at most MAX_PARTS of
    them, else the buckets themselves (a long history's days). SQLite counts the arrivals and
    the departures of each part; the running total, a step per part, is summed here.
    """
    base, queued, left, last = db.execute(
        f"SELECT coalesce(sum(queued_at < ?1 AND ({_LEFT} IS NULL OR {_LEFT} >= ?1)), 0), "
        f"min(CASE WHEN queued_at >= ?1 THEN queued_at END), "
        f"min(CASE WHEN {_LEFT} >= ?1 THEN {_LEFT} END), "
        f"max(max(queued_at), coalesce(max({_LEFT}), '')) FROM tasks WHERE queued_at IS NOT NULL",
        (since,),
    ).fetchone()
    first = min((t for t in (queued, left) if t is not None), default=None)
    if first is None:
        return 86400, []
    span = float(
        db.execute("SELECT (julianday(?) - julianday(?)) * 86400", (last, first)).fetchone()[0]
        or 0.0
    )
    level = next(
        (i for i, (_, seconds) in enumerate(BUCKETS) if span / seconds < MAX_BUCKETS),
        len(BUCKETS) - 1,
    )
    width, seconds = BUCKETS[level]
    finer = BUCKETS[level - 1] if level else BUCKETS[0]
    part = finer[0] if span / finer[1] < MAX_PARTS else width
    arrivals = dict(
        db.execute(
            f"SELECT substr(queued_at, 1, {part}) AS part, count(*) FROM tasks "
            "WHERE queued_at >= ? GROUP BY part",
            (since,),
        ).fetchall()
    )
    departures = dict(
        db.execute(
            f"SELECT substr({_LEFT}, 1, {part}) AS part, count(*) FROM tasks "
            f"WHERE queued_at IS NOT NULL AND {_LEFT} >= ? GROUP BY part",
            (since,),
        ).fetchall()
    )
    depth, peaks = int(base), dict[str, int]()
    for label in sorted(arrivals.keys() | departures.keys()):
        depth += arrivals.get(label, 0) - departures.get(label, 0)
        bucket = label[:width]
        peaks[bucket] = max(peaks.get(bucket, 0), depth)
    return seconds, [(bucket, max(0, most)) for bucket, most in peaks.items()]


def agents(
    db: sqlite3.Connection, repo_keys: Mapping[str, str], since: str
) -> dict[str, tuple[int, int]]:
    """Return (attempts, merged) per agent of the attempts judged since `since`.

    The measure of `store.ledger_measures.agents` (an attempt's agent is the last backend of
    its chain, `-` when none ran; it counts as merged when it opened a PR and its issue has a
    merged PR), counted per chain by SQLite and folded into agents here: cutting each row's
    chain to its last backend in SQL made it twice as slow over a year.
    """
    rows = db.execute(
        f"WITH {_REPOS} SELECT agents, count(*), sum(won) FROM (SELECT agents, CASE WHEN "
        "next = 'open_pr' AND (repo_key, issue) IN (SELECT r.key, m.issue FROM merges m "
        "JOIN repos r ON r.github = m.repo WHERE m.issue IS NOT NULL) THEN 1 ELSE 0 END AS won "
        "FROM tasks WHERE judged_at >= ?) GROUP BY agents",
        (json.dumps(dict(repo_keys)), since),
    )
    found: dict[str, tuple[int, int]] = {}
    for chain, tried, won in rows:
        agent = str(chain or "").split(",")[-1] or "-"
        before = found.get(agent, (0, 0))
        found[agent] = (before[0] + int(tried), before[1] + int(won or 0))
    return found


def merges_since(db: sqlite3.Connection, since: str) -> int:
    """Return how many PRs were merged since `since`."""
    return int(
        db.execute("SELECT count(*) FROM merges WHERE merged_at >= ?", (since,)).fetchone()[0]
    )


def outcomes(db: sqlite3.Connection, task_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return the ledger's `next`, `state`, `cost_usd` and `pr` of each task asked about."""
    asked = sorted(set(task_ids))
    if not asked:
        return {}
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute(
            "SELECT task_id, next, state, cost_usd, pr, agents FROM tasks "
            "WHERE task_id IN (SELECT value FROM json_each(?))",
            (json.dumps(asked),),
        ).fetchall()
    finally:
        db.row_factory = None
    return {str(r["task_id"]): dict(r) for r in rows}


def newest(db: sqlite3.Connection, limit: int) -> list[str]:
    """Return the ids of the last `limit` tasks judged, the last first."""
    rows = db.execute("SELECT task_id FROM tasks ORDER BY judged_at DESC LIMIT ?", (limit,))
    return [str(task_id) for (task_id,) in rows]


def task_row(db: sqlite3.Connection, task_id: str) -> dict[str, Any] | None:
    """Return one task's row of the ledger, or None."""
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    finally:
        db.row_factory = None
    return None if row is None else dict(row)

"""The log analyzer's measures of the ledger's tasks and merges, counted by SQLite; the day's spend.

Judged attempts per repo, (attempts, merged) per agent, and which issues' work was merged: each
one grouped query, so what reaches Python is a row per repo, per agent or per issue asked about,
never a row per attempt. An attempt's agent is the last backend that ran it (`agents` is the
chain in order; `-` when none ran). It counts as merged when it opened a PR (`next` is
`open_pr`) and its issue has a merged PR. A merge is an issue's when its repo ("owner/name") maps
to the issue's repo key through `repo_keys`; a merge of a repo no key maps is nobody's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping

# The (repo key, issue) pairs whose work was merged, and an attempt's agent: the part of
# `agents` after its last comma, found by trimming every character but commas off its end.
_REPOS = "repos (github, key) AS (SELECT key, value FROM json_each(?))"
_MERGED = (
    "SELECT r.key, m.issue FROM merges m JOIN repos r ON r.github = m.repo "
    "WHERE m.issue IS NOT NULL"
)
_AGENT = "substr(chain, length(rtrim(chain, replace(chain, ',', ''))) + 1)"


def runs(db: sqlite3.Connection, since_ts: str) -> dict[str, int]:
    """Return the attempts judged at or after `since_ts`, per repo key."""
    rows = db.execute(
        "SELECT repo_key, count(*) FROM tasks INDEXED BY tasks_by_judgement "
        "WHERE judged_at >= ? GROUP BY repo_key",
        (since_ts,),
    )
    return {str(repo): int(count) for repo, count in rows}


def spend(db: sqlite3.Connection, since_ts: str, until_ts: str) -> dict[str, float]:
    """Return the priced cost of the attempts started in [since_ts, until_ts), per repo key.

    An attempt counts on the day it started (`started_at`), whenever its chain ended; one whose
    cost is unknown (no price matched) counts nothing.
    """
    rows = db.execute(
        "SELECT repo_key, sum(cost_usd) FROM tasks WHERE started_at >= ? AND started_at < ? "
        "AND cost_usd IS NOT NULL GROUP BY repo_key",
        (since_ts, until_ts),
    )
    return {str(repo): float(cost) for repo, cost in rows}


def agents(
    db: sqlite3.Connection, repo_keys: Mapping[str, str], since_ts: str, until_ts: str
) -> dict[str, tuple[int, int]]:
    """Return (attempts, merged) per agent, of the attempts judged in [since_ts, until_ts)."""
    rows = db.execute(
        f"WITH {_REPOS} "
        f"SELECT {_AGENT} AS agent, count(*), sum(won) FROM ("
        "SELECT coalesce(nullif(agents, ''), '-') AS chain, "
        f"CASE WHEN next = 'open_pr' AND (repo_key, issue) IN ({_MERGED}) THEN 1 ELSE 0 END AS won "
        "FROM tasks INDEXED BY tasks_by_judgement WHERE judged_at >= ? AND judged_at < ?"
        ") GROUP BY agent",
        (json.dumps(dict(repo_keys)), since_ts, until_ts),
    )
    return {str(agent): (int(tried), int(won)) for agent, tried, won in rows}


def merged_issues(
    db: sqlite3.Connection, repo_keys: Mapping[str, str], pairs: Iterable[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Return those of the (repo key, issue) pairs asked about whose work was merged."""
    asked = sorted(set(pairs))
    if not asked:
        return set()
    rows = db.execute(
        f"WITH {_REPOS}, asked (key, issue) AS ("
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
        f"SELECT key, issue FROM asked WHERE (key, issue) IN ({_MERGED})",
        (json.dumps(dict(repo_keys)), json.dumps(asked)),
    )
    return {(str(key), int(issue)) for key, issue in rows}

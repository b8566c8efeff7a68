"""The outcome ledger's tables (runtime/ledger.sqlite), and opening the database.

Every table but `marks` is derived from the logs: `rebuild` empties them (and the cursors) and
reads the logs again. `marks` keeps what other jobs store here (the incident scanner's cursor),
so it survives a rebuild. A database of another schema version is emptied the same way on open:
it is derived, so the next update makes it again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

VERSION = 3  # PRAGMA user_version of the schema below; 0 (or 1) is the first ledger's
SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    repo_key TEXT NOT NULL,
    issue INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    task_type TEXT,
    agents TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    cost_estimated INTEGER NOT NULL DEFAULT 0,
    model TEXT,
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
CREATE TABLE IF NOT EXISTS chains (
    task_id TEXT PRIMARY KEY,
    backend TEXT,
    model TEXT,
    runs INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    estimated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS merges (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    issue INTEGER,
    sha TEXT,
    merged_at TEXT NOT NULL,
    PRIMARY KEY (repo, pr)
);
CREATE INDEX IF NOT EXISTS merges_by_time ON merges (merged_at);
CREATE TABLE IF NOT EXISTS signals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    repo_key TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    signature TEXT NOT NULL,
    task_id TEXT,
    issue INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS signals_by_key ON signals (kind, signature, repo_key);
CREATE INDEX IF NOT EXISTS signals_by_time ON signals (ts);
CREATE TABLE IF NOT EXISTS reverts (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    reverted_at TEXT NOT NULL,
    by_sha TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, pr)
);
CREATE TABLE IF NOT EXISTS incidents (
    repo_key TEXT NOT NULL,
    issue INTEGER NOT NULL,
    signature TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    first_seen TEXT,
    last_seen TEXT,
    count INTEGER NOT NULL DEFAULT 0,
    filed_at TEXT,
    fixed_at TEXT,
    fixed_by_pr INTEGER,
    reopened_at TEXT,
    updated_at TEXT,
    PRIMARY KEY (repo_key, issue)
);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    head BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS signal_keys (
    key TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# What `rebuild` empties: every table the logs make, and the cursors into the logs.
DERIVED = (
    "tasks",
    "chains",
    "merges",
    "signals",
    "signal_keys",
    "reverts",
    "incidents",
    "cursors",
)
_OLD = ("tasks", "merges", "cursors")  # the first ledger's tables, dropped when met


def open_db(path: Path) -> sqlite3.Connection:
    """Open (and if need be make, or remake at this schema version) the ledger's database."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
            _migrate(db)
        db.execute("SELECT count(*) FROM tasks").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Make the tables of this version; an older ledger's derived tables are dropped first."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:  # not done meanwhile
            for table in (*DERIVED, *_OLD):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def clear(db: sqlite3.Connection) -> None:
    """Empty the derived tables and the cursors (not `marks`), in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for table in DERIVED:
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'signals'")  # ids start at 1 again
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise

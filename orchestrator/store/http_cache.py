"""GitHub's REST pages as last fetched, kept across ticks (`runtime/state/github_pages.sqlite`).

Each tick is a process of its own, so an ETag remembered in memory helps only within one tick.
Kept here, the next tick's GET of the same URL is conditional too, and GitHub answers an unchanged
resource with 304, which its rate limit does not count: an idle poll of a label board costs
nothing of the hourly budget. The key is the URL and a digest of the token (another identity may
see another page); no token is stored. SQLite from the standard library, WAL, short
transactions, so the jobs and workers of one machine share it. Bounded: past MAX_PAGES the pages
used longest ago go. A file SQLite cannot read is set aside (runtime/quarantine/) once and the
process goes on without the cache; a GET then simply is not conditional.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from orchestrator.store import quarantine

FILE_NAME = "github_pages.sqlite"
MAX_PAGES = 5000  # rows kept; pages of 100 items of a large board, labels, events …
MAX_BODY = 4 * 1024 * 1024  # characters of one page kept at most: bigger ones are not kept
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, etag TEXT NOT NULL, "
    "next_url TEXT, body TEXT NOT NULL, used REAL NOT NULL)"
)


class PageCache:
    """The pages one identity fetched; every method swallows SQLite's errors after the first."""

    def __init__(self, state_dir: Path, token: str) -> None:
        self.path = state_dir / FILE_NAME
        self._who = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def get(self, url: str) -> tuple[str, str | None, str] | None:
        """Return (etag, next_url, body) last kept for `url`, or None (no file yet: none made,
        so a command whose every read is refused leaves runtime/ as it was)."""
        if self._db is None and not self.path.exists():
            return None
        db = self._open()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT etag, next_url, body FROM pages WHERE key = ?", (self._key(url),)
            ).fetchone()
        except sqlite3.Error as error:
            self._damaged(error)
            return None
        return (str(row[0]), row[1], str(row[2])) if row else None

    def put(self, url: str, etag: str, next_url: str | None, body: str) -> None:
        """Keep a page fetched with its ETag (a page too big to keep is left out)."""
        db = self._open()
        if db is None or len(body) > MAX_BODY:
            return
        try:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?)",
                    (self._key(url), etag, next_url, body, time.time()),
                )
                db.execute(
                    "DELETE FROM pages WHERE key NOT IN "
                    "(SELECT key FROM pages ORDER BY used DESC LIMIT ?)",
                    (MAX_PAGES,),
                )
        except sqlite3.Error as error:
            self._damaged(error)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _key(self, url: str) -> str:
        return f"{self._who} {url}"

    def _open(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                self._db = db
            except (sqlite3.Error, OSError) as error:
                self._damaged(error)
                return None
        return self._db

    def _damaged(self, error: Exception) -> None:
        """Set a file SQLite cannot use aside, once; go on without the cache."""
        self._broken = True
        self.close()
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(
            error, sqlite3.OperationalError
        ):
            reason = f"unreadable GitHub page cache ({type(error).__name__})"
            quarantine.set_aside(self.path, self.path.parent.parent, reason)

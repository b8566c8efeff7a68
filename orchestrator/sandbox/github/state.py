"""Hold the sandbox's GitHub records in one JSON document, under one lock, saved atomically."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Json = dict[str, Any]

STATE_FILE = "state.json"


def now_iso() -> str:
    """Return the current UTC time as GitHub writes it: 2026-05-01T10:00:03Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    """Return a legacy-format node id (base64 of "0<len>:<Kind><id>"), stable for a record."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def parse_node_id(value: str) -> tuple[str, int] | None:
    """Return (kind, id) for a node id made by `node_id`, or None."""
    try:
        text = base64.b64decode(value.encode(), validate=True).decode()
        size, rest = text.split(":", 1)
        kind_len = int(size)
        return rest[:kind_len], int(rest[kind_len:])
    except (ValueError, UnicodeDecodeError):
        return None


def _empty() -> Json:
    return {"next_id": 1000, "users": {}, "tokens": {}, "repos": {}, "apps": {}, "graphql": {}}


class Store:
    """The sandbox's records (users, tokens, repos with issues, pulls, checks) and their lock."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.git_root = data_dir / "git"
        self.lock = threading.RLock()
        self.data: Json = _empty()
        self._index: dict[int, tuple[str, str]] = {}  # issue id -> (repo full name, number)
        self._batched = 0
        path = data_dir / STATE_FILE
        if path.exists():
            self.data = {**_empty(), **json.loads(path.read_text(encoding="utf-8"))}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Save once at the end instead of after every write (for seeding thousands of records)."""
        with self.lock:
            self._batched += 1
        try:
            yield
        finally:
            with self.lock:
                self._batched -= 1
            self.save()

    def save(self) -> None:
        """Write the state to `state.json` via a temp file and os.replace (deferred in `batch`)."""
        with (
            self.lock
        ):  # held through the replace, so an older snapshot never overwrites a newer one
            if self._batched:
                return
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.data_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.data_dir / STATE_FILE)

    def new_id(self) -> int:
        """Return a fresh numeric id (unique across every kind of record)."""
        with self.lock:
            self.data["next_id"] += 1
            return int(self.data["next_id"])

    @property
    def users(self) -> dict[str, Json]:
        """Users, organizations and app bots by login."""
        return self.data["users"]  # type: ignore[no-any-return]

    @property
    def tokens(self) -> dict[str, Json]:
        """Token records ({login, scopes}) by token."""
        return self.data["tokens"]  # type: ignore[no-any-return]

    @property
    def repos(self) -> dict[str, Json]:
        """Repository records by "owner/name"."""
        return self.data["repos"]  # type: ignore[no-any-return]

    def repo(self, owner: str, name: str) -> Json | None:
        """Return the repo record for owner/name, matched case-insensitively as GitHub does."""
        wanted = f"{owner}/{name}".lower()
        for full_name, record in self.repos.items():
            if full_name.lower() == wanted:
                return record
        return None

    def user(self, login: str) -> Json | None:
        """Return the user or organization record for a login, matched case-insensitively."""
        for key, record in self.users.items():
            if key.lower() == login.lower():
                return record
        return None

    def git_dir(self, repo: Json) -> Path:
        """Return the bare repository directory of a repository record."""
        return Path(self.git_root, str(repo["owner"]), f"{repo['name']}.git")

    def issue_by_id(self, issue_id: int) -> tuple[Json, Json] | None:
        """Return (repo, issue) of an issue's numeric `id`, or of a pull request's (its REST `id`,
        apart from its issue's), in any repo (indexed, checked on use)."""
        found = self._indexed(issue_id)
        if found is None:
            self._index = {
                key: (full_name, number)
                for full_name, repo in self.repos.items()
                for number, issue in repo["issues"].items()
                for key in _ids(issue)
            }
            found = self._indexed(issue_id)
        return found

    def _indexed(self, issue_id: int) -> tuple[Json, Json] | None:
        where = self._index.get(issue_id)
        repo = self.repos.get(where[0]) if where else None
        issue = repo["issues"].get(where[1]) if repo and where else None
        return (
            (repo, issue)
            if repo is not None and issue is not None and issue_id in _ids(issue)
            else None
        )


def _ids(issue: Json) -> tuple[int, ...]:
    """Return the ids an issue record answers to: its own, and its pull request's."""
    return (issue["id"], issue["pull"]["id"]) if issue["pull"] else (issue["id"],)

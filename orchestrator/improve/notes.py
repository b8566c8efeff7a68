"""Say a thing on an issue once, and move a card, for the groomer: each write made one time only.

A note is one comment with a hidden marker (`Tracker.upsert_comment`), edited in place when its
text changes. The memo keeps a digest of what was said, so the next run neither reads nor writes
it again; with the memo lost, the issue's comments are read and an unchanged note is left as is.
A label goes on with a note's first writing only, so a person who takes it off is not overruled.
GitHub refusing one write is logged (`grooming.failed`) and the run goes on with the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from orchestrator.config.model import RepoConfig
from orchestrator.core.model import BoardItem, BoardStatus, Issue
from orchestrator.core.redact import redact
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.store.memo import Memo


class Notes:
    """The notes and card moves of one run."""

    def __init__(
        self, deps: Deps, memo: Memo, colours: Mapping[str, str], *, dry_run: bool = False
    ) -> None:
        self.deps, self.memo, self.colours, self.dry_run = deps, memo, colours, dry_run
        self._labelled: set[str] = set()

    def said(self, issue: Issue, marker: str, text: str) -> bool:
        """Return whether the memo says this note was said, word for word."""
        return self.memo.get("notes", f"{issue.ref} {marker}") == digest(text)

    def note(
        self, repo: RepoConfig, issue: Issue, marker: str, text: str, label: str | None = None
    ) -> bool:
        """Say `text` in the issue's `marker` comment; True when it was written (or would be)."""
        if self.said(issue, marker, text):
            return False
        try:
            return self._write(repo, issue, marker, text, label)
        except Unauthorized:
            raise
        except TrackerError as error:
            self._failed(repo, issue.number, error)
            return False

    def move(self, repo: RepoConfig, item: BoardItem, status: BoardStatus) -> bool:
        """Move a card; True when moved (a dry run only says it would)."""
        if self.dry_run:
            was = item.status.value if item.status else "no status"
            print(f"{item.issue}: would move the card from {was} to {status.value}")
            return True
        try:
            self.deps.board_for(repo).set_status(item, status)
        except Unauthorized:
            raise
        except TrackerError as error:
            self._failed(repo, item.issue.number, error)
            return False
        return True

    def _write(
        self, repo: RepoConfig, issue: Issue, marker: str, text: str, label: str | None
    ) -> bool:
        tracker, key = self.deps.tracker, f"{issue.ref} {marker}"
        mine = next((c for c in tracker.comments(issue.ref) if marker in c.body), None)
        if mine is not None and mine.body.replace(marker, "").strip() in {
            text.strip(),
            redact(text).strip(),
        }:
            if not self.dry_run:
                self.memo.changed("notes", key, digest(text))
            return False
        if self.dry_run:
            first = text.splitlines()[0] if text else ""
            print(f"{issue.ref}: would {'edit' if mine else 'write'} a note: {first}")
            return True
        if label and mine is None and label not in issue.labels:
            if repo.key not in self._labelled:
                tracker.ensure_labels(repo.github, self.colours)
                self._labelled.add(repo.key)
            tracker.add_labels(issue.ref, [label])
        tracker.upsert_comment(issue.ref, marker, text)
        self.memo.changed("notes", key, digest(text))
        return True

    def _failed(self, repo: RepoConfig, number: int, error: TrackerError) -> None:
        self.deps.log.warning(
            "grooming.failed", extra={"repo": repo.key, "issue": number, "error": str(error)[:200]}
        )


def digest(text: str) -> str:
    """Return what the memo keeps of a text: short, and the same for the same words."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]

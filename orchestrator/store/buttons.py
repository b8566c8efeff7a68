"""Escalation buttons' records: what a token stands for, and the claim that makes a press act once.

`runtime/state/telegram_actions/<token>.json` is written when the escalation's message is
sent; `<token>.done` is created exclusively (O_EXCL) by the first press, so two presses, two
chats or two bot processes can never act twice. A failed action gives its claim back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from orchestrator.core.model import IssueRef
from orchestrator.core.notify import Notification, action_token
from orchestrator.store.files import atomic_write

TTL = timedelta(days=7)  # a button older than this only says it expired


@dataclass(frozen=True, slots=True)
class ButtonRecord:
    token: str
    task_id: str
    issue: IssueRef
    created_at: datetime


class ButtonRecords:
    """The records under runtime/state/telegram_actions/."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / "telegram_actions"

    def record(self, note: Notification, now: datetime) -> None:
        """Remember what an escalation's buttons act on (kept as first written)."""
        if note.issue is None or not note.task_id:
            return
        path = self.folder / f"{action_token(note.task_id)}.json"
        if not path.exists():
            atomic_write(
                path,
                json.dumps(
                    {
                        "task_id": note.task_id,
                        "repo": note.issue.repo,
                        "number": note.issue.number,
                        "created_at": now.isoformat(),
                    }
                ),
            )

    def find(self, token: str) -> ButtonRecord | None:
        """Return the action a token stands for, or None when there is no (readable) record."""
        try:
            raw = json.loads((self.folder / f"{token}.json").read_text(encoding="utf-8"))
            return ButtonRecord(
                token,
                str(raw["task_id"]),
                IssueRef(str(raw["repo"]), int(raw["number"])),
                datetime.fromisoformat(raw["created_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def claim(self, token: str) -> bool:
        """Take the one claim on a token; False when an earlier press holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.folder / f"{token}.done", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def outcome(self, token: str) -> str:
        """Return what the press that claimed the token did ('' while it is still acting)."""
        try:
            return (self.folder / f"{token}.done").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def settle(self, token: str, outcome: str) -> None:
        """Record what the claiming press did."""
        atomic_write(self.folder / f"{token}.done", outcome + "\n")

    def release(self, token: str) -> None:
        """Give the claim back after a failed action, so the button can be pressed again."""
        (self.folder / f"{token}.done").unlink(missing_ok=True)

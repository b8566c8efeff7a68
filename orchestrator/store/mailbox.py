"""The mailbox: one Markdown file per task under runtime/mailbox/<state>/; a move is a state change.

Claims are atomic filesystem operations, so overlapping ticks never double-queue or double-run:
a new task is created with `os.link` (fails if the id exists), and a worker takes a task by
renaming it from inbox/ to processing/ (only one rename can succeed). The folders are the
values of `core.tasks.MailboxState`; folders of earlier versions are moved in on first use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from orchestrator.core.tasks import RENAMED, MailboxState, Task, TaskType, parse_id
from orchestrator.store.files import atomic_write


def render(task: Task) -> str:
    """Return the task file: YAML front matter, then the body."""
    meta = {k: v for k, v in asdict(task).items() if k not in ("body", "history")}
    meta["task_type"] = task.task_type.value
    meta["chain"] = list(task.chain)
    meta["created_at"] = task.created_at.isoformat()
    meta["not_before"] = task.not_before.isoformat() if task.not_before else None
    meta["history"] = list(task.history)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n{task.body.rstrip()}\n"


def parse(text: str) -> Task:
    """Parse a task file written by `render`."""
    _, front, body = text.split("---\n", 2)
    meta: dict[str, Any] = yaml.safe_load(front)
    known = {f.name for f in fields(Task)}
    values = {k: v for k, v in meta.items() if k in known}
    values["task_type"] = TaskType(values["task_type"])
    values["chain"] = tuple(values.get("chain", ()))
    values["history"] = tuple(values.get("history", ()))
    values["created_at"] = datetime.fromisoformat(str(values["created_at"]))
    if values.get("not_before"):
        values["not_before"] = datetime.fromisoformat(str(values["not_before"]))
    return Task(body=body.rstrip("\n"), **values)


class Mailbox:
    """The task files of one runtime folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        migrate(root)

    def path(self, state: MailboxState, task_id: str) -> Path:
        """Return where a task file in `state` lives; ValueError for a bad state or task id."""
        if state not in MailboxState.__members__.values() or parse_id(task_id) is None:
            raise ValueError(f"bad mailbox location {state}/{task_id}")
        return self.root / MailboxState(state).value / f"{task_id}.md"

    def create(self, task: Task, state: MailboxState = MailboxState.INBOX) -> bool:
        """Write a new task file; False when a task with this id exists in any state."""
        if self.locate(task.id) is not None:
            return False
        target = self.path(state, task.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{task.id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(render(task))
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, target)  # the claim: fails if another tick created it first
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True

    def move(self, task_id: str, source: MailboxState, target: MailboxState) -> bool:
        """Move a task between states; False when it is no longer in `source` (someone else won)."""
        destination = self.path(target, task_id)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.path(source, task_id), destination)
        except FileNotFoundError:
            return False
        return True

    def update(self, task: Task, state: MailboxState) -> None:
        """Rewrite a task file in place, atomically."""
        atomic_write(self.path(state, task.id), render(task))

    def read(self, state: MailboxState, task_id: str) -> Task:
        return parse(self.path(state, task_id).read_text(encoding="utf-8"))

    def locate(self, task_id: str) -> MailboxState | None:
        """Return the state a task is in, or None."""
        return next((s for s in MailboxState if self.path(s, task_id).exists()), None)

    def ids(self, state: MailboxState) -> list[str]:
        """Return the task ids in a state, oldest file first."""
        folder = self.root / MailboxState(state).value
        try:
            entries = [
                e
                for e in os.scandir(folder)
                if e.name.endswith(".md") and not e.name.startswith(".")
            ]
        except FileNotFoundError:
            return []
        entries.sort(key=lambda e: (e.stat().st_mtime, e.name))
        return [e.name[:-3] for e in entries]

    def tasks(self, state: MailboxState) -> Iterator[Task]:
        """Yield the tasks in a state; a file that vanished meanwhile is skipped."""
        for task_id in self.ids(state):
            try:
                yield self.read(state, task_id)
            except FileNotFoundError:
                continue

    def for_issue(self, repo_key: str, issue: int) -> dict[str, MailboxState]:
        """Return {task id: state} for every task of one issue, in every state."""
        found = {}
        for state in MailboxState:
            for task_id in self.ids(state):
                parsed = parse_id(task_id)
                if parsed and parsed[0] == repo_key and parsed[1] == issue:
                    found[task_id] = state
        return found


def count_by_state(root: Path) -> dict[MailboxState, int]:
    """Count the task files in each state's folder."""
    migrate(root)
    found = {}
    for state in MailboxState:
        try:
            found[state] = sum(1 for e in os.scandir(root / state.value) if e.name.endswith(".md"))
        except FileNotFoundError:
            found[state] = 0
    return found


def migrate(root: Path) -> None:
    """Move the task files of an earlier version's folders (done/, failed/, blocked/) to today's.

    Safe when ticks overlap: each file is linked into its new folder, then unlinked from the old,
    so a file is always in one folder or both (never none), and a second tick doing the same
    finds the link made and only removes the old name. The old folder goes when it is empty.
    """
    for old, new in RENAMED.items():
        folder = root / old
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            # never there, or an overlapping tick finished
            continue
        target = root / new.value
        target.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            if not entry.name.endswith(".md") or entry.name.startswith("."):
                continue
            try:
                os.link(entry.path, target / entry.name)
            except FileExistsError:
                pass  # an overlapping tick linked it first
            except FileNotFoundError:
                continue  # moved meanwhile
            Path(entry.path).unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:  # not empty (a temp file, a stray) or gone: left for a person, or done
            pass

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from orchestrator.core.tasks import RENAMED, MailboxState, Task, TaskType, parse_id
from orchestrator.errors import SetAside
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: ten times faster
# The fields a task file must carry, with their types; the rest have defaults.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "repo_key": str,
    "repo": str,
    "issue": int,
    "title": str,
    "branch": str,
    "base": str,
    "attempt": int,
    "max_attempts": int,
    "generation": int,
    "priority": int,
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "reason": str,
    "pr": (int, type(None)),
    "chain": list,
    "history": list,
}


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
    """Parse a task file written by `render`; ValueError says what is wrong with any other."""
    parts = text.split("---\n", 2)
    if len(parts) != 3 or parts[0]:
        raise ValueError("no front matter between --- lines")
    _, front, body = parts
    try:
        meta = yaml.load(front, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"front matter is a {type(meta).__name__}, not a mapping")
    for name, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if name not in meta and name in _OPTIONAL:
            continue
        value = meta.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name}: expected {_kind(kind)}, got {type(value).__name__}")
    for name in ("chain", "history"):
        if not all(isinstance(v, str) for v in meta.get(name, ())):
            raise ValueError(f"{name}: expected a list of strings")
    known = {f.name for f in fields(Task)}
    values: dict[str, Any] = {k: v for k, v in meta.items() if k in known}
    values["task_type"] = TaskType(str(values.get("task_type")))
    values["chain"] = tuple(values.get("chain", ()))
    values["history"] = tuple(values.get("history", ()))
    values["created_at"] = _when(values.get("created_at"), "created_at")
    values["not_before"] = (
        _when(values["not_before"], "not_before") if values.get("not_before") else None
    )
    return Task(body=body.rstrip("\n"), **values)


def _kind(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("null" if k is type(None) else k.__name__ for k in kinds)


def _when(value: object, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError(f"{name}: expected a timestamp, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValueError(f"{name}: a timestamp without a time zone")
    return moment


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

    def changed_at(self, state: MailboxState, task_id: str) -> datetime | None:
        """When the task's file last entered `state` (its ctime: a rename sets it), or None."""
        try:
            return datetime.fromtimestamp(self.path(state, task_id).stat().st_ctime, UTC)
        except FileNotFoundError:
            return None

    def update(self, task: Task, state: MailboxState) -> None:
        """Rewrite a task file in place, atomically."""
        atomic_write(self.path(state, task.id), render(task))

    def read(self, state: MailboxState, task_id: str) -> Task:
        """Read a task file; one that cannot be read is set aside and raises SetAside.

        SetAside is a FileNotFoundError: to a caller, the file is gone, as if moved meanwhile.
        """
        path = self.path(state, task_id)
        try:
            task = parse(read_state(path).decode("utf-8"))
            if task.id != task_id:
                raise ValueError(f"it says it is task {task.id!r}")
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            self.set_aside(path, f"unreadable task file ({_short(exc)})")
            raise SetAside(path) from None
        return task

    def set_aside(self, path: Path, reason: str) -> None:
        """Move a task file out of the mailbox into runtime/quarantine/."""
        quarantine.set_aside(path, self.root.parent, reason)

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
        return [name[:-3] for _, name in sorted(_stamped(entries))]

    def tasks(self, state: MailboxState) -> Iterator[Task]:
        """Yield the tasks in a state; a file that vanished meanwhile is skipped."""
        for task_id in self.ids(state):
            try:
                yield self.read(state, task_id)
            except FileNotFoundError:  # moved meanwhile, or set aside as unreadable
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


def _stamped(entries: list[os.DirEntry[str]]) -> Iterator[tuple[float, str]]:
    for entry in entries:
        try:
            yield entry.stat().st_mtime, entry.name
        except FileNotFoundError:  # moved meanwhile
            continue


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__

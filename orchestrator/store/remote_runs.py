"""The remote run an attempt started, kept in its room (`remote_run.json`) until it is collected.

A worker killed while its agent runs on another engine leaves this file behind; the worker that
takes the task up again reads it and follows the same run instead of starting a second one. A
damaged file is set aside and read as absent: the executor's `find` still recovers the run.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from orchestrator.core.remote import RemoteRun
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

NAME = "remote_run.json"
_LIMIT = 4096


class RunRecords:
    """The remote run record of each task's room under `rooms_dir`."""

    def __init__(self, rooms_dir: Path) -> None:
        self.rooms_dir = rooms_dir

    def _path(self, task_id: str) -> Path:
        return self.rooms_dir / task_id / NAME

    def load(self, task_id: str) -> RemoteRun | None:
        """Return the task's run, or None when there is none (or it was damaged and set aside)."""
        path = self._path(task_id)
        try:
            data = json.loads(read_state(path, _LIMIT))
            run = RemoteRun(
                executor=_text(data, "executor"),
                handle=_text(data, "handle"),
                start=_text(data, "start"),
                started_at=datetime.fromisoformat(_text(data, "started_at")),
                canary=data["canary"] if isinstance(data.get("canary"), str) else "",
            )
            if run.started_at.tzinfo is None:
                raise ValueError("started_at has no time zone")
            return run
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, AttributeError) as error:
            quarantine.set_aside(path, self.rooms_dir.parent, f"{NAME}: {error}"[:200])
            return None

    def save(self, task_id: str, run: RemoteRun) -> None:
        """Write the task's run atomically."""
        record = {
            "executor": run.executor,
            "handle": run.handle,
            "start": run.start,
            "started_at": run.started_at.isoformat(),
            "canary": run.canary,  # a decoy, not a secret: kept so a later worker can look for it
        }
        atomic_write(self._path(task_id), json.dumps(record))

    def clear(self, task_id: str) -> None:
        """Forget the task's run; an absent record is a no-op."""
        try:
            self._path(task_id).unlink()
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            quarantine.set_aside(self._path(task_id), self.rooms_dir.parent, f"{NAME} is a folder")


def _text(data: object, key: str) -> str:
    if not isinstance(data, dict) or not isinstance(data.get(key), str) or not data[key]:
        raise ValueError(f"{key} is missing or not a string")
    value: str = data[key]
    return value

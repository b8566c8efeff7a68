"""Which services refused their credential, and since when: runtime/state/unauthorized.json.

A tick that ends `unauthorized` records its service here and notifies only when the entry is
new, so a revoked token makes one notification, not one a minute. A tick that used the service
and succeeded clears its entry, so the next refusal notifies again. `agentos status` shows what
is here. A damaged file counts as empty: the worst that costs is a second notification.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from orchestrator.store.files import atomic_write

FILE = "unauthorized.json"
LOCK = ".unauthorized.lock"  # read-modify-write under it: two jobs refused at once notify once


@dataclass(frozen=True, slots=True)
class RefusedToken:
    """A service's credential refused: by which job first, when, and what the service said."""

    service: str
    job: str
    since: str  # ISO 8601, UTC: the first refused tick
    detail: str


class RefusedTokens:
    """The refused credentials under one state folder, keyed by service (`github`, `telegram`)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE
        self._lock = state_dir / LOCK

    def current(self) -> dict[str, RefusedToken]:
        """Return the services refused now, by name ({} when none, or the file is damaged)."""
        return _read(self.path)

    def add(self, service: str, job: str, detail: str, at: datetime) -> bool:
        """Record the refusal; True when it is new (so it is the one to notify about)."""
        with self._locked():
            found = _read(self.path)
            if service in found:
                return False
            found[service] = RefusedToken(service, job, at.isoformat(timespec="seconds"), detail)
            self._write(found)
            return True

    def clear(self, services: Iterable[str]) -> list[str]:
        """Forget the services' refusals; return those that were recorded."""
        wanted = set(services)
        if not wanted & set(_read(self.path)):  # the common case: nothing to clear, no lock
            return []
        with self._locked():
            found = _read(self.path)
            cleared = sorted(wanted & set(found))
            if cleared:
                self._write({k: v for k, v in found.items() if k not in wanted})
            return cleared

    def _write(self, found: dict[str, RefusedToken]) -> None:
        text = json.dumps({k: asdict(v) for k, v in found.items()}, indent=1, sort_keys=True)
        atomic_write(self.path, text + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _read(path: Path) -> dict[str, RefusedToken]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    found = {}
    for service, entry in raw.items():
        if isinstance(entry, dict):
            found[str(service)] = RefusedToken(
                str(service),
                str(entry.get("job", "?")),
                str(entry.get("since", "?")),
                str(entry.get("detail", "")),
            )
    return found

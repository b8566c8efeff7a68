"""Agent cooldowns in runtime/state/cooldowns.json, shared by every worker, written atomically."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from filelock import FileLock

from orchestrator.core.routing import Cooldown
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE_NAME = "cooldowns.json"


class CooldownStore:
    """The Cooldowns port on a JSON file; a lock beside it serialises workers' read-modify-write."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self._lock = FileLock(str(state_dir / f".{FILE_NAME}.lock"), timeout=30)

    def active(self, now: datetime) -> dict[str, Cooldown]:
        """Return the cooldowns still in force at `now`, by backend name."""
        return {name: rest for name, rest in self._read().items() if rest.until > now}

    def start(self, cooldown: Cooldown, now: datetime) -> None:
        """Rest a backend until `cooldown.until`.

        A later end already recorded is kept; rests that are over are dropped.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            current = self._read()
            known = current.get(cooldown.backend)
            if known is not None and known.until >= cooldown.until:
                return
            current[cooldown.backend] = cooldown
            atomic_write(self.path, _dump(current, now))

    def clear(self, backend: str) -> bool:
        """End a backend's rest early (an operator's call); return whether it was resting."""
        if not self.path.exists():
            return False
        with self._lock:
            current = self._read()
            if current.pop(backend, None) is None:
                return False
            atomic_write(self.path, _dump(current, None))
            return True

    def _read(self) -> dict[str, Cooldown]:
        """Return the recorded rests; a file that cannot be read means none, and is set aside."""
        try:
            raw = json.loads(read_state(self.path))
            if not isinstance(raw, dict):
                raise ValueError(f"a {type(raw).__name__}, not a mapping")
            return {
                str(name): Cooldown(str(name), _aware(entry["until"]), str(entry.get("reason", "")))
                for name, entry in raw.items()
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
            quarantine.set_aside(
                self.path, self.path.parent.parent, f"unreadable cooldowns ({type(exc).__name__})"
            )
            return {}


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a time without a time zone")
    return moment


def _dump(cooldowns: dict[str, Cooldown], now: datetime | None) -> str:
    """Serialise, dropping rests over by `now`, so the file never passes one entry per backend."""
    kept = {
        name: {"until": rest.until.isoformat(), "reason": rest.reason[:200]}
        for name, rest in sorted(cooldowns.items())
        if now is None or rest.until > now
    }
    return json.dumps(kept, indent=2, sort_keys=True) + "\n"

"""What a job already said, so the next tick does not say it again: one small JSON file per job.

GitHub stays the source of truth. The memo only saves requests and noise: a comment is
re-posted when its text changes, a skip is logged when its reason changes. Losing the file
costs one round of idempotent repeats, never a wrong action.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state


class Memo:
    """A job's memo: named sections of key -> short value, saved atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, str]] = _load(path)
        self._dirty = False

    def get(self, section: str, key: str) -> str | None:
        return self._data.get(section, {}).get(key)

    def changed(self, section: str, key: str, value: str, *, digest: bool = True) -> bool:
        """Record `value` under `key`; True when it differs from what was recorded before.

        A long value is kept as its digest unless `digest` is False (when it must be read back).
        """
        value = (
            value if len(value) <= 64 or not digest else hashlib.sha256(value.encode()).hexdigest()
        )
        entries = self._data.setdefault(section, {})
        if entries.get(key) == value:
            return False
        entries[key] = value
        self._dirty = True
        return True

    def keys(self, section: str) -> list[str]:
        return sorted(self._data.get(section, {}))

    def forget(self, section: str, key: str) -> None:
        if self._data.get(section, {}).pop(key, None) is not None:
            self._dirty = True

    def keep_only(self, section: str, keys: set[str]) -> None:
        """Forget a section's keys that are no longer current (an issue closed, a PR merged)."""
        entries = self._data.get(section, {})
        for key in set(entries) - keys:
            del entries[key]
            self._dirty = True

    def save(self) -> None:
        """Write the memo if anything changed."""
        if self._dirty:
            atomic_write(self.path, json.dumps(self._data, sort_keys=True, indent=1) + "\n")
            self._dirty = False


def _load(path: Path) -> dict[str, dict[str, str]]:
    """Read a memo; one that cannot be read, or is not sections of strings, is set aside."""
    try:
        loaded = json.loads(read_state(path))
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise ValueError("not a mapping of sections")
        return {k: {str(a): str(b) for a, b in v.items()} for k, v in loaded.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # runtime/state/<job>.memo.json: the runtime folder is two up
        quarantine.set_aside(path, path.parent.parent, f"unreadable memo ({type(exc).__name__})")
        return {}

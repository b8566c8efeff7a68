"""The kill switches under runtime/state/: `disabled`, `repo_disabled/<key>`, `job_disabled/<name>`.

A switch is a file: visible with `ls`, atomic to create and delete, readable by a shell script;
a flag file's content says when it was turned off.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.store.files import atomic_write


class Switches:
    """The kill switches: `disabled`, `repo_disabled/<key>`, `job_disabled/<name>` under state/."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    @property
    def _global(self) -> Path:
        return self.state_dir / "disabled"

    def _flag(self, kind: str, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"invalid switch name {name!r}")
        return self.state_dir / f"{kind}_disabled" / name

    def is_on(self) -> bool:
        return not self._global.exists()

    def off_since(self) -> str | None:
        """Return when the global switch was turned off, or None while it is on.

        A flag that cannot be read still means off (a switch fails safe): "unknown".
        """
        try:
            stamp = self._global.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError:  # a directory in its place, or no permission to read it
            return "unknown"
        return stamp.strip()[:40] or "unknown"

    def set_global(self, on: bool, stamp: str) -> bool:
        """Turn everything on or off; return True when that changed anything."""
        return self._set(self._global, on, stamp)

    def repo_on(self, key: str) -> bool:
        return not self._flag("repo", key).exists()

    def set_repo(self, key: str, on: bool, stamp: str) -> bool:
        return self._set(self._flag("repo", key), on, stamp)

    def job_on(self, name: str) -> bool:
        return not self._flag("job", name).exists()

    def set_job(self, name: str, on: bool, stamp: str) -> bool:
        return self._set(self._flag("job", name), on, stamp)

    @staticmethod
    def _set(flag: Path, on: bool, stamp: str) -> bool:
        if flag.is_dir() and not flag.is_symlink():
            raise UsageError(
                f"{flag} is a directory where a switch file belongs: remove it "
                f"(rmdir {flag}) and try again"
            )
        if on:
            existed = flag.exists()
            flag.unlink(missing_ok=True)
            return existed
        if flag.exists():
            return False
        atomic_write(flag, stamp + "\n")
        return True

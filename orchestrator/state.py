"""Runtime state on disk: atomic writes, the on/off switches, chat overrides."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        """Return when the global switch was turned off, or None while it is on."""
        try:
            return self._global.read_text(encoding="utf-8").strip() or "unknown"
        except FileNotFoundError:
            return None

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
        if on:
            existed = flag.exists()
            flag.unlink(missing_ok=True)
            return existed
        if flag.exists():
            return False
        atomic_write(flag, stamp + "\n")
        return True


def read_overrides(state_dir: Path) -> dict[str, Any]:
    """Return the settings chat commands changed (runtime/state/overrides.yaml)."""
    from orchestrator.config import read_yaml

    file = state_dir / "overrides.yaml"
    return read_yaml(file) if file.exists() else {}


def set_override(state_dir: Path, keys: tuple[str, ...], value: Any) -> None:
    """Set one nested setting in overrides.yaml, atomically; None removes it (and emptied parents)."""
    data = read_overrides(state_dir)
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    write_overrides(state_dir, data)


def write_overrides(state_dir: Path, data: dict[str, Any]) -> None:
    """Replace overrides.yaml with `data` (empty mappings pruned), atomically; nothing left removes it."""
    import yaml

    data = _pruned(data)
    file = state_dir / "overrides.yaml"
    if not data:
        file.unlink(missing_ok=True)
        return
    header = "# Written by Agent OS from chat commands; layered over config.yaml.\n"
    atomic_write(file, header + yaml.safe_dump(data, sort_keys=True))


def _pruned(data: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        result[key] = value
    return result

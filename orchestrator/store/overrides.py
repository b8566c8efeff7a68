"""Settings changed from chat: runtime/state/overrides.yaml, layered over config.yaml at load time.

The user's config.yaml is never rewritten behind their back; control.settings validates a change
before it is written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.store.files import atomic_write


def read_overrides(state_dir: Path) -> dict[str, Any]:
    """Return the settings chat commands changed (runtime/state/overrides.yaml)."""
    from orchestrator.config.files import read_yaml

    file = state_dir / "overrides.yaml"
    return read_yaml(file) if file.exists() else {}


def set_override(state_dir: Path, keys: tuple[str, ...], value: Any) -> None:
    """Set one nested setting in overrides.yaml, atomically; None removes it and emptied parents."""
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
    """Replace overrides.yaml with `data` (empty mappings pruned), atomically.

    If nothing is left, the file is removed.
    """
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

"""Settings changed from chat: validated, then written to runtime/state/overrides.yaml under a lock.

A change is tried against the whole config before it is written, so a bad value from chat can
never leave every job failing on an invalid config; a value equal to config.yaml's own
removes the override instead of recording a copy of it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.errors import ConfigError
from orchestrator.store.overrides import read_overrides, write_overrides


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return overrides as (dotted key, value) pairs: `repos.app.automation_mode`."""
    pairs: list[tuple[str, Any]] = []
    for key, value in sorted(data.items()):
        name = f"{prefix}.{key}" if prefix else str(key)
        pairs += flatten(value, name) if isinstance(value, dict) else [(name, value)]
    return pairs


def overridden(config: Config) -> list[tuple[str, Any]]:
    """Return what overrides.yaml sets now, as (dotted key, value) pairs."""
    try:
        pairs = flatten(read_overrides(config.paths.state_dir))
    except ConfigError:
        return [("overrides.yaml", "unreadable")]
    keys = {repo.key for repo in config.repos}
    return [
        (
            key,
            value
            if not key.startswith("repos.") or key.split(".")[1] in keys
            else f"{value} (ignored: no such repo)",
        )
        for key, value in pairs
    ]


def change(
    config: Config, keys: tuple[str, ...], value: Any, base: Callable[[Config], Any]
) -> bool:
    """Set one override (validated); False when nothing changed, ConfigError for a refused value.

    `base` reads the setting from a config loaded without overrides: equal means "remove".
    """
    from filelock import FileLock

    state = config.paths.state_dir
    state.mkdir(parents=True, exist_ok=True)
    with FileLock(str(state / ".overrides.lock"), timeout=10):
        current = read_overrides(state)
        candidate = copy.deepcopy(current)
        plain = load_config(config.source, {}, need_secrets=False, overrides={})
        _set(candidate, keys, None if base(plain) == value else value)
        if _pruned_equal(candidate, current):
            return False
        load_config(config.source, {}, need_secrets=False, overrides=candidate)  # raises if refused
        write_overrides(state, candidate)
    return True


def _set(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def _pruned_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return dict(flatten(a)) == dict(flatten(b))

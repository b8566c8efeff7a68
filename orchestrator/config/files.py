"""Find the config file and read it as plain YAML: the cheap step every cron tick takes first.

A tick while Agent OS is off must cost little more than starting Python, so this module uses
only `os` and `yaml` (imported when a file is read): no dataclasses, no pathlib, none of the
libraries a job needs. `config.load` validates what it reads.
"""

from __future__ import annotations

import os

from orchestrator.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds a tick
    from collections.abc import Mapping
    from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout


def config_path(explicit: str | None, environ: Mapping[str, str]) -> str:
    """Return the config path: --config, then $AGENTOS_CONFIG, then config.yaml at the root."""
    chosen = explicit or environ.get("AGENTOS_CONFIG")
    if not chosen:
        return os.path.join(ROOT, "config.yaml")
    return os.path.abspath(os.path.expanduser(chosen))


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a YAML mapping; a missing, unreadable or malformed file is a one-line ConfigError."""
    import yaml

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ConfigError(path, ["file not found (copy config.example.yaml to start)"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot be read: {exc.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(
            path, [f"{where}{getattr(exc, 'problem', None) or 'malformed YAML'}"]
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, [f"expected a mapping at the top level, got {type(data).__name__}"])
    return data


def state_dir(raw: Mapping[str, Any], config_file: str) -> str:
    """Return runtime/state for a parsed config (`paths.runtime_dir`, relative to the config)."""
    paths = raw.get("paths")
    runtime = paths.get("runtime_dir") if isinstance(paths, dict) else None
    if runtime is not None and (not isinstance(runtime, str) or not runtime.strip()):
        raise ConfigError(
            config_file, [f"paths.runtime_dir: expected a non-empty string, got {runtime!r}"]
        )
    folder = os.path.expanduser(runtime or "runtime")
    return os.path.join(os.path.dirname(config_file), folder, "state")

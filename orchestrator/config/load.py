"""Load config.yaml, layer runtime/state/overrides.yaml over it, and validate everything at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.config import backend_keys, outbound_rules, sections
from orchestrator.config.files import ROOT, read_yaml
from orchestrator.config.model import Config, Paths
from orchestrator.config.reader import Reader
from orchestrator.core.outbound import OutboundRules
from orchestrator.errors import ConfigError

TOP_LEVEL = (
    "repos",
    "github",
    "agents",
    "limits",
    "telegram",
    "paths",
    "schedule",
    "env_file",
    "dispatcher",
    "outbound",
)
OVERRIDABLE = {"repos": ("automation_mode", "max_parallel_tasks"), "limits": None}


def runtime_paths(raw: Mapping[str, Any], source: Path) -> Paths:
    """Return the paths a config names, without validating the rest (the cheap pre-switch step)."""
    reader = Reader({}, need_secrets=False)
    paths = sections.paths(reader, raw.get("paths"), source.parent, Path(ROOT))
    if reader.problems:
        raise ConfigError(str(source), reader.problems)
    return paths


def load_config(
    path: Path,
    environ: Mapping[str, str] | None = None,
    *,
    need_secrets: bool = True,
    raw: dict[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Return the validated config, or raise one ConfigError listing every problem.

    `need_secrets=False` lets the switch commands work while a `$VAR` is unset. `overrides`
    replaces runtime/state/overrides.yaml (to try a change from chat before writing it).
    """
    raw = read_yaml(path) if raw is None else raw
    reader = Reader({}, need_secrets=need_secrets)
    reader.mapping(raw, "", TOP_LEVEL)
    paths = sections.paths(reader, raw.get("paths"), path.parent, Path(ROOT))
    reader.environ = _environment(reader, raw.get("env_file"), path.parent, environ)
    overrides_file = paths.state_dir / "overrides.yaml"
    overridden = _apply_overrides(raw, overrides_file, overrides)
    from orchestrator.jobs import JOBS

    agents = sections.agents(reader, raw.get("agents"))
    outbound = outbound_rules.read(reader, raw.get("outbound"), "outbound", OutboundRules())
    config = Config(
        source=path,
        repos=sections.repos(reader, raw.get("repos"), path.parent, outbound),
        github=sections.github(reader, raw.get("github")),
        agents=agents,
        limits=sections.limits(reader, raw.get("limits")),
        telegram=sections.telegram(reader, raw.get("telegram")),
        paths=paths,
        schedule=MappingProxyType(
            sections.schedule(
                reader, raw.get("schedule"), {j.name: j.schedule for j in JOBS.values()}
            )
        ),
        overridden=tuple(overridden),
        dispatcher=sections.dispatcher(reader, raw.get("dispatcher"), agents),
        outbound=outbound,
        env_file=_env_file(raw.get("env_file"), path.parent),
    )
    backend_keys.check_leaks(reader, config.agents.backends, backend_keys.secrets_of(config))
    if reader.problems:
        raise ConfigError(
            str(path), [_mark(p, overridden, overrides_file) for p in reader.problems]
        )
    return config


def _environment(
    reader: Reader, env_file: Any, base: Path, environ: Mapping[str, str] | None
) -> Mapping[str, str]:
    """Return the variables `$VAR` references resolve from: the process, then the env file.

    The env file exists because cron starts jobs with an almost empty environment; its values
    are used only for `$VAR` references and are never exported to child processes.
    """
    process = os.environ if environ is None else environ
    if env_file is not None and not isinstance(env_file, str):
        reader.fail("env_file", f"expected a path, got {env_file!r}")
        return process
    file = base / (env_file or ".env")
    if not file.is_file():
        if env_file:
            reader.fail("env_file", f"{str(file)!r} does not exist")
        return process
    values = dict(_parse_env_file(file))
    values.update(process)
    return values


def _env_file(env_file: Any, base: Path) -> Path | None:
    """Return the env file's resolved path (hidden from agents), or None when there is none."""
    file = base / (env_file if isinstance(env_file, str) and env_file else ".env")
    return file.resolve() if file.is_file() else None


def read_env_file(file: Path) -> dict[str, str]:
    """Return the `KEY=value` pairs of an env file (the format `env_file` names)."""
    return dict(_parse_env_file(file))


def _parse_env_file(file: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((name.strip(), value))
    return pairs


def _apply_overrides(raw: dict[str, Any], file: Path, given: Mapping[str, Any] | None) -> list[str]:
    """Merge overrides.yaml (or `given`) into `raw` in place; return the dotted keys it set."""
    if given is None and not file.exists():
        return []
    overrides = read_yaml(file) if given is None else given
    problems: list[str] = []
    changed: list[str] = []
    for section, value in overrides.items():
        if section not in OVERRIDABLE or not isinstance(value, dict):
            problems.append(f"{section}: cannot be overridden from chat")
        elif section == "repos":
            _override_repos(raw, value, changed, problems)
        else:
            raw[section] = {**(raw.get(section) or {}), **value}
            changed.extend(f"{section}.{k}" for k in value)
    if problems:
        raise ConfigError(str(file), problems)
    return changed


def _override_repos(
    raw: dict[str, Any], value: dict[str, Any], changed: list[str], problems: list[str]
) -> None:
    repos: list[Any] = raw["repos"] if isinstance(raw.get("repos"), list) else []
    by_key = {r.get("key"): i for i, r in enumerate(repos) if isinstance(r, dict)}
    for key, settings in value.items():
        if key not in by_key:
            # the repo left config.yaml: its override is moot (and must not stop the control plane)
            continue
        allowed = OVERRIDABLE["repos"] or ()
        for name, setting in (settings or {}).items():
            if name not in allowed:
                problems.append(f"repos.{key}.{name}: cannot be overridden from chat")
                continue
            i = by_key[key]
            repos[i] = {**repos[i], name: setting}
            changed.append(f"repos[{i}].{name}")


def _mark(problem: str, overridden: list[str], file: Path) -> str:
    key = problem.split(":", 1)[0]
    return f"{problem} (set in {file})" if key in overridden else problem

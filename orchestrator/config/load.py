"""Load config.yaml, layer runtime/state/overrides.yaml over it, and validate everything at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.config import (
    backend_keys,
    caps,
    executors,
    improve,
    outbound_rules,
    places,
    planner,
    prices,
    review,
    risk,
    sections,
    webhooks,
)
from orchestrator.config.files import MAX_BYTES, ROOT, read_yaml
from orchestrator.config.model import Config, Paths
from orchestrator.config.reader import Reader, join, label, show
from orchestrator.core.outbound import OutboundRules
from orchestrator.errors import ConfigError, OverridesError

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
    "improve",
    "prices",
    "logs",
    "planner",
    "risk",
    "review",
    "webhooks",
    "executors",
)
OVERRIDABLE = {
    "repos": ("automation_mode", "max_parallel_tasks", *caps.REPO_KEYS),
    "limits": None,
}


def runtime_paths(raw: Mapping[str, Any], source: Path) -> Paths:
    """Return the paths a config names, without validating the rest (the cheap pre-switch step)."""
    reader = Reader({}, need_secrets=False)
    paths = places.paths(reader, raw.get("paths"), source.parent, Path(ROOT))
    if reader.problems:
        raise ConfigError(str(source), reader.report())
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
    replaces runtime/state/overrides.yaml (to try a change from chat before writing it;
    `overrides={}` leaves the file out). When the file is at fault and config.yaml alone is
    valid, the error is an OverridesError naming the file: the control plane then loads without
    it. `raw` is never changed.
    """
    raw = read_yaml(path) if raw is None else raw
    try:
        return _load(path, raw, environ, need_secrets, overrides)
    except ConfigError as exc:
        file = _overrides_file(raw, path)
        if overrides is not None or file is None or not file.exists():
            raise
        try:
            _load(path, raw, environ, need_secrets, {})
        except ConfigError as alone:  # config.yaml is at fault too: it is fixed first
            raise (exc if exc.source == str(path) else alone) from None
        mark = f" (set in {file})"  # the error names the file: its lines need not
        raise OverridesError(str(file), [p.removesuffix(mark) for p in exc.problems]) from None


def overrides_problem(config: Config) -> str | None:
    """Return in one line why overrides.yaml is left out of `config`, or None when it is not.

    Cheap when all is well: a config that applied overrides, or has none, needs no re-read.
    """
    file = config.paths.state_dir / "overrides.yaml"
    if config.overridden or not file.exists():
        return None
    try:
        load_config(config.source, {}, need_secrets=False)
    except OverridesError as exc:
        first = exc.problems[0] if exc.problems else ""
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return f"{file.name} is invalid and left out: {first}{more}"
    except ConfigError:  # config.yaml's own problem, not this one
        return None
    return None


def _load(
    path: Path,
    raw: dict[str, Any],
    environ: Mapping[str, str] | None,
    need_secrets: bool,
    overrides: Mapping[str, Any] | None,
) -> Config:
    reader = Reader({}, need_secrets=need_secrets)
    reader.mapping(raw, "", TOP_LEVEL)
    paths = places.paths(reader, raw.get("paths"), path.parent, Path(ROOT))
    reader.environ = _environment(reader, raw.get("env_file"), path.parent, environ)
    overrides_file = paths.state_dir / "overrides.yaml"
    raw, overridden = _layered(raw, overrides_file, overrides)
    raw, capping = caps.split(raw)  # read apart from `limits` and `repos[]` (config/caps.py)
    raw, placing = executors.split(raw)  # `repos[].executor`, read in config/executors.py
    from orchestrator.jobs import JOBS

    agents = sections.agents(reader, raw.get("agents"))
    outbound = outbound_rules.read(reader, raw.get("outbound"), "outbound", OutboundRules())
    repos = sections.repos(reader, raw.get("repos"), path.parent, outbound)
    reviewing = review.read(reader, raw.get("review"), agents)
    repos = review.for_repos(reader, raw.get("repos"), repos, reviewing, agents)
    spending = caps.read(reader, capping)
    repos = caps.for_repos(reader, capping, repos, spending)
    remote = executors.read(reader, raw.get("executors"), path.parent)
    repos = executors.for_repos(reader, placing, repos, remote)
    config = Config(
        source=path,
        repos=repos,
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
        improve=improve.read(reader, raw.get("improve"), path.parent, repos, agents),
        prices=prices.read(reader, raw.get("prices")),
        logs=prices.log_retention(reader, raw.get("logs")),
        planner=planner.read(reader, raw.get("planner"), repos, agents),
        risk=risk.read(reader, raw.get("risk")),
        review=reviewing,
        webhooks=webhooks.read(reader, raw.get("webhooks")),
        caps=spending,
        executors=MappingProxyType(remote),
    )
    backend_keys.check_leaks(reader, config.agents.backends, backend_keys.secrets_of(config))
    if reader.problems:
        raise ConfigError(
            str(path), [_mark(p, overridden, overrides_file) for p in reader.report()]
        )
    return config


def _overrides_file(raw: Mapping[str, Any], path: Path) -> Path | None:
    """Return where overrides.yaml is for this config, or None when its paths are invalid."""
    reader = Reader({}, need_secrets=False)
    paths = places.paths(reader, raw.get("paths"), path.parent, Path(ROOT))
    return None if reader.problems else paths.state_dir / "overrides.yaml"


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
    try:
        values = dict(_parse_env_file(file))
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, too big
        reader.fail("env_file", f"{str(file)!r} cannot be read: {getattr(exc, 'strerror', exc)}")
        return process
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
    with file.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES >> 10} KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((name.strip(), value))
    return pairs


def _layered(
    raw: dict[str, Any], file: Path, given: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """Return `raw` with overrides.yaml (or `given`) over it, and the dotted keys it set.

    `raw` itself is left as read, so the same tree can be loaded again without the overrides.
    """
    if given is None and not file.exists():
        return raw, []
    overrides = read_yaml(file) if given is None else given
    layered = dict(raw)
    changed: list[str] = []
    problems = Reader({})
    for section, value in overrides.items():
        if section not in OVERRIDABLE or not isinstance(value, dict):
            problems.fail(label(section), "cannot be overridden from chat")
        elif section == "repos":
            _override_repos(layered, value, changed, problems)
        elif isinstance(layered.get(section), dict | None):  # else config.yaml's own problem
            layered[section] = {**(layered.get(section) or {}), **value}
            changed.extend(join(section, k) for k in value)
    if problems.problems:
        raise ConfigError(str(file), problems.report())
    return layered, changed


def _override_repos(
    raw: dict[str, Any], value: dict[str, Any], changed: list[str], problems: Reader
) -> None:
    if not isinstance(raw.get("repos"), list):
        return  # config.yaml's own problem, reported against it
    repos: list[Any] = list(raw["repos"])
    raw["repos"] = repos
    by_key = {
        r["key"]: i
        for i, r in enumerate(repos)
        if isinstance(r, dict) and isinstance(r.get("key"), str)
    }
    allowed = OVERRIDABLE["repos"] or ()
    for key, settings in value.items():
        if key not in by_key or settings is None:
            # the repo left config.yaml: its override is moot (and must not stop the control plane)
            continue
        if not isinstance(settings, dict):
            problems.fail(
                join("repos", key), f"expected a mapping of settings, got {show(settings)}"
            )
            continue
        for name, setting in settings.items():
            if name not in allowed:
                problems.fail(join(join("repos", key), name), "cannot be overridden from chat")
                continue
            i = by_key[key]
            repos[i] = {**repos[i], name: setting}
            changed.append(join(f"repos[{i}]", name))


def _mark(problem: str, overridden: list[str], file: Path) -> str:
    key = problem.split(":", 1)[0]
    return f"{problem} (set in {file})" if key in overridden else problem

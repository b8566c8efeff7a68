"""Read `improve`: how the incident scanner, the log analyzer, the scorer and the groomer work.

The repo keys it names (`incidents_repo`, each source's `repo`) must be keys of `repos`, and
`triage_with` an anthropic backend, so a typo is one line at load time, not a silent no-op.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from orchestrator.config.model import (
    AgentsConfig,
    AgentType,
    ImproveConfig,
    RepoConfig,
    SignalSource,
    SourceKind,
)
from orchestrator.config.places import resolve
from orchestrator.config.reader import Reader, join, show

SEVERITIES = ("critical", "high", "medium", "low")  # core.incidents.Severity's values
_KEYS = (
    "incidents_repo",
    "daily_cap",
    "ready_severities",
    "repeats",
    "watch_days",
    "failure_window_days",
    "triage_with",
    "window_days",
    "chronic_count",
    "chronic_share",
    "rate_drop",
    "sources",
    "stale_days",
)
_SOURCE_KEYS = ("name", "repo", "jsonl", "command", "url", "timeout_seconds", "severity")
MAX_SOURCES = 50


def read(
    r: Reader, value: Any, base: Path, repos: tuple[RepoConfig, ...], agents: AgentsConfig
) -> ImproveConfig:
    """Read the `improve` section (every key optional)."""
    node = r.mapping(value, "improve", _KEYS)
    keys = {repo.key for repo in repos}
    incidents_repo = r.string(node, "incidents_repo", "improve", default=None)
    if incidents_repo is not None and incidents_repo not in keys:
        r.fail(
            "improve.incidents_repo",
            f"expected a key of repos ({_known(keys)}), got {show(incidents_repo)}",
        )
        incidents_repo = None
    severities = r.strings(node, "ready_severities", "improve")
    for i, level in enumerate(severities):
        if level not in SEVERITIES:
            r.fail(
                join("improve.ready_severities", i),
                f"expected one of {' | '.join(SEVERITIES)}, got {show(level)}",
            )
    default = ImproveConfig()
    return ImproveConfig(
        incidents_repo=incidents_repo,
        daily_cap=r.integer(node, "daily_cap", "improve", default=default.daily_cap, maximum=100),
        ready_severities=tuple(s for s in severities if s in SEVERITIES),
        repeats=r.integer(node, "repeats", "improve", default=default.repeats, maximum=1000),
        watch_days=r.integer(
            node, "watch_days", "improve", default=default.watch_days, maximum=365
        ),
        failure_window_days=r.integer(
            node,
            "failure_window_days",
            "improve",
            default=default.failure_window_days,
            maximum=90,
        ),
        triage_with=_triage(r, node, agents),
        window_days=r.integer(
            node, "window_days", "improve", default=default.window_days, maximum=90
        ),
        chronic_count=r.integer(
            node, "chronic_count", "improve", default=default.chronic_count, maximum=100_000
        ),
        chronic_share=r.number(
            node, "chronic_share", "improve", default.chronic_share, maximum=1.0
        ),
        rate_drop=r.number(node, "rate_drop", "improve", default.rate_drop, maximum=1.0),
        sources=_sources(r, node.get("sources"), base, keys),
        stale_days=r.integer(
            node, "stale_days", "improve", default=default.stale_days, maximum=365
        ),
    )


def _known(keys: set[str]) -> str:
    return ", ".join(sorted(keys)) or "none"


def _triage(r: Reader, node: dict[str, Any], agents: AgentsConfig) -> str | None:
    return anthropic_backend(r, node, "triage_with", "improve", agents)


def anthropic_backend(
    r: Reader, node: dict[str, Any], key: str, path: str, agents: AgentsConfig
) -> str | None:
    """Return the name of an `anthropic` backend of agents.backends that `key` names, or None."""
    name: str | None = r.string(node, key, path, default=None)
    usable = [n for n, b in agents.backends.items() if b.type is AgentType.ANTHROPIC]
    if name is not None and name not in usable:
        r.fail(
            join(path, key),
            f"expected the name of an anthropic backend in agents.backends "
            f"({', '.join(usable) or 'none configured'}), got {show(name)}",
        )
        return None
    return name


def _sources(r: Reader, value: Any, base: Path, keys: set[str]) -> tuple[SignalSource, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.fail("improve.sources", f"expected a list of signal sources, got {show(value)}")
        return ()
    if len(value) > MAX_SOURCES:
        r.fail("improve.sources", f"expected at most {MAX_SOURCES} sources, got {len(value)}")
        return ()
    found = [s for i, item in enumerate(value) if (s := _source(r, item, i, base, keys))]
    names = [s.name for s in found]
    for name in sorted({n for n in names if names.count(n) > 1}):
        r.fail("improve.sources", f"duplicate source name {show(name)}")
    return tuple(found)


def _source(r: Reader, item: Any, i: int, base: Path, keys: set[str]) -> SignalSource | None:
    path = f"improve.sources[{i}]"
    if not isinstance(item, dict):
        r.fail(
            path,
            f"expected a mapping with name, repo and one of jsonl | command | url, "
            f"got {show(item)}",
        )
        return None
    node = r.mapping(item, path, _SOURCE_KEYS)
    name, repo = r.string(node, "name", path), r.string(node, "repo", path)
    if name and (len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum()):
        r.fail(join(path, "name"), f"expected letters, digits, '-' or '_' (≤ 64), got {show(name)}")
    if repo and repo not in keys:
        r.fail(join(path, "repo"), f"expected a key of repos ({_known(keys)}), got {show(repo)}")
    given = [k for k in ("jsonl", "command", "url") if k in node]
    if len(given) != 1:
        r.fail(
            path, f"expected exactly one of jsonl | command | url, got {', '.join(given) or 'none'}"
        )
        return None
    severity = r.string(node, "severity", path, default="high")
    if severity not in SEVERITIES:
        r.fail(
            join(path, "severity"),
            f"expected one of {' | '.join(SEVERITIES)}, got {show(severity)}",
        )
    timeout = r.number(node, "timeout_seconds", path, 10.0, maximum=600)
    kind = SourceKind(given[0])
    source = SignalSource(
        name=name, repo=repo, kind=kind, timeout_seconds=timeout, severity=severity
    )
    if kind is SourceKind.JSONL:
        text = r.string(node, "jsonl", path)
        if not text or "\0" in text:
            r.fail(join(path, "jsonl"), f"expected a path, got {show(text)}")
            return None
        return _with(source, path=resolve(base, text))
    if kind is SourceKind.URL:
        url = r.string(node, "url", path)
        if not url.startswith(("http://", "https://")):
            r.fail(join(path, "url"), f"expected an http(s) URL, got {show(url)}")
            return None
        return _with(source, url=url)
    return _with(source, argv=_argv(r, node["command"], join(path, "command")))


def _argv(r: Reader, value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as exc:
            r.fail(path, f"expected a command line, got {show(value)} ({exc})")
            return ()
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = list(value)
    else:
        r.fail(path, f"expected a command (text or a list of words), got {show(value)}")
        return ()
    if not words or not words[0].strip():
        r.fail(path, f"expected a command, got {show(value)}")
        return ()
    return tuple(words)


def _with(source: SignalSource, **changes: Any) -> SignalSource:
    from dataclasses import replace

    return replace(source, **changes)

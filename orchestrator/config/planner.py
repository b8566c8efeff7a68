"""Read `planner`: the model that proposes sprints, how often, how much, and who approves.

planner:
  with: api               # an anthropic backend of agents.backends; absent: no plans
  expires_hours: 48       # an unanswered plan expires
  cadence_days: 7         # these four are every repo's defaults ...
  max_ready: 5
  max_new: 2
  autonomy: ask           # ask | auto (auto: applied without Approve)
  repos:                  # ... and a repo key's own, over them
    app: {cadence_days: 14, autonomy: auto}
    docs: {enabled: false}
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrator.config.improve import anthropic_backend
from orchestrator.config.model import (
    AgentsConfig,
    Autonomy,
    PlanCadence,
    PlannerConfig,
    RepoConfig,
)
from orchestrator.config.reader import Reader, join, show

_CADENCE = ("enabled", "cadence_days", "max_ready", "max_new", "autonomy")
_KEYS = ("with", "expires_hours", "repos", *_CADENCE[1:])


def read(
    r: Reader, value: Any, repos: tuple[RepoConfig, ...], agents: AgentsConfig
) -> PlannerConfig:
    """Read the `planner` section (every key optional)."""
    node = r.mapping(value, "planner", _KEYS)
    default = _cadence(r, node, "planner", PlanCadence())
    keys = {repo.key for repo in repos}
    own: dict[str, PlanCadence] = {}
    listed = node.get("repos")
    if listed is not None and not isinstance(listed, dict):
        r.fail("planner.repos", f"expected a mapping of repo key to settings, got {show(listed)}")
    for key, settings in (listed if isinstance(listed, dict) else {}).items():
        path = join("planner.repos", str(key))
        if key not in keys:
            r.fail(path, f"expected a key of repos ({', '.join(sorted(keys))}), got {show(key)}")
            continue
        own[str(key)] = _cadence(r, r.mapping(settings, path, _CADENCE), path, default)
    return PlannerConfig(
        with_backend=anthropic_backend(r, node, "with", "planner", agents),
        expires_hours=r.integer(
            node, "expires_hours", "planner", default=PlannerConfig().expires_hours, maximum=720
        ),
        default=default,
        repos=own,
    )


def _cadence(r: Reader, node: dict[str, Any], path: str, base: PlanCadence) -> PlanCadence:
    enabled = node.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        r.fail(join(path, "enabled"), f"expected true or false, got {show(enabled)}")
        enabled = base.enabled
    return replace(
        base,
        enabled=enabled,
        cadence_days=r.integer(node, "cadence_days", path, default=base.cadence_days, maximum=90),
        max_ready=r.integer(node, "max_ready", path, default=base.max_ready, maximum=50),
        max_new=r.integer(node, "max_new", path, default=base.max_new, minimum=0, maximum=10),
        autonomy=r.choice(node, "autonomy", path, Autonomy, base.autonomy),
    )

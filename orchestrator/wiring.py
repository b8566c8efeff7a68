"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.config import Config
from orchestrator.ports import Agent, Cooldowns


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land."""

    config: Config
    log: logging.Logger
    agents: Mapping[str, Agent] = field(default_factory=dict)   # by backend name (agents.backends)
    cooldowns: Cooldowns | None = None                          # agent cooldowns (runtime/state/cooldowns.json)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    from orchestrator.adapters.agents.registry import build_agents
    from orchestrator.cooldowns import CooldownStore

    return Deps(config=config, log=log, agents=build_agents(config),
                cooldowns=CooldownStore(config.paths.state_dir))

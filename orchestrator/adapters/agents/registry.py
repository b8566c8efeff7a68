"""Build the configured agent backends: one Agent per `agents.backends` entry, by type.

Each is handed the installation's walls (`confine.Walls`), so that every agent process runs
confined as `agents.isolation` says.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator.adapters.agents.anthropic_api import AnthropicApiAgent
from orchestrator.adapters.agents.claude_cli import ClaudeCliAgent
from orchestrator.adapters.agents.codex_cli import CodexCliAgent
from orchestrator.adapters.agents.command import CommandAgent
from orchestrator.adapters.agents.confine import Walls
from orchestrator.adapters.agents.environment import EnvPolicy, policy_for
from orchestrator.config.model import AgentBackend, AgentType, Config
from orchestrator.ports import Agent


def build_agents(config: Config, host_env: Mapping[str, str] | None = None) -> dict[str, Agent]:
    """Return every configured backend by name.

    `host_env` (default: this process's) is what agents may draw on.
    """
    env = dict(os.environ if host_env is None else host_env)
    policy = policy_for(config)
    walls = Walls.from_config(config, env)
    return {
        name: build_agent(backend, env, policy, base_dir=config.source.parent, walls=walls)
        for name, backend in config.agents.backends.items()
    }


def build_agent(
    backend: AgentBackend,
    host_env: Mapping[str, str],
    policy: EnvPolicy,
    *,
    base_dir: Path | None = None,
    walls: Walls | None = None,
) -> Agent:
    """Return the adapter for one backend; `walls` None runs it unconfined."""
    if backend.type is AgentType.CLAUDE:
        return ClaudeCliAgent(backend, host_env, policy, walls=walls)
    if backend.type is AgentType.CODEX:
        return CodexCliAgent(backend, host_env, policy, walls=walls)
    if backend.type is AgentType.ANTHROPIC:
        return AnthropicApiAgent(backend, host_env, policy, walls=walls)
    return CommandAgent(backend, host_env, policy, base_dir=base_dir, walls=walls)

"""Configuration: one immutable typed object, validated before anything runs."""
from __future__ import annotations

from orchestrator.config.load import ROOT, config_path, load_config, read_yaml, runtime_paths
from orchestrator.config.model import (
    AgentBackend, AgentsConfig, AgentType, AutomationMode, BoardRef, Config, GitHubConfig, Limits,
    Paths, RepoConfig, Secret, TelegramConfig,
)

__all__ = [
    "ROOT", "AgentBackend", "AgentType", "AgentsConfig", "AutomationMode", "BoardRef", "Config",
    "GitHubConfig", "Limits", "Paths", "RepoConfig", "Secret", "TelegramConfig", "config_path",
    "load_config", "read_yaml", "runtime_paths",
]

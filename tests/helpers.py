"""Shared test helpers: write a minimal valid config into a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ENV = {"GITHUB_TOKEN": "test-token-value", "TELEGRAM_BOT_TOKEN": "test-chat-token"}


def minimal_config(**overrides: Any) -> dict[str, Any]:
    """Return a small valid config as a dict; keyword arguments replace top-level sections."""
    config: dict[str, Any] = {
        "repos": [{"key": "app", "github": "acme/app", "test_command": "pytest -q"}],
        "github": {"token": "$GITHUB_TOKEN"},
        "agents": {"backends": {"script": {"type": "command", "argv": ["true"]}}},
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def write_config(folder: Path, data: dict[str, Any] | str | None = None) -> Path:
    """Write a config file (a dict, raw YAML text, or the minimal config) and return its path."""
    path = folder / "config.yaml"
    text = (
        data if isinstance(data, str) else yaml.safe_dump(data or minimal_config(), sort_keys=False)
    )
    path.write_text(text, encoding="utf-8")
    return path

"""The documentation keeps up with the code: every config key of the example has a row."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def dotted_keys(node: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            keys.add(name)
            if prefix == "agents.backends":
                name = "agents.backends.*"
                keys.discard(f"{prefix}.{key}")
            keys |= dotted_keys(value, name)
    elif isinstance(node, list):
        for item in node:
            keys |= dotted_keys(item, f"{prefix}[]")
    return keys


def test_every_key_in_the_example_config_is_documented() -> None:
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    text = (ROOT / "docs" / "config.md").read_text()
    text += "`env_file`"  # commented out in the example; documented in its own row
    missing = sorted(k for k in dotted_keys(example) if f"`{k}`" not in text)
    assert not missing, f"docs/config.md lacks: {missing}"


def test_the_readme_shows_the_test_command_on_its_first_screen() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make test" in first_screen

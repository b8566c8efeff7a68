"""The documentation keeps up with the code: config keys, the state diagram, the states page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from orchestrator.core.lifecycle import ALLOWED
from orchestrator.core.model import BoardStatus
from orchestrator.core.tasks import MailboxState

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


def diagram_moves(text: str) -> set[tuple[str, str]]:
    """Return the `a --> b` moves of the mermaid state diagrams in a Markdown text.

    The start is left out.
    """
    moves = set()
    for block in re.findall(r"```mermaid\n(.*?)```", text, re.S):
        for found in re.finditer(r"^\s*(\w+)\s*-->\s*(\w+)", block, re.M):
            moves.add((found[1], found[2]))
    return moves


def table_moves(text: str) -> set[tuple[str, str]]:
    """Return the (from, to) rows of docs/states.md's table of lifecycle transitions."""
    section = text.split("## Lifecycle transitions", 1)[1].split("\n## ", 1)[0]
    return {(a, b) for a, b in re.findall(r"^\| (\w+) \| (\w+) \|", section, re.M) if a != "from"}


ALLOWED_MOVES = {(a.value, b.value) for a, targets in ALLOWED.items() for b in targets}


def test_the_readme_diagram_draws_exactly_the_moves_the_lifecycle_allows() -> None:
    assert diagram_moves((ROOT / "README.md").read_text()) == ALLOWED_MOVES


def test_the_states_page_lists_exactly_the_moves_the_lifecycle_allows() -> None:
    assert table_moves((ROOT / "docs" / "states.md").read_text()) == ALLOWED_MOVES


def test_the_states_page_names_every_mailbox_state_and_board_column() -> None:
    text = (ROOT / "docs" / "states.md").read_text()
    assert all(f"`{state.value}`" in text for state in MailboxState)
    assert all(f"| {status.value} |" in text for status in BoardStatus)


def test_the_move_readers_see_a_move_that_is_not_allowed() -> None:
    assert diagram_moves(
        "```mermaid\nstateDiagram-v2\n  [*] --> queued\n  passed --> queued: no\n```"
    ) == {("passed", "queued")}
    assert table_moves(
        "## Lifecycle transitions\n\n| from | to |\n|---|---|\n| passed | queued | x |\n"
    ) == {("passed", "queued")}

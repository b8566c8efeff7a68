"""The agent-backend config keys: endpoint, environment and permission switches.

Each is validated by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.load import load_config
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config


def load(tmp_path: Path, backends: dict[str, Any], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    data = minimal_config(
        agents={"backends": backends},
        telegram={"token": "$TELEGRAM_BOT_TOKEN", "allowed_chat_ids": [1]},
    )
    return load_config(write_config(tmp_path, data), {**ENV, **(env or {})})


def test_the_defaults_let_claude_edit_in_its_worktree_and_codex_write_in_its_sandbox(
    tmp_path: Path,
) -> None:
    config = load(tmp_path, {"claude": {"type": "claude"}, "codex": {"type": "codex"}})
    claude, codex = config.agents.backends["claude"], config.agents.backends["codex"]
    assert (claude.permission_mode, claude.allowed_tools, claude.api_key, claude.base_url) == (
        "acceptEdits",
        ("Bash",),
        None,
        None,
    )
    assert (codex.sandbox, dict(codex.env), codex.pass_env) == ("workspace-write", {}, ())


def test_every_extra_key_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "claude": {
                "type": "claude",
                "api_key": "$ANTHROPIC_API_KEY",
                "base_url": "http://127.0.0.1:8080/",
                "env": {"CLAUDE_CODE_MAX_RETRIES": 2},
                "pass_env": ["HTTPS_PROXY"],
                "permission_mode": "dontAsk",
                "allowed_tools": ["Bash", "Edit(./**)"],
            }
        },
        {"ANTHROPIC_API_KEY": "sk-test"},
    )
    claude = config.agents.backends["claude"]
    assert claude.api_key is not None and claude.api_key.reveal() == "sk-test"
    assert (claude.base_url, dict(claude.env), claude.pass_env) == (
        "http://127.0.0.1:8080",
        {"CLAUDE_CODE_MAX_RETRIES": "2"},
        ("HTTPS_PROXY",),
    )
    assert (claude.permission_mode, claude.allowed_tools) == ("dontAsk", ("Bash", "Edit(./**)"))


@pytest.mark.parametrize(
    "backends, problem",
    [
        (
            {"c": {"type": "claude", "permission_mode": "yolo"}},
            "agents.backends.c.permission_mode: expected one of acceptEdits | auto",
        ),
        (
            {"c": {"type": "codex", "permission_mode": "dontAsk"}},
            "agents.backends.c.permission_mode: only claude backends take permission_mode, "
            "this one is codex",
        ),
        (
            {"c": {"type": "codex", "sandbox": "none"}},
            "agents.backends.c.sandbox: expected one of read-only",
        ),
        (
            {"c": {"type": "claude", "sandbox": "read-only"}},
            "agents.backends.c.sandbox: only codex backends take",
        ),
        (
            {"c": {"type": "claude", "base_url": "localhost:80"}},
            "agents.backends.c.base_url: expected an http(s) URL, got 'localhost:80'",
        ),
        (
            {"c": {"type": "command", "argv": ["x"], "api_key": "$K"}},
            "agents.backends.c.api_key: only anthropic, claude and codex backends take api_key",
        ),
        (
            {"c": {"type": "command", "argv": ["x", "{prompt}"]}},
            "agents.backends.c.argv[1]: unknown placeholder {prompt} "
            "(known: {prompt_file}, {worktree}, {task_id})",
        ),
        (
            {"c": {"type": "claude", "env": {"GITHUB_TOKEN": "x"}}},
            "agents.backends.c.env.GITHUB_TOKEN: GITHUB_TOKEN never reaches an agent",
        ),
        (
            {"c": {"type": "claude", "pass_env": ["GH_TOKEN"]}},
            "agents.backends.c.pass_env[0]: GH_TOKEN never reaches",
        ),
        (
            {"c": {"type": "claude", "pass_env": ["TELEGRAM_CHAT"]}},
            "agents.backends.c.pass_env[0]: TELEGRAM_CHAT never",
        ),
        (
            {"c": {"type": "claude", "pass_env": ["bad name"]}},
            "agents.backends.c.pass_env[0]: expected an environment variable name, got 'bad name'",
        ),
        (
            {"c": {"type": "claude", "env": {"KEY": "$ANTHROPIC_API_KEY"}}},
            "agents.backends.c.env.KEY: takes literal values only; a secret goes in api_key",
        ),
        (
            {"c": {"type": "claude", "env": {"KEY": ["a"]}}},
            "agents.backends.c.env.KEY: expected a string, got a list",
        ),
        (
            {"c": {"type": "claude", "env": "A=1"}},
            "agents.backends.c.env: expected a mapping, got 'A=1'",
        ),
    ],
)
def test_bad_backend_keys_are_named_with_their_value(
    tmp_path: Path, backends: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, backends)
    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems


def test_a_variable_the_config_resolves_as_a_secret_cannot_be_passed_to_an_agent(
    tmp_path: Path,
) -> None:
    backends = {
        "api": {"type": "anthropic", "api_key": "$MY_KEY"},
        "c": {"type": "command", "argv": ["x"], "pass_env": ["MY_KEY", "TELEGRAM_BOT_TOKEN"]},
    }
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, backends, {"MY_KEY": "sk-test"})
    assert (
        "agents.backends.c.pass_env: $MY_KEY is a secret of this config and never reaches an agent"
        in (raised.value.problems)
    )

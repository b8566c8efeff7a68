"""`--agent claude|codex`: the real CLI when it is installed and logged in.

Otherwise a plain word on what is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.demo import agents
from orchestrator.errors import UsageError


def install(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / name
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


@pytest.mark.parametrize(
    "name, package", [("claude", "@anthropic-ai/claude-code"), ("codex", "@openai/codex")]
)
def test_a_missing_cli_is_named_with_how_to_install_it(
    tmp_path: Path, name: str, package: str
) -> None:
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    with pytest.raises(
        UsageError,
        match=f"needs the `{name}` CLI, which is not installed: npm install -g {package}",
    ):
        agents.real(name, env, pinned=tmp_path / "no-npm")


@pytest.mark.parametrize(
    "name, key", [("claude", "ANTHROPIC_API_KEY"), ("codex", "OPENAI_API_KEY")]
)
def test_an_installed_cli_without_a_login_says_how_to_log_in(
    tmp_path: Path, name: str, key: str
) -> None:
    install(tmp_path / "bin", name)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}
    with pytest.raises(
        UsageError,
        match=f"is installed but not logged in: run `{name}` once and log in, or set {key}",
    ):
        agents.real(name, env)


def test_the_pinned_cli_is_found_when_none_is_on_the_path(tmp_path: Path) -> None:
    pinned = install(tmp_path / "npm-bin", "codex")
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(tmp_path), "OPENAI_API_KEY": "sk-test"}
    choice = agents.real("codex", env, pinned=pinned.parent)
    assert choice.backend == {
        "type": "codex",
        "binary": str(pinned),
        "timeout_minutes": 20,
        "api_key": "$OPENAI_API_KEY",
    }
    assert (
        not choice.scripted
        and "real `codex` CLI" in choice.described
        and "API key" in choice.described
    )


@pytest.mark.parametrize(
    "name, login",
    [
        ("claude", ".claude/.credentials.json"),
        ("claude", ".claude.json"),
        ("codex", ".codex/auth.json"),
    ],
)
def test_a_cli_logged_in_under_home_runs_on_its_own_login(
    tmp_path: Path, name: str, login: str
) -> None:
    binary = install(tmp_path / "bin", name)
    (tmp_path / login).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / login).write_text('{"oauthAccount": {}}')
    choice = agents.real(name, {"PATH": str(binary.parent), "HOME": str(tmp_path)})
    assert "api_key" not in choice.backend and "your login" in choice.described
    assert choice.timeout_s > agents.scripted("http://127.0.0.1:1").timeout_s


def test_the_scripted_choice_says_so_and_points_the_anthropic_backend_at_the_model_sandbox() -> (
    None
):
    choice = agents.scripted("http://127.0.0.1:4567")
    assert choice.scripted and "The model is SCRIPTED" in choice.described
    assert (
        choice.backend["type"] == "anthropic"
        and choice.backend["base_url"] == "http://127.0.0.1:4567"
    )
    assert (
        choice.backend["api_key"] == f"${agents.SCRIPTED_KEY_VAR}"
        and agents.SCRIPTED_KEY_VAR in choice.env
    )

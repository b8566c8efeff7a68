"""Choosing the agent backend in init, and init's verdict on the config being `check`'s.

Each run here adds to a config that already names a repository, so only preflight (where the
backend is chosen) and the config step need to run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli.main import main as agentos
from orchestrator.config.load import load_config, read_env_file
from orchestrator.errors import InvalidAnswer, UsageError
from orchestrator.init.backend import parse_command
from tests.init.conftest import World, only

KEY = "sk-ant-api03-init-test-key-0123456789"


def _existing(world: World, agents: dict[str, Any] | None = None, *, api_url: bool = True) -> None:
    """A config with a repository and the token, as a first run or a hand leaves it."""
    github = {"token": "$GITHUB_TOKEN"} | ({"api_url": world.github.api_url} if api_url else {})
    config: dict[str, Any] = {
        "github": github,
        "repos": [{"key": "shop", "github": "agentos/shop"}],
    }
    if agents is not None:
        config["agents"] = agents
    world.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def _init(world: World, **answers: Any) -> int:
    return world.init(only(world, "preflight", "config", **answers))


def _check(world: World) -> tuple[int, str]:
    """Run `bin/agentos check` on the config, in init's environment; return its code and output."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = agentos(["--config", str(world.config), "check"], environ=world.environ)
    return code, out.getvalue()


def _only_git_on_path(world: World, tmp_path: Path) -> None:
    """A PATH with git and nothing else: no agent CLI is installed."""
    folder = tmp_path / "git-only"
    folder.mkdir()
    git = shutil.which("git")
    assert git is not None
    (folder / "git").symlink_to(git)
    world.environ["PATH"] = str(folder)


@pytest.mark.parametrize("cli", ["claude", "codex"])
def test_an_installed_cli_can_be_chosen_and_check_agrees_the_config_is_valid(
    world: World, cli: str
) -> None:
    _existing(world)
    assert _init(world, **{"agent.backend": cli}) == 0, world.output
    assert (
        "Which agent works on the issues [CLAUDE/codex/anthropic/command]: " + cli in world.output
    )
    agents = world.read_config()["agents"]
    assert agents["backends"] == {
        cli: {"type": cli, "timeout_minutes": 45 if cli == "claude" else 40}
    }
    assert agents["chains"] == {"default": [cli]}
    assert "is valid, as `bin/agentos check` sees it" in world.output
    assert _check(world)[0] == 0


def test_the_anthropic_key_goes_to_the_env_file_and_only_its_name_into_the_config(
    world: World,
) -> None:
    _existing(world)
    answers = {"agent.backend": "anthropic", "agent.api_key": KEY}
    assert _init(world, **answers) == 0, world.output
    text = world.config.read_text(encoding="utf-8")
    assert KEY not in text and KEY not in world.output
    assert yaml.safe_load(text)["agents"]["backends"]["anthropic"] == {
        "type": "anthropic",
        "timeout_minutes": 45,
        "api_key": "$ANTHROPIC_API_KEY",
    }
    assert read_env_file(world.config.parent / ".env")["ANTHROPIC_API_KEY"] == KEY
    state = (world.config.parent / "runtime" / "state" / "init.json").read_text(encoding="utf-8")
    assert KEY not in state
    config = load_config(world.config, environ={})  # cron's empty environment: the env file
    assert config.agents.backends["anthropic"].api_key.reveal() == KEY  # type: ignore[union-attr]
    assert _check(world)[0] == 0 and "is valid, as `bin/agentos check` sees it" in world.output


def test_an_anthropic_key_already_set_is_used_and_not_asked_for(world: World) -> None:
    _existing(world)
    world.environ["ANTHROPIC_API_KEY"] = KEY
    assert _init(world, **{"agent.backend": "anthropic"}) == 0, world.output
    assert "✓ the anthropic backend uses $ANTHROPIC_API_KEY, which is set" in world.output
    assert "Anthropic API key" not in world.output
    assert KEY not in world.config.read_text(encoding="utf-8")


def test_a_command_backend_takes_its_argv_from_a_list_or_a_line(world: World) -> None:
    tools = world.config.parent / "tools"
    tools.mkdir()
    script = tools / "agent.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    _existing(world)
    argv = ["tools/agent.sh", "--in", "{worktree}", "--prompt", "{prompt_file}"]
    assert _init(world, **{"agent.backend": "command", "agent.command": argv}) == 0, world.output
    assert "Command line (e.g. my-agent --prompt {prompt_file}): tools/agent.sh --in" in (
        world.output
    )
    backend = world.read_config()["agents"]["backends"]["command"]
    assert backend == {"type": "command", "timeout_minutes": 45, "argv": argv}
    assert _check(world)[0] == 0 and "is valid, as `bin/agentos check` sees it" in world.output

    world.config.unlink()
    _existing(world)
    line = "tools/agent.sh --in '{worktree}' --title 'two words'"
    assert _init(world, **{"agent.backend": "command", "agent.command": line}) == 0
    assert world.read_config()["agents"]["backends"]["command"]["argv"] == [
        "tools/agent.sh",
        "--in",
        "{worktree}",
        "--title",
        "two words",
    ]


def test_without_an_agent_cli_claude_is_not_offered_and_naming_it_is_one_line(
    world: World, tmp_path: Path
) -> None:
    _existing(world)
    _only_git_on_path(world, tmp_path)
    with pytest.raises(UsageError) as raised:
        _init(world, **{"agent.backend": "claude"})
    assert str(raised.value) == (
        "answers file: agent.backend: claude is not installed here (no `claude` on PATH): "
        "install it (npm install -g @anthropic-ai/claude-code) "
        "or choose one of anthropic, command"
    )
    assert "Which agent works on the issues [anthropic/command]: claude" in world.output
    assert "! no agent CLI found" in world.output


def test_without_an_agent_cli_there_is_no_default_backend(world: World, tmp_path: Path) -> None:
    _existing(world)
    _only_git_on_path(world, tmp_path)
    with pytest.raises(UsageError, match="answers file: agent.backend: an answer is needed here"):
        _init(world)
    assert not world.config.read_text(encoding="utf-8").count("agents")


def test_init_says_valid_only_when_check_does_and_prints_the_fail_lines_check_prints(
    world: World, tmp_path: Path
) -> None:
    # The config has a claude backend; this machine has no claude.
    _existing(world, {"backends": {"claude": {"type": "claude"}}}, api_url=False)
    _only_git_on_path(world, tmp_path)
    assert _init(world, **{"agent.backend": "codex"}) == 0, world.output
    assert "Which agent works on the issues" not in world.output  # the config's backends stay
    code, checked = _check(world)
    fails = [line for line in checked.splitlines() if line.startswith("FAIL ")]
    assert code == 2 and fails == [
        "FAIL agents.backends.claude.binary: 'claude' not found on PATH "
        "(install it: npm install -g @anthropic-ai/claude-code)"
    ]
    assert all(f"  {line}" in world.output for line in fails)
    assert f"✗ `bin/agentos check` fails on {world.config}, with 1 problem(s):" in world.output
    assert "is valid" not in world.output
    assert "0. Fix the 1 problem(s) `bin/agentos check` found in the config" in world.output

    # A run with nothing to change still says what check says.
    assert _init(world) == 0, world.output
    assert "Nothing to change." in world.output and fails[0] in world.output
    assert "is valid" not in world.output


def test_a_key_typed_before_an_interruption_is_asked_for_again(world: World) -> None:
    _existing(world)
    stopped = {"agent.backend": "anthropic", "agent.api_key": KEY, "config.apply": "maybe"}
    with pytest.raises(UsageError, match="config.apply: expected yes or no"):
        _init(world, **stopped)
    assert KEY not in (world.config.parent / "runtime" / "state" / "init.json").read_text()
    resumed = {"resume": True, "agent": {"api_key": KEY}}
    assert world.init(resumed) == 0, world.output
    assert (
        "$ANTHROPIC_API_KEY is not set here (the interrupted run had the API key only in memory)"
        in world.output
    )
    assert read_env_file(world.config.parent / ".env")["ANTHROPIC_API_KEY"] == KEY


@pytest.mark.parametrize(
    "line, problem",
    [
        ("git {worktree} {prompt}", "unknown placeholder {prompt} (known: {prompt_file}, "),
        ("no-such-agent-here {prompt_file}", "'no-such-agent-here' is not an executable program"),
        ("git 'unclosed", "cannot split this command line: No closing quotation"),
        ("./missing.sh", "'./missing.sh' is not an executable program"),
    ],
)
def test_a_command_line_that_cannot_run_is_refused_with_the_reason(
    tmp_path: Path, line: str, problem: str
) -> None:
    with pytest.raises(InvalidAnswer, match=re.escape(problem)):
        parse_command(line, tmp_path, {"PATH": os.environ["PATH"]})


def test_an_unquoted_placeholder_in_an_answers_list_is_explained(world: World) -> None:
    _existing(world)
    answers = only(world, "preflight", "config", **{"agent.backend": "command"})
    answers["agent"]["command"] = [
        "git",
        {"worktree": None},
    ]  # what YAML makes of [git, {worktree}]
    with pytest.raises(UsageError, match='quote a placeholder: "{worktree}"'):
        world.init(answers)

"""Single steps in their corners.

Preflight's checks and fixes, systemd instead of cron, skipping what others need.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import UsageError
from tests.init.conftest import World, only


def test_preflight_stops_on_a_missing_git_saying_how_to_install_it(
    world: World, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    world.environ["PATH"] = str(empty)
    with pytest.raises(UsageError, match=r"preflight failed: 1 problem\(s\) to fix first"):
        world.init(only(world, "preflight"))
    assert (
        "✗ git not found on PATH: install git (apt install git, brew install git)" in world.output
    )
    assert (
        "- claude: not found (optional; install: npm install -g @anthropic-ai/claude-code)"
        in world.output
    )
    assert "! no agent CLI found" in world.output


@pytest.mark.usefixtures("pinned_clis")
def test_preflight_says_which_agent_clis_are_logged_in(world: World) -> None:
    world.environ["ANTHROPIC_API_KEY"] = (
        "sk-ant-sandbox"  # what `claude auth status` counts as logged in
    )
    assert world.init(only(world, "preflight")) == 0, world.output
    lines = world.output.splitlines()
    claude = next(line for line in lines if "✓ claude: " in line)
    codex = next(line for line in lines if "✓ codex: " in line)
    assert "not logged in" not in claude
    assert codex.endswith("(not logged in: run `codex login`, or set OPENAI_API_KEY)")
    assert "✓ GitHub: signed in as agentos (scopes repo, project, read:org)" in world.output


def test_a_token_in_the_environment_without_the_project_scope_is_replaced_at_the_prompt(
    world: World,
) -> None:
    good = world.github.token
    world.environ["GITHUB_TOKEN"] = world.github.add_user("weakling", scopes=("repo",))
    assert world.init(only(world, "preflight", **{"github.token": good})) == 0, world.output
    assert (
        "✗ the token in $GITHUB_TOKEN: this token lacks the 'project' scope: create one at "
        f"http://127.0.0.1:{world.github.port}/settings/tokens/new?scopes=repo,project,read:org"
        in world.output
    )
    assert "run `gh auth refresh -s project`" in world.output
    assert (
        "$GITHUB_TOKEN in this shell still holds the other token and wins over the env file"
        in world.output
    )
    assert "✓ GitHub: signed in as agentos" in world.output and good not in world.output


def test_systemd_units_are_printed_and_no_crontab_is_touched(world: World) -> None:
    assert world.init(only(world, "cron", **{"cron.method": "systemd"})) == 0, world.output
    assert "# --- ~/.config/systemd/user/agentos-dispatcher.timer" in world.output
    assert "OnCalendar=*-*-* *:*:00" in world.output
    assert "systemctl --user enable --now agentos-dispatcher.timer" in world.output
    assert not world.crontab.exists()


def test_steps_that_need_a_skipped_one_say_so_and_no_config_is_written_without_a_repository(
    world: World,
) -> None:
    assert world.init(only(world, "preflight", "board", "charter", "config")) == 0, world.output
    # board
    assert "Skipped: it needs the repository, which an earlier step did not set up." in world.output
    assert (
        "Skipped: it needs the repository and intake, which an earlier step did not set up."
        in world.output
    )
    assert "Nothing to write: a new config needs a repository" in world.output
    assert not world.config.exists()


def test_the_cli_turns_a_missing_answers_file_into_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli.main import main

    missing = tmp_path / "answers.yaml"
    assert (
        main(
            ["--config", str(tmp_path / "config.yaml"), "init", "--answers", str(missing)],
            environ={},
        )
        == 2
    )
    assert capsys.readouterr().err == f"agentos: --answers: {missing} does not exist\n"

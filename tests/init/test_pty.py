"""`bin/agentos init` in a real pseudo-terminal.

A person types answers, takes defaults, mistypes, presses Ctrl-C.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.config.load import load_config
from orchestrator.config.model import GitHubConfig, Secret
from tests.init.conftest import AGENT_BIN, REPO_ROOT, World, answers_for, status_names
from tests.init.ptyrun import PtyProgram


@pytest.fixture
def terminal(world: World) -> Iterator[list[PtyProgram]]:
    started: list[PtyProgram] = []
    yield started
    for program in started:
        program.kill()


def _start(world: World, started: list[PtyProgram], *, token_in_env: bool) -> PtyProgram:
    env = {
        "PATH": f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(world.home),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_GLOBAL": str(world.home / ".gitconfig"),
        "PTB_TIMEDELTA": "true",
        "TERM": "dumb",
    }
    if token_in_env:
        env["GITHUB_TOKEN"] = world.github.token
    argv = [
        str(REPO_ROOT / "bin" / "agentos"),
        "--config",
        str(world.config),
        "init",
        "--crontab-file",
        str(world.crontab),
    ]
    program = PtyProgram(argv, env, world.config.parent)
    started.append(program)
    return program


def _existing_board(world: World) -> int:
    settings = GitHubConfig(
        Secret("T", world.github.token), world.github.api_url, world.github.graphql_url, ()
    )
    admin = GitHubBoardAdmin(GraphQL(settings), GitHubTracker(settings, throttle=False))
    return admin.find_or_create("agentos", "Everything").number


@pytest.mark.usefixtures("pinned_clis")  # step 1 offers both
def test_a_person_types_the_answers_takes_defaults_and_gets_asked_again_after_mistakes(
    world: World, terminal: list[PtyProgram]
) -> None:
    board = _existing_board(world)
    # a token without the `project` scope
    weak = world.github.add_user("weakling", scopes=("repo",))
    t = _start(world, terminal, token_in_env=False)
    t.expect("Step 1 of 10: Preflight")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Which agent works on the issues [CLAUDE/codex/anthropic/command]: ")
    t.type("gemini")
    t.expect("! expected one of claude, codex, anthropic, command, got 'gemini'")
    t.expect("Which agent works on the issues [CLAUDE/codex/anthropic/command]: ")
    t.type()  # the first CLI installed
    t.expect("GitHub API URL [https://api.github.com]: ")
    t.type(world.github.api_url)
    t.expect("GitHub token (scopes: repo, project; read:org for organization boards): ")
    t.type(weak)
    t.expect("! this token lacks the 'project' scope: create one at ")
    t.expect("GitHub token (scopes: repo, project; read:org for organization boards): ")
    t.type(world.github.token)
    t.expect("✓ GitHub: signed in as agentos")

    t.expect("Step 2 of 10: Intake")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("What are you building? (one or two sentences): ")
    t.type("A command-line tool that renames photos by date")
    t.expect("What kind of software is it [web/api/cli/library/mobile/desktop/game/OTHER]: ")
    t.type("cl")  # a unique prefix is enough
    t.expect("[auto]: ")
    t.type()
    t.expect("Who is its first user? [me]: ")
    t.type()
    t.expect("What must work for that user to call it a success?: ")
    t.type("rename a folder of photos in one command")

    t.expect("Step 3 of 10: Repository")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("[CREATE/adopt]: ")
    t.type("adopt")
    t.expect("Repository to adopt (owner/name): ")
    t.type("agentos/no-such-repo")
    t.expect("! agentos/no-such-repo not found, or the token cannot see it")
    t.expect("Repository to adopt (owner/name): ")
    world.github.create_repo("agentos/photos")
    t.type("agentos/photos")
    t.expect("[photos]: ")
    t.type()
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("✓ labels created")

    t.expect("Step 4 of 10: Board")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("[CREATE/adopt]: ")
    t.type("a")
    t.expect("[agentos]: ")
    t.type()
    t.expect("Board number (the N in ")
    t.type("first")
    t.expect("! expected a whole number, got 'first'")
    t.expect("Board number (the N in ")
    t.type("7")
    t.expect("! board agentos/7 not found, or the token cannot see it")
    t.expect("Board number (the N in ")
    t.type(str(board))
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("Status has all six options")

    t.expect("Step 5 of 10: Charter and first issues")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("drafting from templates instead of a model")
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("✓ on the board")

    t.expect("Step 6 of 10: Telegram")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Telegram Bot API URL [https://api.telegram.org]: ")
    t.type(world.telegram.url)
    t.expect("Bot token from @BotFather (/newbot): ")
    t.type(world.telegram.token)
    t.expect("✓ bot @agentos_sandbox_bot")
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("Send any message to @agentos_sandbox_bot now")
    world.telegram.inject_message("/start")
    t.expect("Pair with this chat? [Y/n]: ")
    t.type()
    t.expect("✓ paired with Alice")

    t.expect("Step 7 of 10: Tuning")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Tasks running at once, across all repositories [4]: ")
    t.type("three")
    t.expect("! expected a whole number, got 'three'")
    t.expect("Tasks running at once, across all repositories [4]: ")
    t.type("3")
    for prompt in (
        "Tasks of this repository running at once [2]: ",
        "before a human is asked [3]: ",
        "Timeout for the claude agent (minutes) [45]: ",
        "Issues Agent OS may file by itself in a repository per day [5]: ",
        "straight to Ready (the others wait in Backlog) [NONE/critical/high]: ",
        "Keep this schedule? [Y/n]: ",
    ):
        t.expect(prompt)
        t.type()

    t.expect("Step 8 of 10: Write config")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("is valid, as `bin/agentos check` sees it")

    t.expect("Step 9 of 10: Cron and hooks")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Run the jobs from [serve/CRON/systemd/none]: ")
    t.type()
    t.expect("Go ahead? [Y/n]: ")
    t.type()
    t.expect("Step 10 of 10: Done")
    t.expect("to Ready on the board: it is the seed issue with no blockers")
    assert t.wait() == 0
    # typed with echo off
    assert world.github.token not in t.screen and world.telegram.token not in t.screen

    config = load_config(world.config, environ={})
    photos = config.repo("photos")
    assert (
        photos.github == "agentos/photos"
        and photos.board is not None
        and photos.board.number == board
    )
    assert config.limits.max_parallel_workers == 3 and config.telegram is not None
    assert "Todo" in status_names(world, "agentos", board)
    assert "agentos" in world.crontab.read_text()


def test_ctrl_c_after_step_4_then_the_next_run_resumes_at_step_5(
    world: World, terminal: list[PtyProgram], tmp_path: Path
) -> None:
    t = _start(world, terminal, token_in_env=True)
    answers = answers_for(world)
    t.expect("Run this step? [Y/n]: ")
    t.type()
    t.expect("Which agent works on the issues [CLAUDE/codex/anthropic/command]: ")
    t.type("codex")
    t.expect("GitHub API URL [https://api.github.com]: ")
    t.type(world.github.api_url)
    t.expect("Run this step? [Y/n]: ")
    t.type()
    for key in ("idea", "kind", "stack", "first_user", "success"):
        t.expect_re(r"\]?: $")
        t.type(str(answers["intake"][key]))
    t.expect("Step 3 of 10")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    # create, name, private (default yes), key, go ahead
    for typed in ("create", "shop", "", "", ""):
        t.expect_re(r"\]?: $")
        t.type(typed)
    t.expect("Step 4 of 10")
    t.expect("Run this step? [Y/n]: ")
    t.type()
    for typed in ("create", "", "Shop", ""):  # create, owner, title, go ahead
        t.expect_re(r"\]?: $")
        t.type(typed)
    t.expect("Step 5 of 10: Charter and first issues")
    t.expect("Run this step? [Y/n]: ")
    t.ctrl_c()
    t.expect("Interrupted in step 5 (Charter and first issues). Nothing is half-written")
    assert t.wait() == 130
    assert not world.config.exists()
    assert not world.github.store.repo("agentos", "shop")["issues"]  # step 5 never started

    world.telegram.inject_message("hello")
    resumed = answers_for(world, resume=True)
    # a resumed run must not ask these again
    del (resumed["intake"], resumed["repository"], resumed["board"])
    assert world.init(resumed) == 0, world.output
    assert "Resume at step 5 (Charter and first issues)? [Y/n]: yes" in world.output
    assert world.output.count("Done in the interrupted run.") == 4
    assert (
        len([p for p in world.github.store.data["graphql"]["projects"] if p["owner"] == "agentos"])
        == 1
    )
    assert sorted(world.github.store.repo("agentos", "shop")["issues"]) == ["1", "2", "3", "4"]
    config = load_config(world.config, environ={})
    assert config.repo("shop").board is not None and config.telegram is not None
    assert list(config.agents.backends) == ["codex"]  # chosen before Ctrl-C, kept in the session
    # The intake typed before Ctrl-C came from the saved session.
    assert (
        "Lay out the project for: A shop for second-hand books"
        in world.github.store.repo("agentos", "shop")["issues"]["1"]["body"]
    )

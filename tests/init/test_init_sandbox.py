"""`agentos init` end to end against the GitHub and Telegram sandboxes.

A fresh run, then a second project.
"""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

import pytest
from github import Auth, Github

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.cli.main import main
from orchestrator.config.load import load_config
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.errors import UsageError
from orchestrator.init.board import STATUSES
from orchestrator.init.session import load
from tests.init.conftest import World, answers_for, clone, git, project_record, status_names


def _tracker(world: World) -> GitHubTracker:
    return GitHubTracker(_settings(world), throttle=False)


def _settings(world: World) -> GitHubConfig:
    return GitHubConfig(
        Secret("T", world.github.token), world.github.api_url, world.github.graphql_url, ()
    )


def test_a_fresh_run_sets_up_repo_board_labels_seeds_chat_config_and_cron(
    world: World, tmp_path: Path
) -> None:
    world.telegram.inject_message("hello from my phone")
    assert world.init() == 0, world.output

    repo = Github(auth=Auth.Token(world.github.token), base_url=world.github.api_url).get_repo(
        "agentos/shop"
    )
    assert repo.private and repo.default_branch == "main"
    assert {"agentos:approved", "prio:high", "prio:normal", "prio:low"} <= {
        label.name for label in repo.get_labels()
    }
    checkout = clone(world, "agentos/shop", tmp_path / "shop")
    assert ".agent_result.md" in (checkout / ".gitignore").read_text().splitlines()
    assert "second-hand books" in (checkout / "NORTH_STAR.md").read_text()
    assert "Project skeleton" in (checkout / "PLAN.md").read_text()

    # The board: the six options, the user's (GitHub's default Todo) kept, linked,
    # every seed in Backlog.
    names = status_names(world, "agentos", 1)
    assert set(STATUSES) <= set(names) and "Todo" in names
    assert project_record(world, "agentos", 1)["repositories"] == [
        world.github.store.repo("agentos", "shop")["id"]
    ]
    tracker = _tracker(world)
    board = GitHubBoard(
        GraphQL(_settings(world)), "agentos", 1, tracker=tracker, repo="agentos/shop"
    )
    items = board.items()
    assert len(items) == 4 and {item.status for item in items} == {BoardStatus.BACKLOG}

    # Seeds with dependencies: 2 after 1, 3 and 4 after 2, recorded natively and in the bodies.
    seeds = {issue.number: issue for issue in tracker.open_issues("agentos/shop")}
    assert sorted(seeds) == [1, 2, 3, 4] and "prio:high" in seeds[1].labels
    blockers = {n: tracker.dependencies(seeds[n]).blocked_by for n in seeds}
    ref = lambda n: IssueRef("agentos/shop", n)  # noqa: E731
    assert blockers == {1: (), 2: (ref(1),), 3: (ref(2),), 4: (ref(2),)}
    assert "Depends on #2" in seeds[3].body

    # The chat: allowed in the config, and told so.
    assert "paired with this chat" in world.telegram.screen(1001)[-1]["text"]

    # A config the loader accepts, with secrets only as references,
    # and their values in a 0600 env file.
    text = world.config.read_text()
    assert world.github.token not in text and world.telegram.token not in text
    env_file = world.config.parent / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert f"GITHUB_TOKEN={world.github.token}" in env_file.read_text().splitlines()
    # cron's empty environment: the env file is enough
    config = load_config(world.config, environ={})
    shop = config.repo("shop")
    assert (shop.github, shop.board and shop.board.number) == ("agentos/shop", 1)
    assert config.telegram is not None and config.telegram.allowed_chat_ids == (1001,)
    assert config.telegram.token.reveal() == world.telegram.token
    assert (config.limits.max_parallel_workers, config.limits.max_attempts) == (3, 2)
    assert (config.improve.daily_cap, config.improve.ready_severities) == (3, ("critical",))
    # The backend: the first agent CLI installed, taken by default; and init's "valid" is check's.
    assert "Which agent works on the issues [CLAUDE/codex/anthropic/command]: \n" in world.output
    assert list(config.agents.backends) == ["claude"]
    assert f"✓ {world.config} is valid, as `bin/agentos check` sees it" in world.output
    assert main(["--config", str(world.config), "check"], environ=world.environ) == 0

    # Cron and the hook; and the next step named.
    crontab = world.crontab.read_text()
    assert f"# >>> agentos {world.root.resolve()} >>>" in crontab
    assert all(
        f"run {job} --config {world.config}" in crontab
        for job in ("dispatcher", "queue", "pr_monitor")
    )
    assert git(world.root, "config", "--get", "core.hooksPath").strip() == "hooks"
    assert "Move #1 'Project skeleton with one test command' to Ready" in world.output
    progress = load(world.config.parent / "runtime" / "state" / "init.json")
    assert progress is not None and progress.finished
    assert (
        world.github.token
        not in (world.config.parent / "runtime" / "state" / "init.json").read_text()
    )


def _edit_first_config(world: World) -> str:
    """Do what a user does between runs: comment, reorder nothing, change a value by hand."""
    text = world.config.read_text()
    text = text.replace("limits:\n", "# Tuned by hand after a week: keep these.\nlimits:\n")
    text = text.replace(
        "  max_attempts: 2\n", "  max_attempts: 2   # two is enough for us\n  max_fix_rounds: 5\n"
    )
    world.config.write_text(text)
    return text


def test_a_second_run_adds_a_project_keeping_the_first_byte_for_byte_and_backs_up(
    world: World,
) -> None:
    world.telegram.inject_message("hello")
    assert world.init() == 0, world.output
    before = _edit_first_config(world)
    # Telegram: set up already, kept
    second = answers_for(
        world,
        **{
            "intake.idea": "A blog engine",
            "repository.name": "blog",
            "repository.key": "blog",
            "board.title": "Blog",
        },
    )
    del second["tuning"]  # accept every default: the values already in the config
    assert world.init(second) == 0, world.output

    after = world.config.read_text()
    backups = sorted(world.config.parent.glob("config.yaml.bak.*"))
    assert len(backups) == 1 and backups[0].read_text() == before
    opcodes = difflib.SequenceMatcher(
        a=before.splitlines(True), b=after.splitlines(True)
    ).get_opcodes()
    assert {tag for tag, *_ in opcodes} == {"equal", "insert"}, "\n".join(
        difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
    )
    inserted = "".join(
        line
        for tag, _, _, j1, j2 in opcodes
        if tag == "insert"
        for line in after.splitlines(True)[j1:j2]
    )
    assert "key: blog" in inserted and "github: agentos/blog" in inserted
    config = load_config(world.config, environ={})
    assert [r.key for r in config.repos] == ["shop", "blog"]
    assert config.repo("blog").board is not None and config.repo("blog").board.number == 2  # type: ignore[union-attr]
    assert (config.limits.max_attempts, config.limits.max_fix_rounds) == (2, 5)


def _snapshot(world: World) -> dict[str, object]:
    """Everything a run could change.

    GitHub's records and refs, every file around the config, crontab, git config.
    """
    import json

    with world.github.store.lock:
        records = json.dumps(world.github.store.data, sort_keys=True)
    refs = {
        str(p): git(p, "for-each-ref") for p in sorted(world.github.store.git_root.glob("*/*.git"))
    }
    files = {str(p): p.read_bytes() for p in sorted(world.config.parent.rglob("*")) if p.is_file()}
    return {
        "github": records,
        "refs": refs,
        "files": files,
        "crontab": world.crontab.read_bytes() if world.crontab.exists() else None,
        "git config": (world.root / ".git" / "config").read_bytes(),
    }


def _pending_updates(world: World) -> list[str]:
    import asyncio

    from telegram import Bot

    async def read() -> list[str]:
        async with Bot(world.telegram.token, base_url=world.telegram.base_url) as bot:
            return [
                u.message.text
                for u in await bot.get_updates(timeout=0)
                if u.message and u.message.text
            ]

    return asyncio.run(read())


def test_a_dry_run_changes_nothing_on_a_fresh_setup(world: World) -> None:
    world.telegram.inject_message("hello")
    before = _snapshot(world)
    assert world.init(dry_run=True) == 0, world.output
    assert _snapshot(world) == before
    assert _pending_updates(world) == ["hello"]  # the pairing message was not consumed
    assert world.telegram.screen(1001)[-1]["text"] == "hello"  # nothing was sent
    assert "create the private repository agentos/shop" in world.output
    assert "create the board 'Shop' for agentos" in world.output
    assert "open 4 issues in agentos/shop" in world.output
    assert "| repos:" in world.output and "install this block" in world.output
    assert "This was a dry run: nothing was changed." in world.output


def test_a_dry_run_over_an_existing_setup_shows_the_diff_and_changes_nothing(world: World) -> None:
    world.telegram.inject_message("hello")
    assert world.init() == 0, world.output
    _edit_first_config(world)
    second = answers_for(
        world,
        **{
            "repository.name": "blog",
            "repository.key": "blog",
            "board.title": "Blog",
            "steps.telegram": False,
        },
    )
    before = _snapshot(world)
    assert world.init(second, dry_run=True) == 0, world.output
    assert _snapshot(world) == before
    assert "+  - key: blog" in world.output and "✓ the merged config is valid" not in world.output


def test_a_run_stopped_at_step_8_resumes_there_and_asks_again_for_the_token_it_had_in_memory(
    world: World,
) -> None:
    world.telegram.inject_message("hello")
    stopped = answers_for(world, **{"config.apply": "maybe"})
    with pytest.raises(
        UsageError, match="answers file: config.apply: expected yes or no, got 'maybe'"
    ):
        world.init(stopped)  # bin/agentos prints this one line and exits 2
    assert "! expected yes or no, got 'maybe'" in world.output
    assert "Stopped in step 8 (Write config)" in world.output and not world.config.exists()
    state = (world.config.parent / "runtime" / "state" / "init.json").read_text()
    assert world.telegram.token not in state and "TELEGRAM_BOT_TOKEN" in state

    resumed = {"resume": True, "telegram": {"token": world.telegram.token}}
    assert world.init(resumed) == 0, world.output
    assert "Resume at step 8 (Write config)? [Y/n]: yes" in world.output
    assert (
        "$TELEGRAM_BOT_TOKEN is not set here (the interrupted run had the bot token only in memory)"
        in world.output
    )
    config = load_config(world.config, environ={})
    assert config.telegram is not None and config.telegram.token.reveal() == world.telegram.token
    assert len(world.github.store.repo("agentos", "shop")["issues"]) == 4

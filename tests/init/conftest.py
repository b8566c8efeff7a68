"""A world for init tests.

The GitHub and Telegram sandboxes, an Agent OS checkout, a config folder, a crontab file.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli.commands import offline_problems
from orchestrator.init import main
from orchestrator.init.runner import STEPS
from orchestrator.jobs import JOBS, JobSpec
from orchestrator.ports_init import Services
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.models.clis import find_cli
from orchestrator.sandbox.telegram import TelegramSandbox
from orchestrator.wiring import init_services
from tests.contract.worlds import FAST_RETRY
from tests.support.clis import cli
from tests.support.github_sandbox import running_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT_BIN = REPO_ROOT / "tools" / "npm" / "node_modules" / ".bin"
# Every job as if built, so the cron block has a line per job.
BUILT = {
    name: JobSpec(name, spec.schedule, spec.summary, always_on=spec.always_on)
    for name, spec in JOBS.items()
}
NOW = datetime(2026, 5, 1, 10, 0, 3, tzinfo=UTC)
STEP_NAMES = tuple(step.name for step in STEPS if step.name != "done")  # Done always runs


def answers_for(world: World, **overrides: Any) -> dict[str, Any]:
    """Return the answers of a fresh run creating agentos/shop.

    They are nested as the answers file has them.
    """
    tree: dict[str, Any] = {
        "github": {"api_url": world.github.api_url},
        "intake": {
            "idea": "A shop for second-hand books",
            "kind": "web",
            "stack": "Python and Django",
            "first_user": "a bookseller",
            "success": "list a book and sell it online",
        },
        "repository": {"action": "create", "name": "shop", "private": True, "key": "shop"},
        "board": {"action": "create", "owner": "agentos", "title": "Shop"},
        "telegram": {"api_url": world.telegram.url, "token": world.telegram.token},
        "tuning": {
            "max_parallel_workers": 3,
            "max_attempts": 2,
            "daily_cap": 3,
            "incidents_ready": "critical",
        },
        "cron": {"method": "cron"},
    }
    for dotted, value in overrides.items():
        node = tree
        *parents, last = dotted.split(".")
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = value
    return tree


@dataclass
class World:
    github: Sandbox
    telegram: TelegramSandbox
    root: Path  # the Agent OS checkout (cron markers, core.hooksPath)
    home: Path
    config: Path
    crontab: Path
    services: Services
    environ: dict[str, str] = field(default_factory=dict)
    output: str = ""

    def init(
        self, tree: dict[str, Any] | None = None, *, dry_run: bool = False, **kwargs: Any
    ) -> int:
        """Run init with these answers (default: a fresh run); keep its output in `self.output`."""
        answers = self.config.parent / "answers.yaml"
        answers.write_text(
            yaml.safe_dump(tree if tree is not None else answers_for(self)), encoding="utf-8"
        )
        out = io.StringIO()
        try:
            return main(
                self.config,
                root=self.root,
                environ=self.environ,
                jobs=BUILT,
                check=offline_problems,
                answers=answers,
                dry_run=dry_run,
                crontab_file=self.crontab,
                services=self.services,
                stdout=out,
                pairing_wait=2,
                now=kwargs.pop("now", NOW),
                **kwargs,
            )
        finally:
            self.output = out.getvalue()
            answers.unlink()

    def read_config(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        return data


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Both sandboxes (strict), a checkout with hooks/, an empty config folder, a crontab file."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # see orchestrator/sandbox/telegram/testing.py
    home = tmp_path / "home"
    home.mkdir()
    # git in the adapter reads ~/.gitconfig: keep the developer's out
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    root = tmp_path / "agentos"
    (root / "hooks").mkdir(parents=True)
    git(root, "init", "-q")
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    stand_ins = _stand_in_clis(tmp_path / "stand-ins")
    with running_sandbox(tmp_path / "github") as github, TelegramSandbox(strict=True) as telegram:
        environ = {
            "PATH": os.pathsep.join([str(AGENT_BIN), str(stand_ins), os.environ["PATH"]]),
            "HOME": str(home),
            "GITHUB_TOKEN": github.token,
        }
        yield World(
            github=github,
            telegram=telegram,
            root=root,
            home=home,
            config=config_dir / "config.yaml",
            crontab=tmp_path / "crontab",
            services=init_services(throttle=False, retry=FAST_RETRY),
            environ=environ,
        )
        assert not telegram.violations, "Bot API violations:\n" + "\n".join(
            map(str, telegram.violations)
        )


def _stand_in_clis(folder: Path) -> Path:
    """Put a stand-in on PATH for each pinned agent CLI that is not installed (`make npm-tools`).

    Init only looks for them and asks whether they are logged in (a stand-in says no), and
    offers the first one found as the default backend; tests that need the real ones say so
    (`pinned_clis`).
    """
    folder.mkdir()
    for name in ("claude", "codex"):
        if find_cli(name) is None:
            stand_in = folder / name
            stand_in.write_text("#!/bin/sh\necho '{\"loggedIn\": false}'\nexit 1\n")
            stand_in.chmod(0o755)
    return folder


def only(world: World, *steps: str, **overrides: Any) -> dict[str, Any]:
    """Answers that run just these steps (and Done, which always runs)."""
    return answers_for(world, **{f"steps.{s}": s in steps for s in STEP_NAMES}, **overrides)


@pytest.fixture
def pinned_clis() -> None:
    """Skip unless `claude` and `codex` are both installed: the test expects init to find each."""
    for name in ("claude", "codex"):
        cli(name)


def clone(world: World, full_name: str, into: Path) -> Path:
    """Clone a sandbox repository (to read what init committed)."""
    git(into.parent, "clone", "-q", world.github.clone_url(full_name), str(into))
    return into


def project_record(world: World, owner: str, number: int) -> dict[str, Any]:
    """Return the sandbox's record of a board.

    Fields with their options, items, linked repositories.
    """
    projects = world.github.store.data["graphql"].get("projects", [])
    found: dict[str, Any] = next(
        p for p in projects if p["owner"] == owner and p["number"] == number
    )
    return found


def status_names(world: World, owner: str, number: int) -> list[str]:
    """Return the board's Status options, in order."""
    record = project_record(world, owner, number)
    return [
        o["name"] for o in next(f for f in record["fields"] if f["name"] == "Status")["options"]
    ]

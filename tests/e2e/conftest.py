"""An end-to-end world: the GitHub sandbox, sample repos with real git history, a config, real jobs.

Jobs run in this process through `runner.run_job` (locks, switches, events and all); the queue's
workers are real child processes, so the environment they inherit is set here with monkeypatch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.adapters.agents import confine
from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.adapters.label_board import LabelBoard
from orchestrator.cli import runner
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.core.model import BoardItem, BoardStatus, Issue, IssueRef, Project
from orchestrator.jobs import JOBS
from orchestrator.ports import Board
from orchestrator.sandbox.github import Sandbox
from tests.support.github_sandbox import git_environment, running_sandbox

ROOT = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).with_name("playbook_agent.py")
SAMPLE = {
    ".gitignore": "__pycache__/\n",
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n",
    "tests/__init__.py": "",
    "tests/test_ops.py": (
        "import unittest\n\nfrom calc.ops import add\n\n\n"
        "class Ops(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
    ),
}
TEST_COMMAND = f"{sys.executable} -m unittest discover -q -s tests -t ."


@dataclass
class World:
    sandbox: Sandbox
    root: Path
    config_path: Path
    env: dict[str, str]
    playbook: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return load_config(self.config_path, self.env)

    @cached_property
    def tracker(self) -> GitHubTracker:
        """The test's own GitHub client (the jobs build theirs).

        No write throttle: the test is the only user.
        """
        return GitHubTracker(self.config.github, throttle=False)

    @cached_property
    def graphql(self) -> GraphQL:
        return GraphQL(self.config.github)

    def close(self) -> None:
        for name in ("tracker", "graphql"):
            if name in self.__dict__:
                self.__dict__.pop(name).close()

    def set_playbook(self, playbook: dict[str, list[dict[str, Any]]]) -> None:
        self.playbook = playbook
        (self.root / "playbook.json").write_text(json.dumps(playbook))

    def unconfined(self) -> None:
        """Run the agents unconfined (`agents.isolation: none`), for a playbook whose agent leaves
        a pid or a file outside its worktree for the test to read (a confined agent cannot)."""
        data = yaml.safe_load(self.config_path.read_text())
        data["agents"]["isolation"] = "none"
        self.config_path.write_text(yaml.safe_dump(data, sort_keys=False))

    def configure(self, repos: list[dict[str, Any]], **extra: Any) -> None:
        """Rewrite the config with these repos (and other top-level sections)."""
        write_config(self.root, self.sandbox, repos, **extra)

    def add_board(self, repo: str, title: str) -> Project:
        """Set up a Projects board for the repo as `agentos init` does.

        Find or create, statuses, link.
        """
        admin = GitHubBoardAdmin(self.graphql, self.tracker)
        project = admin.find_or_create(repo.split("/")[0], title)
        admin.ensure_statuses(project)
        admin.link(project, repo)
        return project

    def board(self, repo: str) -> Board:
        """Return the repo's board as the config names it: its Projects board, else its labels."""
        entry = next(r for r in self.config.repos if r.github == repo)
        if entry.board is None:
            return LabelBoard(self.tracker, repo)
        return GitHubBoard(
            self.graphql, entry.board.owner, entry.board.number, tracker=self.tracker, repo=repo
        )

    def issue(
        self, repo: str, title: str, body: str = "", status: BoardStatus | None = BoardStatus.READY
    ) -> Issue:
        """Open an issue and give it `status`.

        On the repo's Projects board when it has one, else as a label.
        """
        entry = next(r for r in self.config.repos if r.github == repo)
        if entry.board is None:
            return self.tracker.create_issue(
                repo, title, body, labels=[status.label] if status else []
            )
        issue = self.tracker.create_issue(repo, title, body)
        board = self.board(repo)
        item = board.add(issue)
        if status is not None:
            board.set_status(item, status)
        return issue

    def status(self, ref: IssueRef) -> BoardStatus | None:
        """Return the issue's status on its repo's board (None: not on it, or no status)."""
        items: list[BoardItem] = self.board(ref.repo).items(detail=())
        return next((i.status for i in items if i.issue == ref), None)

    def issue_ref(self, number: int, repo: str = "acme/app") -> IssueRef:
        return IssueRef(repo, number)

    def github_writes(self) -> int:
        """Count the requests that changed something on the sandbox (git pushes included)."""
        return sum(1 for r in self.sandbox.requests if r.method not in ("GET", "HEAD"))

    def git_ls_remote(self, full_name: str) -> set[str]:
        out = self.git("ls-remote", "--heads", self.sandbox.clone_url(full_name), cwd=self.root)
        return {line.split("\t", 1)[1] for line in out.splitlines() if "\t" in line}

    def main_tests_pass(self, full_name: str) -> bool:
        """Clone the base branch as it is now and run the sample's tests on it."""
        where = self.root / "check" / full_name.replace("/", "_")
        self.git("clone", "-q", self.sandbox.clone_url(full_name), str(where), cwd=self.root)
        done = subprocess.run(TEST_COMMAND.split(), cwd=where, capture_output=True, text=True)
        return done.returncode == 0

    def run(self, job: str, *, dry_run: bool = False) -> int:
        return runner.run_job(job, str(self.config_path), JOBS, self.env, dry_run=dry_run)

    def events(self, job: str, name: str | None = None) -> list[dict[str, Any]]:
        path = self.root / "runtime" / "logs" / f"{job}.jsonl"
        found = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
        return [e for e in found if name is None or e["event"] == name]

    def mailbox(self, state: str) -> list[str]:
        folder = self.root / "runtime" / "mailbox" / state
        return sorted(p.stem for p in folder.glob("*.md")) if folder.exists() else []

    def git(self, *args: str, cwd: Path) -> str:
        env = git_environment(self.root / "git-home")
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
        ).stdout

    def seed(self, full_name: str, files: dict[str, str] = SAMPLE) -> None:
        """Create the repo in the sandbox and push a first commit with `files` to main."""
        self.sandbox.create_repo(full_name, auto_init=False)
        work = self.root / "seed" / full_name.replace("/", "_")
        work.mkdir(parents=True)
        self.git("init", "-q", "-b", "main", cwd=work)
        for path, text in files.items():
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "Initial commit", cwd=work)
        self.git("push", "-q", self.sandbox.clone_url(full_name), "HEAD:refs/heads/main", cwd=work)


BWRAP = confine.probe()  # None where bubblewrap can confine the agents here


def playbook_backend(playbook: Path, **settings: Any) -> dict[str, Any]:
    """Return a `command` backend running playbook_agent.py with this playbook file."""
    return {
        "type": "command",
        "timeout_minutes": 2,
        **settings,
        "argv": [sys.executable, str(AGENT), str(playbook), "{worktree}", "{prompt_file}"],
    }


def write_config(root: Path, sandbox: Sandbox, repos: list[dict[str, Any]], **extra: Any) -> Path:
    data: dict[str, Any] = {
        "repos": repos,
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": sandbox.api_url,
            "graphql_url": sandbox.graphql_url,
            "seconds_between_writes": 0,
        },
        "agents": {
            "backends": {"playbook": playbook_backend(root / "playbook.json")},
            "chains": {"default": ["playbook"]},
            # confined, as by default; unconfined where bwrap cannot start (the queue would refuse)
            "isolation": "bwrap" if BWRAP is None else "none",
        },
        "limits": {"max_parallel_workers": 4, "max_attempts": 3, "stall_minutes": 1},
        "paths": {
            "runtime_dir": str(root / "runtime"),
            "worktrees_dir": str(root / "runtime" / "worktrees"),
        },
    }
    data.update(extra)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def repo_entry(key: str, github: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "github": github,
        "base_branch": "main",
        "test_command": TEST_COMMAND,
        "max_parallel_tasks": 4,
        **extra,
    }


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with running_sandbox(tmp_path / "sandbox", login="acme") as sandbox:
        env = {
            "GITHUB_TOKEN": sandbox.token,
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path / "home"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LANG": "C.UTF-8",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        config_path = write_config(tmp_path, sandbox, [repo_entry("app", "acme/app")])
        w = World(sandbox, tmp_path, config_path, env)
        w.seed("acme/app")
        w.set_playbook({})
        try:
            yield w
        finally:
            w.close()

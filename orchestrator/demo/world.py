"""Set the demo's world up: the GitHub sandbox in the data dir, sample repo and CI, board, issues.

Everything GitHub-side goes through the real adapters (built by wiring from the demo's own
config.yaml), so the set-up is counted in the sandbox's request log like the loop that follows.
The data dir holds the sandbox's state (state.json, git/) at its top, so
`agentos sandbox serve --data DIR` serves what the demo left; beside it config.yaml, .env and
runtime/ (mailbox, war-room records, event log).
"""

from __future__ import annotations

import secrets
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestrator.adapters import git_clone
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.core.model import BoardStatus, Issue
from orchestrator.demo import sample
from orchestrator.demo.agents import AgentChoice
from orchestrator.demo.scripts import test_command
from orchestrator.deps import Deps
from orchestrator.errors import UsageError
from orchestrator.sandbox.github import Sandbox
from orchestrator.store import logs
from orchestrator.store.files import atomic_write
from orchestrator.wiring import real_deps

MARKER = ".agentos-demo"  # what tells a demo's data dir (which may be cleared) from any other
REPO_KEY = "stats"
GITHUB_TOKEN_VAR = "AGENTOS_DEMO_GITHUB_TOKEN"
AUTHOR = "Agent OS demo <demo@agentos.invalid>"


@dataclass
class World:
    """A running demo world."""

    data: Path
    github: Sandbox
    config_path: Path
    issues: dict[int, sample.DemoIssue]  # by issue number
    setup_requests: int = 0

    @property
    def runtime(self) -> Path:
        return self.data / "runtime"

    def number_of(self, key: str) -> int:
        """Return the issue number of a sample issue."""
        return next(n for n, issue in self.issues.items() if issue.key == key)

    def blockers_of(self, number: int) -> tuple[int, ...]:
        """Return the issue numbers an issue waits for."""
        return tuple(self.number_of(key) for key in self.issues[number].blockers)


def clear(data: Path) -> None:
    """Empty a previous demo's data dir; refuse a directory with anything else in it."""
    if data.exists() and any(data.iterdir()) and not (data / MARKER).exists():
        raise UsageError(
            f"--data {data} is not empty and is not a demo's directory; choose another"
        )
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    atomic_write(
        data / MARKER,
        "agentos demo data: `agentos demo` empties this directory when it runs again\n",
    )


def build(data: Path, github: Sandbox, agent: AgentChoice, isolation: str = "bwrap") -> World:
    """Seed the repo, set up the board and the issues, and write the config the jobs will read.

    `isolation` is the config's `agents.isolation` (none where bwrap cannot start here).
    """
    github.create_repo(sample.REPO, auto_init=False)
    github.set_ci(sample.REPO, test_command(sys.executable))
    env = {GITHUB_TOKEN_VAR: github.token, **agent.env}
    atomic_write(data / ".env", "".join(f"{name}={value}\n" for name, value in env.items()))
    config_path = data / "config.yaml"
    write_config(config_path, github, agent.backend, board=None, isolation=isolation)
    deps = _deps(config_path)
    seed(deps.config, deps.config.paths.runtime_dir / "seed")
    project = deps.board_admin.find_or_create(sample.OWNER, sample.BOARD_TITLE)
    deps.board_admin.link(project, sample.REPO)
    deps.board_admin.ensure_statuses(project)
    board = {"owner": sample.OWNER, "number": project.number}
    write_config(config_path, github, agent.backend, board=board, isolation=isolation)
    world = World(data, github, config_path, create_issues(_deps(config_path)))
    world.setup_requests = len(github.requests)
    return world


def _deps(config_path: Path) -> Deps:
    config = load_config(config_path)
    log = logs.setup(config.paths.logs_dir, "demo", "r-" + secrets.token_hex(4), stderr=False)
    return real_deps(config, log)


def write_config(
    path: Path,
    github: Sandbox,
    backend: Mapping[str, Any],
    board: dict[str, Any] | None,
    isolation: str = "bwrap",
) -> None:
    """Write the demo's config.yaml: one repo on the sandbox, the chosen agent, small limits."""
    repo: dict[str, Any] = {
        "key": REPO_KEY,
        "github": sample.REPO,
        "base_branch": "main",
        "test_command": test_command(sys.executable),
        "automation_mode": "full",
        "max_parallel_tasks": 2,
    }
    if board is not None:
        repo["board"] = board
    data = {
        "repos": [repo],
        "github": {
            "token": f"${GITHUB_TOKEN_VAR}",
            "api_url": github.api_url,
            "graphql_url": github.graphql_url,
            "commit_author": AUTHOR,
            "seconds_between_writes": 0,
        },  # a local sandbox: no write limit
        "agents": {
            "backends": {"demo": dict(backend)},
            "chains": {"default": ["demo"]},
            "isolation": isolation,
        },
        "limits": {
            "max_parallel_workers": 2,
            "max_attempts": 2,
            "max_fix_rounds": 2,
            "stall_minutes": 3,
            "test_timeout_minutes": 2,
            "agent_cooldown_minutes": 1,
        },
        "paths": {"runtime_dir": "runtime", "worktrees_dir": "runtime/worktrees"},
    }
    header = "# Written by `agentos demo`: the demo's world on the local GitHub sandbox.\n"
    atomic_write(path, header + yaml.safe_dump(data, sort_keys=False))


def seed(config: Config, work: Path) -> None:
    """Push the sample project's first commit to main, through git smart HTTP like any clone."""
    files = work / "stats-demo"
    for path, text in sample.FILES.items():
        (files / path).parent.mkdir(parents=True, exist_ok=True)
        (files / path).write_text(text, encoding="utf-8")
    url = git_clone.git_url(config.github.api_url, sample.REPO)
    clone = git_clone.SharedClone(
        "seed", files, url, git_clone.CommitAuthor.parse(AUTHOR), config.github.token
    )
    clone.git("init", "-q", "-b", "main")
    clone.git("add", "-A")
    clone.git("commit", "-q", "-m", "The sample project: a statistics package with one test")
    clone.git("push", "-q", url, "HEAD:refs/heads/main", network=True)
    shutil.rmtree(work, ignore_errors=True)


def create_issues(deps: Deps) -> dict[int, sample.DemoIssue]:
    """Open the sample issues in order, put them on the board as Ready, record dependencies."""
    repo = deps.config.repo(REPO_KEY)
    board = deps.board_for(repo)
    made: dict[str, Issue] = {}
    for demo in sample.ISSUES:
        numbers = {key: issue.ref.number for key, issue in made.items()}
        issue = deps.tracker.create_issue(sample.REPO, demo.title, sample.body(demo, numbers))
        board.set_status(board.add(issue), BoardStatus.READY)
        for key in demo.blocked_by:
            deps.tracker.add_blocker(issue.ref, made[key])
        made[demo.key] = issue
        deps.log.info(
            "demo.issue_created",
            extra={
                "issue": issue.ref.number,
                "title": demo.title,
                "blocked_by": [made[k].ref.number for k in demo.blockers],
            },
        )
    return {
        issue.ref.number: next(d for d in sample.ISSUES if d.key == key)
        for key, issue in made.items()
    }

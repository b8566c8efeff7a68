"""Fixtures for the GitHub sandbox tests: a strict sandbox, PyGithub clients and the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client
from tests.support.github_sandbox import git_environment, github_sandbox  # noqa: F401 (fixture)


@pytest.fixture
def sandbox(github_sandbox: Sandbox) -> Sandbox:  # noqa: F811
    return github_sandbox


@pytest.fixture
def gh(sandbox: Sandbox) -> Iterator[Github]:
    g = client(sandbox, sandbox.token)
    yield g
    g.close()


@pytest.fixture
def repo(gh: Github) -> Repository:
    return gh.get_user().create_repo("backlog", auto_init=True, description="A sandbox repo")


@pytest.fixture
def outsider(sandbox: Sandbox) -> Iterator[Github]:
    g = client(sandbox, sandbox.add_user("outsider"))
    yield g
    g.close()


@pytest.fixture
def git(tmp_path: Path) -> Git:
    """Run the real git CLI in an isolated environment; returns stdout."""
    env = git_environment(tmp_path / "home")

    def run(*args: str, cwd: Path | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout + done.stderr if not check else done.stdout

    return run


@pytest.fixture
def clone(sandbox: Sandbox, repo: Repository, git: Git, tmp_path: Path) -> Path:
    """A working clone of `repo` over smart HTTP."""
    path = tmp_path / "clone"
    git("clone", "-q", sandbox.clone_url(repo.full_name), str(path))
    return path

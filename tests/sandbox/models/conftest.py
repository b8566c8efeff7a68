"""Fixtures for the model sandbox tests.

The pinned CLIs (or a clear skip), a git worktree, recordings.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.clis import cli

RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "agent-cli"


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The pinned Claude Code binary; the test is skipped when it is not installed."""
    return cli("claude")


@pytest.fixture(scope="session")
def codex_bin() -> Path:
    """The pinned Codex binary; the test is skipped when it is not installed."""
    return cli("codex")


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A git repository with one commit, where a CLI runs as it would in a task's worktree."""
    return make_worktree(tmp_path)


def make_worktree(parent: Path) -> Path:
    """Create `parent/worktree`: a git repository with one commit."""
    path = parent / "worktree"
    path.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "GIT_AUTHOR_NAME": "Agent",
        "GIT_AUTHOR_EMAIL": "agent@example.com",
        "GIT_COMMITTER_NAME": "Agent",
        "GIT_COMMITTER_EMAIL": "agent@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(parent),
    }
    (path / "README.md").write_text("# demo\n", encoding="utf-8")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "README.md"],
        ["commit", "-q", "-m", "start"],
    ):
        subprocess.run(["git", *args], cwd=path, env=env, check=True)
    return path


def recorded(name: str) -> list[dict[str, Any]]:
    """Load a vendored recording: a JSON Lines file as a list of objects."""
    return [
        json.loads(line)
        for line in (RECORDINGS / name).read_text(encoding="utf-8").splitlines()
        if line
    ]

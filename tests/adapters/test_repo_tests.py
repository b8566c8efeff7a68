"""The repo's test command: agent-written code, run confined like the agent (repo_tests.py)."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.adapters.agents import confine
from orchestrator.adapters.agents.environment import EnvPolicy
from orchestrator.adapters.repo_tests import ShellTests
from orchestrator.config.load import load_config
from tests.adapters.agents.conftest import needs_bwrap
from tests.helpers import ENV, write_config


def setup(tmp_path: Path) -> tuple[ShellTests, ShellTests, Path, Path]:
    """Return the runner confined and not, a worktree, and the config file (with a secret)."""
    (tmp_path / "project").mkdir()
    config = load_config(write_config(tmp_path / "project"), ENV)
    config.source.write_text(config.source.read_text() + "# SECRET-IN-CONFIG\n")
    worktree = config.paths.worktrees_dir / "app" / "app-1-g1-a1"
    worktree.mkdir(parents=True)
    host = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home")}
    walls = confine.Walls.from_config(config, host)
    return (
        ShellTests(EnvPolicy(), host, walls=walls),
        ShellTests(EnvPolicy(), host),
        worktree,
        config.source,
    )


@needs_bwrap
def test_the_test_command_runs_confined_it_writes_its_worktree_and_cannot_read_the_config(
    tmp_path: Path,
) -> None:
    confined, plain, worktree, config = setup(tmp_path)
    command = f"echo ran > ran.txt && ! grep -q SECRET-IN-CONFIG {config}"
    assert confined.run(command, str(worktree), 30).passed
    assert (worktree / "ran.txt").read_text() == "ran\n"
    assert not plain.run(command, str(worktree), 30).passed  # unconfined, the config is read
    assert not list((config.parent / "runtime" / "homes").iterdir())


@needs_bwrap
def test_the_test_command_reads_what_it_is_told_it_may(tmp_path: Path) -> None:
    confined, _, worktree, config = setup(tmp_path)
    objects = config.parent / "runtime" / "clones" / "app.git" / "objects"
    objects.mkdir(parents=True)
    (objects / "pack").write_text("objects\n")
    command = f"cat {objects / 'pack'}"
    assert not confined.run(command, str(worktree), 30).passed
    assert confined.run(command, str(worktree), 30, readable=(str(objects),)).passed

"""The repo's test command: agent-written code, run confined like the agent (repo_tests.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from orchestrator.adapters.agents import confine
from orchestrator.adapters.agents.environment import EnvPolicy
from orchestrator.adapters.agents.programs import command_programs
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


@needs_bwrap
def test_a_program_installed_under_the_hidden_home_still_runs_with_its_lib(tmp_path: Path) -> None:
    """pyenv's python, node under nvm: installed in the real HOME, which the box hides."""
    confined, _, worktree, _ = setup(tmp_path)
    prefix = tmp_path / "home" / ".pyenv" / "versions" / "3.99"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "lib").mkdir()
    (prefix / "lib" / "stdlib.txt").write_text("the standard library\n")
    tool = prefix / "bin" / "tool"
    # as python finds its prefix: from where its executable really is
    tool.write_text(
        '#!/bin/sh\nhere="$(dirname "$(readlink -f "$0")")"\n'
        'grep -q "standard library" "$here/../lib/stdlib.txt"\n'
    )
    tool.chmod(0o755)
    (prefix / "bin" / "tool3").symlink_to("tool")  # python3 -> python3.11, inside the HOME
    # a venv in a folder the box shows as it is (not under /tmp, which it hides), its python a
    # link to a link in the HOME: the chain passes through the hidden HOME
    with tempfile.TemporaryDirectory(dir="/var/tmp") as shown:
        venv = Path(shown) / ".venv" / "bin"
        venv.mkdir(parents=True)
        (venv / "python3").symlink_to(prefix / "bin" / "tool3")
        (venv / "python").symlink_to("python3")
        assert confined.run(f"{venv / 'python'} -m unittest", str(worktree), 30).passed
    assert confined.run(f"true && X=1 {tool}", str(worktree), 30).passed
    secret = tmp_path / "home" / ".ssh" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_text("PRIVATE\n")
    assert not confined.run(
        f"{tool} && cat {secret}", str(worktree), 30
    ).passed  # HOME still hidden


def test_the_programs_of_a_command_line_are_the_first_word_of_each_command() -> None:
    assert command_programs("a -x && b | c; d || (e f)") == ["a", "b", "c", "d", "e"]
    assert command_programs("X=1 Y=2 /opt/py -m pytest") == ["/opt/py"]
    assert command_programs("$PY -m pytest; 'unbalanced") == []
    assert command_programs("$PY -m pytest; make test") == ["make"]


def test_a_failure_is_a_verdict_and_a_timeout_is_none(tmp_path: Path) -> None:
    _, plain, worktree, _ = setup(tmp_path)
    failed = plain.run("exit 1", str(worktree), 30)
    assert not failed.passed and failed.ran
    timed_out = plain.run("sleep 30", str(worktree), 0.5)
    assert not timed_out.passed and not timed_out.ran and "timed out" in timed_out.line
    assert plain.run("true", str(worktree), 30).ran

"""The Anthropic backend's tools: every path must stay inside the worktree, symlinks included."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from orchestrator.adapters.agents.tools import ToolRunner

ENV = {"PATH": os.environ["PATH"], "HOME": "/nonexistent"}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("host secret\n")
    return secret


@pytest.fixture
def workspace(worktree: Path) -> ToolRunner:
    return ToolRunner(worktree, ENV, time.monotonic() + 60)


def call(workspace: ToolRunner, name: str, **args: object) -> tuple[str, bool]:
    return workspace.call(name, args)


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        "{outside}",
        "~/x",
        "/etc/passwd",
        ".git/config",
        ".git",
        "",
        "a\x00b",
    ],
)
def test_paths_escaping_the_worktree_are_refused_for_every_file_tool(
    workspace: ToolRunner, outside: Path, path: str
) -> None:
    path = path.format(outside=outside)
    for name, args in (
        ("read_file", {}),
        ("write_file", {"content": "pwned"}),
        ("edit_file", {"old_string": "host", "new_string": "pwned"}),
    ):
        output, failed = call(workspace, name, path=path, **args)
        assert failed, (name, path, output)
    assert outside.read_text() == "host secret\n"


def test_a_symlink_pointing_out_of_the_worktree_is_refused(
    workspace: ToolRunner, worktree: Path, outside: Path
) -> None:
    (worktree / "link.txt").symlink_to(outside)
    (worktree / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    (worktree / "dangling").symlink_to(outside.parent / "not-yet.txt")
    for path in ("link.txt", "linkdir/secret.txt", "linkdir/new.txt", "dangling"):
        for name, args in (("read_file", {}), ("write_file", {"content": "pwned"})):
            output, failed = call(workspace, name, path=path, **args)
            assert failed and "outside the worktree" in output, (name, path)
    assert outside.read_text() == "host secret\n" and not (outside.parent / "not-yet.txt").exists()
    assert not (outside.parent / "new.txt").exists()


def test_a_symlink_inside_the_worktree_is_fine(workspace: ToolRunner, worktree: Path) -> None:
    (worktree / "alias.md").symlink_to(worktree / "README.md")
    output, failed = call(workspace, "read_file", path="alias.md")
    assert not failed and "# demo" in output


def test_files_are_written_read_and_edited_inside_the_worktree(
    workspace: ToolRunner, worktree: Path
) -> None:
    assert not call(workspace, "write_file", path="pkg/mod.py", content="a = 1\nb = 1\n")[1]
    assert (worktree / "pkg" / "mod.py").read_text() == "a = 1\nb = 1\n"
    output, failed = call(
        workspace, "read_file", path=str(worktree / "pkg" / "mod.py"), offset=2, limit=1
    )
    assert not failed and output == "     2\tb = 1"
    output, failed = call(
        workspace, "edit_file", path="pkg/mod.py", old_string="= 1", new_string="= 2"
    )
    assert failed and "occurs 2 times" in output
    assert not call(
        workspace,
        "edit_file",
        path="pkg/mod.py",
        old_string="= 1",
        new_string="= 2",
        replace_all=True,
    )[1]
    assert (worktree / "pkg" / "mod.py").read_text() == "a = 2\nb = 2\n"
    assert call(workspace, "edit_file", path="pkg/mod.py", old_string="zzz", new_string="y")[1]


def test_bash_runs_in_the_worktree_and_reports_failures(
    workspace: ToolRunner, worktree: Path
) -> None:
    output, failed = call(workspace, "bash", command="pwd; echo out; echo err >&2")
    assert not failed and output.splitlines() == [
        "exit code 0",
        str(worktree.resolve()),
        "out",
        "err",
    ]
    output, failed = call(workspace, "bash", command="exit 4")
    assert failed and output.startswith("exit code 4")


def test_bash_is_killed_at_its_timeout(workspace: ToolRunner) -> None:
    started = time.monotonic()
    output, failed = call(workspace, "bash", command="sleep 30", timeout_seconds=1)
    assert failed and "timeout" in output and time.monotonic() - started < 10


def test_unknown_tools_and_bad_arguments_go_back_to_the_model_as_errors(
    workspace: ToolRunner,
) -> None:
    assert call(workspace, "rm_rf", path="/")[1]
    assert call(workspace, "bash", command="")[1]
    assert call(workspace, "write_file", path="x", content=3)[1]


def test_a_bad_number_goes_back_to_the_model_as_an_error(
    workspace: ToolRunner, worktree: Path
) -> None:
    output, failed = call(workspace, "read_file", path="README.md", offset="first")
    assert failed and output.startswith("read_file failed: invalid literal")


def test_what_bash_leaves_running_dies_when_the_call_ends_setsid_too(
    workspace: ToolRunner, worktree: Path
) -> None:
    command = (
        "setsid sh -c 'echo $$ > pid; sleep 1.5; echo late > late.txt' >/dev/null 2>&1 & "
        "while [ ! -s pid ]; do sleep 0.05; done; echo started"  # it is in its own session now
    )
    output, failed = call(workspace, "bash", command=command)
    assert not failed and output.splitlines() == ["exit code 0", "started"]
    time.sleep(2.5)  # past the moment it would have written
    assert not (worktree / "late.txt").exists()

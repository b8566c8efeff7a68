"""Git the agent cannot steer: its repository is its own, and we take its files, never its git.

Each test plants what a hostile agent would (a hook, a config that runs a program, a filter, an
attribute file, an embedded repository) and shows it never runs in a git command of ours, or
never leaves as anything but a file the gate then sees.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.adapters.git import GitWorktrees
from tests.contract.gitworlds import LocalWorld, Remote, SandboxWorld, git
from tests.contract.test_worktrees import _isolated_git, agent_edits  # noqa: F401 (fixture)
from tests.support.github_sandbox import running_sandbox

BRANCH = "agent/7-add-farewell"


@pytest.fixture
def world(tmp_path: Path) -> LocalWorld:
    return LocalWorld(tmp_path)


@pytest.fixture
def remote(world: LocalWorld) -> Remote:
    return world.new_remote()


@pytest.fixture
def trees(world: LocalWorld, remote: Remote) -> GitWorktrees:
    return world.worktrees(remote)


def program(path: Path, marker: Path) -> Path:
    """Write an executable that leaves `marker` (with its environment) when anything runs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nenv > '{marker}'\ncat\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_the_task_has_a_repository_of_its_own_that_borrows_the_clones_objects(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    git_dir = Path(ws.path) / ".git"
    assert git_dir.is_dir() and not (git_dir / "hooks").exists()
    alternates = (git_dir / "objects" / "info" / "alternates").read_text().strip()
    assert alternates == ws.objects == str(trees.clones[remote.key].path / "objects")
    assert git("branch", "--show-current", cwd=Path(ws.path)).strip() == BRANCH
    assert git("rev-parse", "origin/main", cwd=Path(ws.path)).strip() == ws.base_sha
    assert git("status", "--porcelain", cwd=Path(ws.path)) == ""


def test_a_hook_planted_in_the_shared_clone_never_runs_during_our_push(
    trees: GitWorktrees, remote: Remote, tmp_path: Path
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    clone = trees.clones[remote.key].path
    marker = tmp_path / "hook-ran"
    for hook in ("pre-push", "reference-transaction", "post-update", "pre-commit"):
        program(clone / "hooks" / hook, marker)
    agent_edits(ws.path, {"a.txt": "a\n"})
    trees.commit(ws, "A")
    trees.push(ws)
    assert remote.sha(BRANCH) is not None and not marker.exists()


def test_config_and_hooks_in_the_agents_repository_never_run_when_we_take_its_files(
    trees: GitWorktrees, remote: Remote, tmp_path: Path
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    marker = tmp_path / "ran"
    evil = program(tmp_path / "evil.sh", marker)
    repo = Path(ws.path)
    for hook in ("pre-commit", "post-checkout", "pre-push", "reference-transaction"):
        program(repo / ".git" / "hooks" / hook, marker)
    git("config", "core.fsmonitor", str(evil), cwd=repo)
    git("config", "filter.evil.clean", str(evil), cwd=repo)
    git("config", "filter.evil.smudge", str(evil), cwd=repo)
    git("config", "filter.evil.required", "true", cwd=repo)
    git("config", "core.hooksPath", str(repo / ".git" / "hooks"), cwd=repo)
    agent_edits(ws.path, {".gitattributes": "* filter=evil\n", "a.txt": "plain text\n"})
    done = trees.commit(ws, "A")
    trees.push(ws)
    assert not marker.exists()
    assert set(done.files) == {".gitattributes", "a.txt"}
    assert remote.show(BRANCH, "a.txt") == "plain text\n"  # no filter touched the bytes


def test_the_system_and_global_git_config_cannot_run_a_program_for_us(
    trees: GitWorktrees, remote: Remote, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    evil = program(tmp_path / "evil.sh", marker)
    home = Path(os.environ["HOME"])
    (home / ".gitconfig").write_text(
        f"[core]\n\thooksPath = {tmp_path / 'hooks'}\n\tfsmonitor = {evil}\n"
        f'[filter "evil"]\n\tclean = {evil}\n\trequired = true\n'
    )
    program(tmp_path / "hooks" / "pre-push", marker)
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {".gitattributes": "* filter=evil\n", "a.txt": "a\n"})
    trees.commit(ws, "A")
    trees.push(ws)
    assert remote.sha(BRANCH) is not None and not marker.exists()


def test_an_embedded_repository_travels_as_a_gitlink_and_a_symlink_as_a_link(
    trees: GitWorktrees, remote: Remote, tmp_path: Path
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    inner = Path(ws.path) / "vendor" / "thing"
    inner.mkdir(parents=True)
    git("init", "-q", cwd=inner)
    (inner / "x").write_text("x\n")
    git("add", "x", cwd=inner)
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "x", cwd=inner)
    os.symlink("/etc/passwd", Path(ws.path) / "passwd")
    done = trees.commit(ws, "A")
    modes = {f.path: f.mode for f in trees.changes(ws, done.sha)}
    assert modes == {"vendor/thing": "160000", "passwd": "120000"}
    links = {f.path: f.data for f in trees.changes(ws, done.sha)}
    assert links["passwd"] == b"/etc/passwd"


def test_changes_list_each_file_with_its_bytes_and_whether_it_is_new(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {"README.md": "# changed\n", "new.bin": "\x00\x01binary"})
    (Path(ws.path) / "gone.txt").unlink(missing_ok=True)
    done = trees.commit(ws, "A")
    found = {f.path: f for f in trees.changes(ws, done.sha)}
    assert set(found) == {"README.md", "new.bin"}
    assert found["new.bin"].added and not found["README.md"].added
    assert found["new.bin"].data == b"\x00\x01binary" and found["new.bin"].size == 8
    readme = remote.show("main", "README.md").encode()
    assert found["README.md"].before == readme and found["new.bin"].before is None


def test_a_merge_started_for_a_conflict_is_concluded_by_our_commit_with_two_parents(
    trees: GitWorktrees, remote: Remote
) -> None:
    remote.commit(BRANCH, {"README.md": "# ours\n"}, "Ours")
    base = remote.commit("main", {"README.md": "# theirs\n"}, "Theirs")
    ws = trees.prepare(remote.key, "app-7-g2-a1", BRANCH, "main")
    assert trees.merge_base(ws) == ("README.md",)
    agent_edits(ws.path, {"README.md": "# both\n"})
    done = trees.commit(ws, "Merge the base")
    clone = trees.clones[remote.key].path
    parents = git("log", "-1", "--format=%P", done.sha, cwd=clone).split()
    assert parents == [ws.start_sha, base]
    assert done.files == ("README.md",)


def test_through_the_sandbox_the_token_reaches_no_hook(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "github") as sandbox:
        world = SandboxWorld(sandbox, tmp_path)
        remote = world.new_remote()
        trees = world.worktrees(remote)
        ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
        marker = tmp_path / "hook-env"
        program(trees.clones[remote.key].path / "hooks" / "pre-push", marker)
        agent_edits(ws.path, {"a.txt": "a\n"})
        trees.commit(ws, "A")
        trees.push(ws)
        assert remote.sha(BRANCH) is not None and not marker.exists()

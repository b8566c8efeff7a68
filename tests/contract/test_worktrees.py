"""One contract for Worktrees: GitWorktrees on a bare repo on disk, and through the sandbox.

The sandbox is reached over its git smart HTTP.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.adapters.git import GitWorktrees
from orchestrator.core.workspace import RESULT_FILE, RebaseStatus
from orchestrator.errors import PushRejected, WorktreeError
from orchestrator.sandbox.github import Sandbox
from tests.contract.gitworlds import BOT, GitWorld, LocalWorld, Remote, SandboxWorld, git
from tests.support.github_sandbox import running_sandbox

BRANCH = "agent/7-add-farewell"


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's git config and identity must not change what the adapter does."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Human\n\temail = human@example.com\n")
    for name in [n for n in os.environ if n.startswith("GIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(scope="module")
def git_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("github")) as sandbox:
        yield sandbox


@pytest.fixture(params=["local", "sandbox"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> GitWorld:
    if request.param == "local":
        return LocalWorld(tmp_path)
    return SandboxWorld(request.getfixturevalue("git_sandbox"), tmp_path)


@pytest.fixture
def remote(world: GitWorld) -> Remote:
    return world.new_remote()


@pytest.fixture
def trees(world: GitWorld, remote: Remote) -> GitWorktrees:
    return world.worktrees(remote)


def agent_edits(path: str, files: dict[str, str]) -> None:
    """Do what an agent does: write files (and its result contract) and commit nothing."""
    for name, text in files.items():
        (Path(path) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(path) / name).write_text(text)
    (Path(path) / RESULT_FILE).write_text("STATUS: complete\nBLOCKER_CODE: none\n")


# -- prepare ---------------------------------------------------------------------------------------
def test_a_new_task_gets_its_own_worktree_on_its_branch_from_the_base(
    trees: GitWorktrees, remote: Remote, world: GitWorld
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    assert Path(ws.path) == (world.root / "worktrees" / remote.key / "app-7-g1-a1").resolve()
    assert git("branch", "--show-current", cwd=Path(ws.path)).strip() == BRANCH
    assert ws.start_sha == ws.base_sha == remote.sha("main")
    assert ws.remote_sha is None and not ws.continued
    assert (Path(ws.path) / "greet.py").read_text().startswith("def greet")


def test_the_result_file_never_shows_as_a_change(trees: GitWorktrees, remote: Remote) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {})
    assert git("status", "--porcelain", cwd=Path(ws.path)) == ""


def test_a_missing_base_branch_is_named(trees: GitWorktrees, remote: Remote) -> None:
    with pytest.raises(WorktreeError, match="base branch 'trunk' not found on origin for repo"):
        trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "trunk")


@pytest.mark.parametrize("task_id", ["..", "a/b", "../../etc", ""])
def test_a_task_id_that_would_escape_the_worktrees_folder_is_refused(
    trees: GitWorktrees, remote: Remote, task_id: str
) -> None:
    with pytest.raises(WorktreeError, match="unsafe worktree name"):
        trees.prepare(remote.key, task_id, BRANCH, "main")


def test_an_unknown_repo_is_named(trees: GitWorktrees) -> None:
    with pytest.raises(WorktreeError, match="unknown repo 'nope'"):
        trees.prepare("nope", "app-7-g1-a1", BRANCH, "main")


# -- commit and push -------------------------------------------------------------------------------
def test_commit_takes_everything_but_the_result_file_and_push_publishes_it(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(
        ws.path,
        {
            "farewell.py": "def bye():\n    return 'bye'\n",
            "greet.py": "def greet():\n    return 'hi'\n",
        },
    )
    done = trees.commit(ws, "Add farewell (#7)")
    assert done.committed and done.has_changes and done.ahead
    assert done.files == ("farewell.py", "greet.py")
    clone = trees.clones[remote.key].path
    author = git("log", "-1", "--format=%an <%ae>|%cn <%ce>", done.sha, cwd=clone).strip()
    assert author == f"{BOT}|{BOT}"
    assert trees.push(ws) == done.sha == remote.sha(BRANCH)
    assert remote.show(BRANCH, "farewell.py").startswith("def bye")
    assert RESULT_FILE not in git("ls-tree", "-r", "--name-only", done.sha, cwd=Path(ws.path))


def test_nothing_changed_means_nothing_to_open_a_pull_request_for(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {})
    done = trees.commit(ws, "Nothing")
    assert not done.committed and not done.has_changes and done.sha == ws.base_sha


def test_the_agents_own_commits_stay_home_its_files_travel_in_ours(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {"a.txt": "a\n"})
    git("add", "-f", "a.txt", RESULT_FILE, cwd=Path(ws.path))
    git("commit", "-q", "-m", "agent's own commit", cwd=Path(ws.path))
    done = trees.commit(ws, "Tidy")
    assert done.committed and done.files == ("a.txt",)
    clone = trees.clones[remote.key].path
    assert git("log", "--format=%s", f"{ws.start_sha}..{done.sha}", cwd=clone).split() == ["Tidy"]
    assert trees.push(ws) == remote.sha(BRANCH) == done.sha


def test_a_retry_continues_the_remote_branch(trees: GitWorktrees, remote: Remote) -> None:
    first = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(first.path, {"step1.txt": "one\n"})
    pushed = trees.push(first) if trees.commit(first, "Step 1").committed else ""
    trees.remove(remote.key, first.task_id)
    second = trees.prepare(remote.key, "app-7-g1-a2", BRANCH, "main")
    assert second.continued and second.start_sha == second.remote_sha == pushed
    assert (Path(second.path) / "step1.txt").read_text() == "one\n"
    agent_edits(second.path, {"step2.txt": "two\n"})
    done = trees.commit(second, "Step 2")
    assert done.files == ("step1.txt", "step2.txt")
    assert trees.push(second) == remote.sha(BRANCH)


def test_a_push_after_someone_else_moved_the_branch_is_rejected(
    trees: GitWorktrees, remote: Remote
) -> None:
    remote.commit(BRANCH, {"human.txt": "mine\n"}, "A human's commit")
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    moved = remote.commit(BRANCH, {"human.txt": "mine, later\n"}, "The human again")
    agent_edits(ws.path, {"agent.txt": "agent\n"})
    trees.commit(ws, "Agent work")
    with pytest.raises(PushRejected, match=f"push of {BRANCH} rejected"):
        trees.push(ws)
    with pytest.raises(PushRejected, match="stale info"):
        trees.push(ws, force=True)  # the lease still expects the sha the worktree started from
    assert remote.sha(BRANCH) == moved


def test_a_fresh_start_replaces_the_remote_branch_only_with_a_lease(
    trees: GitWorktrees, remote: Remote
) -> None:
    old = remote.commit(BRANCH, {"old.txt": "old\n"}, "Old attempt")
    ws = trees.prepare(remote.key, "app-7-g2-a1", BRANCH, "main", fresh=True)
    assert ws.start_sha == ws.base_sha and ws.remote_sha == old and not ws.continued
    agent_edits(ws.path, {"new.txt": "new\n"})
    done = trees.commit(ws, "New attempt")
    assert done.files == ("new.txt",)
    with pytest.raises(PushRejected):
        trees.push(ws)
    assert trees.push(ws, force=True) == remote.sha(BRANCH) == done.sha


# -- leftovers of killed runs, parallel tasks ------------------------------------------------------
def test_a_leftover_worktree_of_a_killed_run_is_cleaned_not_a_crash(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    agent_edits(ws.path, {"half-written.txt": "…"})
    again = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    assert again.path == ws.path and not (Path(ws.path) / "half-written.txt").exists()


def test_a_stray_directory_where_the_worktree_goes_is_cleaned(
    trees: GitWorktrees, remote: Remote, world: GitWorld
) -> None:
    stray = world.root / "worktrees" / remote.key / "app-7-g1-a1"
    stray.mkdir(parents=True)
    (stray / "junk").write_text("junk")
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    assert not (Path(ws.path) / "junk").exists() and (Path(ws.path) / "README.md").exists()


def test_the_branch_held_by_a_dead_attempts_worktree_is_taken_over(
    trees: GitWorktrees, remote: Remote
) -> None:
    dead = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    ws = trees.prepare(remote.key, "app-7-g1-a2", BRANCH, "main")
    assert not Path(dead.path).exists()
    assert git("branch", "--show-current", cwd=Path(ws.path)).strip() == BRANCH


def test_a_ref_lock_left_by_a_killed_fetch_is_cleared_once_stale(
    trees: GitWorktrees, remote: Remote
) -> None:
    trees.prepare(remote.key, "app-1-g1-a1", "agent/1-one", "main")
    remote.commit("main", {"README.md": "# moved\n"}, "Move main")
    lock = trees.clones[remote.key].path / "refs" / "remotes" / "origin" / "main.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - 3600, time.time() - 3600))
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    assert ws.base_sha == remote.sha("main") and not lock.exists()


def test_a_fresh_ref_lock_is_left_alone_and_the_error_names_it(
    trees: GitWorktrees, remote: Remote
) -> None:
    trees.prepare(remote.key, "app-1-g1-a1", "agent/1-one", "main")
    remote.commit("main", {"README.md": "# moved\n"}, "Move main")
    lock = trees.clones[remote.key].path / "refs" / "remotes" / "origin" / "main.lock"
    lock.write_text("")
    with pytest.raises(WorktreeError, match="main.lock"):
        trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    assert lock.exists()


def test_several_tasks_of_one_repo_run_at_once_from_one_clone(
    trees: GitWorktrees, remote: Remote
) -> None:
    trees.prepare(remote.key, "app-1-g1-a1", "agent/1-one", "main")  # makes the clone
    clone = trees.clones[remote.key].path
    inode = clone.stat().st_ino
    results, errors = {}, []

    def task(n: int) -> None:
        try:
            ws = trees.prepare(remote.key, f"app-{n}-g1-a1", f"agent/{n}-task", "main")
            agent_edits(ws.path, {f"file{n}.txt": f"{n}\n"})
            trees.commit(ws, f"Task {n}")
            results[n] = trees.push(ws)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=task, args=(n,)) for n in range(2, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {n: remote.sha(f"agent/{n}-task") for n in results} == results
    assert clone.stat().st_ino == inode  # fetched, never re-cloned


def test_remove_keeps_the_branch_and_is_idempotent(trees: GitWorktrees, remote: Remote) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    trees.remove(remote.key, ws.task_id)
    trees.remove(remote.key, ws.task_id)
    assert not Path(ws.path).exists()
    clone = trees.clones[remote.key].path
    assert git("branch", "--list", BRANCH, cwd=clone).strip() == BRANCH
    assert ws.path not in git("worktree", "list", cwd=clone)


def test_a_local_clone_seeds_the_shared_clone_and_origin_stays_the_remote(
    world: GitWorld, remote: Remote
) -> None:
    trees = world.worktrees(remote, seed=remote.human)
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    clone = trees.clones[remote.key].path
    assert git("config", "remote.origin.url", cwd=clone).strip() == remote.url
    assert git("for-each-ref", "refs/seed/", cwd=clone) == ""
    assert ws.base_sha == remote.sha("main")


# -- the acceptance proof's scratch checkout -------------------------------------------------------
def test_a_scratch_checkout_is_the_base_with_the_heads_test_files(
    trees: GitWorktrees, remote: Remote, world: GitWorld
) -> None:
    remote.commit("main", {"tests/test_greet.py": "old\n", "tests/test_gone.py": "x\n"}, "Tests")
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    odd = "tests/test b $(touch pwned).py"
    agent_edits(ws.path, {"greet.py": "new\n", "tests/test_greet.py": "new\n", odd: "odd\n"})
    os.remove(Path(ws.path) / "tests" / "test_gone.py")
    done = trees.commit(ws, "Change greet (#7)")
    tests = ["tests/test_greet.py", odd, "tests/test_gone.py", "tests/never_there.py"]
    path = Path(trees.scratch(ws, ws.base_sha, done.sha, tests))
    assert path == (world.root / "worktrees" / remote.key / "app-7-g1-a1.proof").resolve()
    assert (path / "greet.py").read_text().startswith("def greet")  # the base's code
    assert (path / "tests" / "test_greet.py").read_text() == "new\n"  # the head's tests
    assert (path / odd).read_text() == "odd\n" and not (path / "pwned").exists()
    assert not (path / "tests" / "test_gone.py").exists()
    assert git("rev-parse", "HEAD", cwd=path).strip() == ws.base_sha
    assert git("branch", "--show-current", cwd=path).strip() == ""  # detached: holds no branch
    assert (Path(ws.path) / "greet.py").read_text() == "new\n"  # the task's worktree untouched
    trees.remove_scratch(ws)
    trees.remove_scratch(ws)
    assert not path.exists() and Path(ws.path).exists()


def test_a_scratch_left_by_a_killed_proof_is_removed_by_the_next_prepare_and_by_remove(
    trees: GitWorktrees, remote: Remote
) -> None:
    ws = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")
    path = Path(trees.scratch(ws, ws.base_sha, ws.base_sha, ()))
    (path / "leftover.txt").write_text("a test run's output\n")
    again = trees.prepare(remote.key, "app-7-g1-a1", BRANCH, "main")  # the task run again
    assert not path.exists()
    assert Path(trees.scratch(again, again.base_sha, again.base_sha, ())) == path
    assert trees.scratch(again, again.base_sha, again.base_sha, ()) == str(path)  # replaced
    trees.remove(remote.key, again.task_id)  # the attempt's end
    assert not path.exists()


# -- rebase ----------------------------------------------------------------------------------------
def test_a_branch_behind_its_base_is_rebased_and_pushed_with_a_lease(
    trees: GitWorktrees, remote: Remote
) -> None:
    remote.commit(BRANCH, {"farewell.py": "bye\n"}, "Add farewell")
    base = remote.commit("main", {"README.md": "# moved on\n"}, "Base moves on")
    outcome = trees.rebase(remote.key, BRANCH, "main")
    assert outcome.status is RebaseStatus.REBASED and outcome.base_sha == base
    assert outcome.head_sha == remote.sha(BRANCH)
    assert remote.log(BRANCH)[:3] == ["Add farewell", "Base moves on", "Initial commit"]
    # the scratch worktree is gone
    assert not list((Path(trees.worktrees_dir) / remote.key).iterdir())


def test_a_branch_already_on_its_base_is_left_alone(trees: GitWorktrees, remote: Remote) -> None:
    head = remote.commit(BRANCH, {"farewell.py": "bye\n"}, "Add farewell")
    outcome = trees.rebase(remote.key, BRANCH, "main")
    assert (outcome.status, outcome.head_sha) == (RebaseStatus.UP_TO_DATE, head) and remote.sha(
        BRANCH
    ) == head


def test_a_real_conflict_is_aborted_and_described_never_merged_blindly(
    trees: GitWorktrees, remote: Remote
) -> None:
    head = remote.commit(BRANCH, {"greet.py": "def greet():\n    return 'hi'\n"}, "Say hi")
    remote.commit(
        "main", {"greet.py": "def greet():\n    return 'hello, world'\n"}, "Say hello world"
    )
    outcome = trees.rebase(remote.key, BRANCH, "main")
    assert outcome.status is RebaseStatus.CONFLICT and remote.sha(BRANCH) == head
    assert outcome.stopped_at.endswith("Say hi")
    [conflict] = outcome.conflicts
    assert (conflict.path, conflict.kind) == ("greet.py", "content")
    [hunk] = conflict.hunks
    assert hunk.ours == "    return 'hi'\n"
    assert hunk.theirs == "    return 'hello, world'\n"
    assert hunk.ancestor == "    return 'hello'\n"
    clone = trees.clones[remote.key].path
    # the scratch is gone, nothing half-done
    assert len(git("worktree", "list", cwd=clone).splitlines()) == 1


def test_a_file_deleted_on_one_side_and_changed_on_the_other_is_a_conflict(
    trees: GitWorktrees, remote: Remote
) -> None:
    remote.commit(BRANCH, {"greet.py": None}, "Drop greet")
    remote.commit("main", {"greet.py": "def greet():\n    return 'changed'\n"}, "Change greet")
    outcome = trees.rebase(remote.key, BRANCH, "main")
    [conflict] = outcome.conflicts
    assert (conflict.kind, conflict.hunks[0].ours) == ("deleted_by_us", "")
    assert "changed" in conflict.hunks[0].theirs


def test_rebasing_a_branch_that_does_not_exist_is_named(
    trees: GitWorktrees, remote: Remote
) -> None:
    with pytest.raises(WorktreeError, match="branch 'agent/404-gone' not found on origin"):
        trees.rebase(remote.key, "agent/404-gone", "main")


def test_history_reads_the_base_branch_since_a_time_with_whole_messages(
    trees: GitWorktrees, remote: Remote
) -> None:
    first = remote.commit("main", {"a.py": "a\n"}, "Add a")
    body = f'Revert "Add a"\n\nThis reverts commit {first}.\n'
    second = remote.commit("main", {"a.py": None}, body)
    remote.commit(BRANCH, {"b.py": "b\n"}, "Not on the base")
    commits = trees.history(remote.key, "main", datetime.now(UTC) - timedelta(hours=1))
    assert [c.sha for c in commits][:2] == [second, first]
    assert commits[0].message.strip() == body.strip()
    assert commits[0].committed_at.tzinfo is not None
    assert trees.history(remote.key, "main", datetime.now(UTC) + timedelta(hours=1)) == ()


def test_history_of_a_missing_base_branch_is_named(trees: GitWorktrees, remote: Remote) -> None:
    with pytest.raises(WorktreeError, match="'trunk' not found"):
        trees.history(remote.key, "trunk", datetime.now(UTC) - timedelta(days=1))


def test_a_message_carrying_the_record_separators_is_skipped_not_a_crash(
    trees: GitWorktrees, remote: Remote
) -> None:
    remote.commit("main", {"c.py": "c\n"}, "Evil\x1ezz\x1fnot-a-date\x1fThis reverts commit abc")
    good = remote.commit("main", {"d.py": "d\n"}, "Fine")
    commits = trees.history(remote.key, "main", datetime.now(UTC) - timedelta(hours=1))
    assert commits[0].sha == good and all(len(c.sha) == 40 for c in commits)

"""The Tracker contract of reading one file of a repository at a ref (`file_text`), which the
scheduled plan import reads a repo's plan file with.

One suite for the memory twin, GitHubTracker on the sandbox (whose contents API is checked
against GitHub's REST description), and on GitHub when configured.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
from github import UnknownObjectException

from orchestrator.adapters.memory_files import blob_sha
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.ports import Tracker
from tests.contract.worlds import LiveWorld, MemoryWorld, SandboxWorld, World
from tests.support.github_sandbox import git_environment

PLAN = "# Roadmap\n\n## Sign-in {#auth}\n- [ ] Login form {#auth-login} → done ✓\n"


def put_file(world: World, repo: str, path: str, text: str) -> None:
    """Commit `text` at `path` on main, as a person pushing it does."""
    if isinstance(world, MemoryWorld):
        world.memory.put_file(repo, path, text)
    elif isinstance(world, SandboxWorld):
        clone = world.workdir / f"files-{repo.replace('/', '-')}"
        env = git_environment(world.workdir / "home")

        def git(*args: str) -> None:
            subprocess.run(["git", *args], cwd=clone, env=env, check=True, capture_output=True)

        if not clone.exists():
            subprocess.run(
                ["git", "clone", "-q", world.sandbox.clone_url(repo), str(clone)],
                env=env,
                check=True,
                capture_output=True,
            )
        git("pull", "-q", "origin", "main")
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(text, encoding="utf-8")
        git("add", "-A")
        git("commit", "-q", "-m", f"Put {path}")
        git("push", "-q", "origin", "HEAD:refs/heads/main")
    else:
        assert isinstance(world, LiveWorld)
        remote = world.owner.get_repo(repo)
        try:
            current = remote.get_contents(path)
        except UnknownObjectException:
            remote.create_file(path, f"Put {path}", text)
        else:
            assert not isinstance(current, list)
            remote.update_file(path, f"Put {path}", text, current.sha)


def _folder() -> str:
    return f"plans-{uuid.uuid4().hex[:8]}"  # GitHub's throwaway repos are reused: a fresh place


def test_a_file_reads_as_its_text_and_its_blob_sha(world: World, tracker: Tracker) -> None:
    repo, path = world.new_repo(), f"{_folder()}/PLAN.md"
    put_file(world, repo, path, PLAN)
    found = tracker.file_text(repo, path, "main")
    assert found is not None
    assert (found.text, found.sha) == (PLAN, blob_sha(PLAN))  # git's own sha: one per text
    edited = PLAN + "- [ ] Log out {#auth-logout}\n"
    put_file(world, repo, path, edited)
    again = tracker.file_text(repo, path, "main")
    assert again is not None and (again.text, again.sha) == (edited, blob_sha(edited))


def test_a_file_that_is_not_there_is_none(world: World, tracker: Tracker) -> None:
    repo, folder = world.new_repo(), _folder()
    put_file(world, repo, f"{folder}/PLAN.md", PLAN)
    assert tracker.file_text(repo, f"{folder}/NOTES.md", "main") is None
    assert tracker.file_text(repo, f"{folder}/PLAN.md", "no-such-branch") is None


def test_a_directory_is_an_error_not_a_file(world: World, tracker: Tracker) -> None:
    repo, folder = world.new_repo(), _folder()
    put_file(world, repo, f"{folder}/PLAN.md", PLAN)
    with pytest.raises(TrackerError, match=f"{folder} at main is a directory, not a file"):
        tracker.file_text(repo, folder, "main")


def test_a_file_over_a_megabyte_is_an_error_and_no_refused_token(
    world: World, tracker: Tracker
) -> None:
    repo, path = world.new_repo(), f"{_folder()}/PLAN.md"
    put_file(world, repo, path, "x" * (1024 * 1024 + 1))
    with pytest.raises(TrackerError, match="is over 1 MB") as caught:
        tracker.file_text(repo, path, "main")
    assert not isinstance(caught.value, Unauthorized)  # GitHub's 403 here says no such thing

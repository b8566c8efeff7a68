"""A protected branch refuses the pushes GitHub refuses, before any ref moves, in GitHub's words
(`remote: error: GH006: Protected branch update failed for refs/heads/main.` and a reason), with
the real git client; a plain protected branch takes a fast-forward. The REST refs endpoints refuse
the same updates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from github import GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client, commit
from tests.support.github_sandbox import protect

GH006 = "remote: error: GH006: Protected branch update failed for refs/heads/main."
DECLINED = "! [remote rejected] main -> main (protected branch hook declined)"


def tip(repo: Repository, branch: str = "main") -> str:
    return repo.get_branch(branch).commit.sha


def refused(git: Git, clone: Path, *refspec: str) -> str:
    """Push and return git's output, asserting main's protection refused it."""
    out = git("push", "origin", *refspec, cwd=clone, check=False)
    assert GH006 in out, out
    return out


def ahead(git: Git, clone: Path, name: str = "next.txt") -> str:
    git("checkout", "-q", "main", cwd=clone)
    return commit(git, clone, name, f"{name}\n", f"Add {name}")


def test_a_plain_protected_branch_takes_a_fast_forward(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name)
    sha = ahead(git, clone)
    git("push", "-q", "origin", "main", cwd=clone)
    assert tip(repo) == sha


def test_required_reviews_refuse_every_direct_push(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, reviews=1)
    before = tip(repo)
    ahead(git, clone)
    out = refused(git, clone, "main")
    assert "remote: error: Changes must be made through a pull request." in out
    assert DECLINED in out and tip(repo) == before


def test_an_admin_pushes_past_rules_not_enforced_on_admins_but_a_writer_does_not(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, tmp_path: Path
) -> None:
    protect(sandbox, repo.full_name, reviews=1, enforce_admins=False)
    carol = sandbox.add_user("carol")
    repo.add_to_collaborators("carol", "push")
    ahead(git, clone)
    git("remote", "add", "carol", sandbox.clone_url(repo.full_name, carol), cwd=clone)
    out = git("push", "carol", "main", cwd=clone, check=False)
    assert "Changes must be made through a pull request." in out
    git("push", "-q", "origin", "main", cwd=clone)  # the owner, an admin
    assert tip(repo) == git("rev-parse", "HEAD", cwd=clone).strip()


def test_a_required_check_missing_on_the_pushed_commit_refuses_it(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, checks=["ci", "lint"])
    before, sha = tip(repo), ahead(git, clone)
    assert "2 of 2 required status checks are expected." in refused(git, clone, "main")
    git("push", "-q", "origin", "HEAD:refs/heads/candidate", cwd=clone)
    repo.get_commit(sha).create_status("success", context="lint")
    repo.get_commit(sha).create_status("failure", context="ci")
    assert 'Required status check "ci" is failing.' in refused(git, clone, "main")
    repo.get_commit(sha).create_status("success", context="ci")
    assert tip(repo) == before
    git("push", "-q", "origin", "main", cwd=clone)
    assert tip(repo) == sha


def test_linear_history_refuses_a_merge_commit_and_takes_a_linear_push(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, linear=True)
    before = tip(repo)
    git("checkout", "-q", "-b", "side", "origin/main", cwd=clone)
    commit(git, clone, "side.txt", "side\n", "Side")
    ahead(git, clone)
    git("merge", "-q", "--no-ff", "-m", "Merge side", "side", cwd=clone)
    out = refused(git, clone, "main")
    assert "remote: error: This branch must not contain merge commits." in out
    assert tip(repo) == before
    git("reset", "-q", "--hard", "HEAD^1", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    assert tip(repo) == git("rev-parse", "HEAD", cwd=clone).strip()


def test_a_force_push_is_refused_unless_allowed(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name)
    before = tip(repo)
    git("checkout", "-q", "main", cwd=clone)
    git("commit", "-q", "--amend", "-m", "Rewritten", cwd=clone)
    out = refused(git, clone, "+main")
    assert "remote: error: Cannot force-push to this protected branch" in out
    assert tip(repo) == before
    protect(sandbox, repo.full_name, force_pushes=True)
    git("push", "-q", "--force", "origin", "main", cwd=clone)
    assert tip(repo) == git("rev-parse", "HEAD", cwd=clone).strip()


def test_a_protected_branch_is_not_deleted_unless_allowed(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    git("push", "-q", "origin", "origin/main:refs/heads/release", cwd=clone)
    protect(sandbox, repo.full_name, "release")
    out = git("push", "origin", ":release", cwd=clone, check=False)
    assert "remote: error: Cannot delete this protected branch" in out
    assert tip(repo, "release")


def test_one_refused_ref_fails_the_whole_push(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, reviews=1)
    ahead(git, clone)
    out = refused(git, clone, "main", "main:refs/heads/copy")
    assert "[remote rejected] main -> copy" in out
    assert [b.name for b in repo.get_branches()] == ["main"]


def test_the_rest_refs_endpoints_refuse_the_same_updates(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, reviews=1)
    sha = ahead(git, clone)
    git("push", "-q", "origin", "HEAD:refs/heads/candidate", cwd=clone)
    ref = client(sandbox, sandbox.token).get_repo(repo.full_name).get_git_ref("heads/main")
    with pytest.raises(GithubException) as raised:
        ref.edit(sha)
    assert (raised.value.status, raised.value.data["message"]) == (
        422,
        "Changes must be made through a pull request.",
    )
    assert tip(repo) != sha

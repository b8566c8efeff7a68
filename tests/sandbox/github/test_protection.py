"""Branch protection on the strict sandbox, set with the body GitHub's description gives (PyGithub's
`edit_protection` sends nulls the description refuses): a required review holds a pull request
`blocked` and refuses its merge until a writer approves; required status checks and `strict`
likewise."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import Github, GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client, commit, push_branch
from tests.support.github_sandbox import protect


def refusal(action) -> tuple[int, str]:
    with pytest.raises(GithubException) as raised:
        action()
    return raised.value.status, raised.value.data["message"]


def writer(sandbox: Sandbox, repo: Repository, login: str) -> Github:
    token = sandbox.add_user(login)
    repo.add_to_collaborators(login, "push")
    return client(sandbox, token)


def test_a_required_review_blocks_until_a_writer_approves(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protection = protect(sandbox, repo.full_name, reviews=1)
    assert protection["required_pull_request_reviews"]["required_approving_review_count"] == 1
    assert repo.get_branch("main").protected
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    assert repo.get_pull(pr.number).mergeable_state == "blocked"
    assert refusal(pr.merge) == (
        405,
        "At least 1 approving review is required by reviewers with write access.",
    )
    stranger = client(sandbox, sandbox.add_user("stranger"))  # cannot write: does not count
    stranger.get_repo(repo.full_name).get_pull(pr.number).create_review(event="APPROVE")
    assert repo.get_pull(pr.number).mergeable_state == "blocked"
    carol = writer(sandbox, repo, "carol")
    carol.get_repo(repo.full_name).get_pull(pr.number).create_review(event="APPROVE")
    assert repo.get_pull(pr.number).mergeable_state == "clean"
    assert pr.merge().merged
    for g in (stranger, carol):
        g.close()


def test_an_admin_merges_past_the_rules_unless_they_are_enforced_on_admins(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, reviews=1, enforce_admins=False)
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    assert repo.get_pull(pr.number).mergeable_state == "blocked"  # for everyone
    assert pr.merge().merged  # the owner is an admin


def test_required_checks_and_strict(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    protect(sandbox, repo.full_name, checks=["ci"], strict=True)
    head = push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    assert refusal(pr.merge) == (405, 'Required status check "ci" is expected.')
    repo.get_commit(head).create_status("failure", context="ci")
    assert refusal(pr.merge) == (405, 'Required status check "ci" is failing.')
    repo.get_commit(head).create_status("success", context="ci")
    assert repo.get_pull(pr.number).mergeable_state == "clean"
    git("checkout", "-q", "main", cwd=clone)
    moved = commit(git, clone, "OTHER.md", "moved on\n", "Base moves")
    git("push", "-q", "origin", "HEAD:refs/heads/staging", cwd=clone)  # its checks run first
    repo.get_commit(moved).create_status("success", context="ci")
    git("push", "-q", "origin", "main", cwd=clone)  # a protected branch takes a green commit
    assert repo.get_pull(pr.number).mergeable_state == "behind"
    assert refusal(pr.merge) == (405, "Head branch is not up to date with the base branch")


def test_protection_is_read_back_and_lifted(sandbox: Sandbox, repo: Repository) -> None:
    branch = repo.get_branch("main")
    with pytest.raises(GithubException) as raised:
        branch.get_protection()
    assert (raised.value.status, raised.value.data["message"]) == (404, "Branch not protected")
    protect(sandbox, repo.full_name, reviews=2, checks=["ci"])
    read = branch.get_protection()
    assert read.required_pull_request_reviews.required_approving_review_count == 2
    assert read.required_status_checks.contexts == ["ci"] and read.enforce_admins
    branch.remove_protection()
    assert not repo.get_branch("main").protected


def test_only_an_admin_protects_a_branch(sandbox: Sandbox, repo: Repository) -> None:
    carol = writer(sandbox, repo, "carol")
    branch = carol.get_repo(repo.full_name).get_branch("main")
    assert refusal(branch.remove_protection) == (403, "Must have admin access to repository.")
    carol.close()

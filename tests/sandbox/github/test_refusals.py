"""The sandbox refuses what GitHub refuses, in GitHub's words (status, message, errors)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from github import GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, commit, push_branch


def refusal(action) -> tuple[int, str, object]:
    with pytest.raises(GithubException) as raised:
        action()
    return raised.value.status, raised.value.data["message"], raised.value.data.get("errors")


@pytest.mark.parametrize(
    "event, words",
    [
        ("APPROVE", "Review Can not approve your own pull request"),
        ("REQUEST_CHANGES", "Review Can not request changes on your own pull request"),
    ],
)
def test_the_author_may_not_approve_or_request_changes_on_their_own_pull_request(
    repo: Repository, clone: Path, git: Git, event: str, words: str
) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    assert refusal(lambda: pr.create_review(body="mine", event=event)) == (
        422,
        "Unprocessable Entity",
        [words],
    )
    assert pr.create_review(body="a note", event="COMMENT").state == "COMMENTED"


def test_a_draft_is_not_merged(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="", draft=True)
    assert refusal(pr.merge) == (405, "Pull Request is still a draft", None)


def test_a_closed_pull_request_is_not_merged(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    pr.edit(state="closed")
    assert refusal(pr.merge) == (405, "Pull Request is not mergeable", None)


def test_a_merge_at_a_stale_head_is_refused(repo: Repository, clone: Path, git: Git) -> None:
    old = push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    commit(git, clone, "more.txt", "more\n", "More")
    git("push", "-q", "origin", "HEAD:refs/heads/topic", cwd=clone)
    assert refusal(lambda: pr.merge(sha=old)) == (
        409,
        "Head branch was modified. Review and try the merge again.",
        None,
    )


REOPEN = [
    {
        "resource": "PullRequest",
        "code": "custom",
        "field": "state",
        "message": "state cannot be changed. The pull request cannot be reopened.",
    }
]


def test_a_merged_pull_request_is_not_reopened(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    pr.merge()
    assert refusal(lambda: pr.edit(state="open")) == (422, "Validation Failed", REOPEN)
    assert repo.get_pull(pr.number).state == "closed"


def test_a_pull_request_whose_head_branch_is_gone_is_not_reopened(
    repo: Repository, clone: Path, git: Git
) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    pr.edit(state="closed")
    repo.get_git_ref("heads/topic").delete()
    assert refusal(lambda: pr.edit(state="open")) == (422, "Validation Failed", REOPEN)


def test_a_closed_pull_request_with_its_branch_is_reopened(
    repo: Repository, clone: Path, git: Git
) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    pr.edit(state="closed")
    pr.edit(state="open")
    assert repo.get_pull(pr.number).state == "open"


def test_the_default_branch_is_not_deleted(repo: Repository) -> None:
    assert refusal(repo.get_git_ref("heads/main").delete) == (
        422,
        "Cannot delete the default branch",
        None,
    )
    assert repo.get_branch("main").name == "main"


def test_a_pull_request_needs_commits_and_only_one_is_open_per_branch(
    repo: Repository, clone: Path, git: Git
) -> None:
    git("push", "-q", "origin", "HEAD:refs/heads/same", cwd=clone)
    assert refusal(lambda: repo.create_pull(base="main", head="same", title="t", body="")) == (
        422,
        "Validation Failed",
        [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": "No commits between main and same",
            }
        ],
    )
    push_branch(git, clone, "topic")
    repo.create_pull(base="main", head="topic", title="t", body="")
    assert refusal(lambda: repo.create_pull(base="main", head="topic", title="t", body="")) == (
        422,
        "Validation Failed",
        [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": "A pull request already exists for agentos:topic.",
            }
        ],
    )


def test_closing_a_closed_issue_is_fine(sandbox: Sandbox, repo: Repository) -> None:
    issue = repo.create_issue("done")
    issue.edit(state="closed")
    again = httpx.patch(
        f"{sandbox.api_url}/repos/{repo.full_name}/issues/{issue.number}",
        headers={"Authorization": f"token {sandbox.token}"},
        json={"state": "closed"},
    )
    assert (again.status_code, again.json()["state"]) == (200, "closed")


def test_label_names_and_descriptions_have_githubs_limits(repo: Repository) -> None:
    def too_long(field: str, limit: int) -> tuple[int, str, object]:
        message = f"{field} is too long (maximum is {limit} characters)"
        error = {"resource": "Label", "field": field, "code": "custom", "message": message}
        return 422, "Validation Failed", [error]

    assert refusal(lambda: repo.create_label("n" * 51, "ededed")) == too_long("name", 50)
    assert refusal(lambda: repo.create_label("ok", "ededed", "d" * 101)) == too_long(
        "description", 100
    )
    label = repo.create_label("n" * 50, "ededed", "d" * 100)
    assert refusal(lambda: label.edit("n" * 51, "ededed")) == too_long("name", 50)
    assert repo.get_label("n" * 50).color == "ededed"

"""The sandbox answers with the same keys real GitHub sent for the same operations.

Real GitHub's answers come from recorded traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.recordings import octokit, replay
from tests.sandbox.github.helpers import Git, client, missing_keys, push_branch


@pytest.fixture
def get(sandbox: Sandbox) -> Callable[[str], Any]:
    def fetch(path: str) -> Any:
        response = httpx.get(
            f"{sandbox.api_url}{path}", headers={"Authorization": f"token {sandbox.token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    return fetch


def test_repository_and_issue(
    sandbox: Sandbox, repo: Repository, get: Callable[[str], Any]
) -> None:
    repo.create_issue("an issue", labels=["bug"])
    sandbox.add_org("PyGithub", {"agentos": "admin"})
    sandbox.create_repo("PyGithub/PyGithub")
    assert (
        missing_keys(
            replay("Issue.setUp.txt", "GET", r"/repos/PyGithub/PyGithub"),
            get("/repos/PyGithub/PyGithub"),
        )
        == []
    )
    assert (
        missing_keys(
            replay("Issue.setUp.txt", "GET", r".*/issues/28"),
            get("/repos/agentos/backlog/issues/1"),
        )
        == []
    )


def test_comment_and_label(repo: Repository, get: Callable[[str], Any]) -> None:
    comment = repo.create_issue("an issue").create_comment("hi")
    assert (
        missing_keys(
            replay("IssueComment.setUp.txt", "GET", r".*/issues/comments/\d+"),
            get(f"/repos/agentos/backlog/issues/comments/{comment.id}"),
        )
        == []
    )
    assert (
        missing_keys(
            replay("Label.setUp.txt", "GET", r".*/labels/Bug"),
            get("/repos/agentos/backlog/labels/bug"),
        )
        == []
    )
    assert (
        missing_keys(octokit("labels", "get", r".*/labels"), get("/repos/agentos/backlog/labels"))
        == []
    )


def test_sub_issues(repo: Repository, get: Callable[[str], Any]) -> None:
    parent, child = repo.create_issue("parent"), repo.create_issue("child")
    parent.add_sub_issue(child)
    assert (
        missing_keys(
            replay("SubIssue.testAddSubIssue.txt", "GET", r".*/issues/5/sub_issues"),
            get("/repos/agentos/backlog/issues/1/sub_issues"),
        )
        == []
    )


def test_check_run_commit_and_status(
    sandbox: Sandbox, repo: Repository, get: Callable[[str], Any]
) -> None:
    sha = repo.get_branch("main").commit.sha
    app_repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    run = app_repo.create_check_run(
        "tests",
        sha,
        status="completed",
        conclusion="success",
        output={"title": "t", "summary": "s"},
    )
    repo.get_commit(sha).create_status("success", context="ci")
    assert (
        missing_keys(
            replay("CheckRun.setUp.txt", "GET", r".*/check-runs/\d+"),
            get(f"/repos/agentos/backlog/check-runs/{run.id}"),
        )
        == []
    )
    assert (
        missing_keys(
            replay("CheckRun.setUp.txt", "GET", r".*/commits/\w+\?page=1"),
            get(f"/repos/agentos/backlog/commits/{sha}"),
        )
        == []
    )
    assert (
        missing_keys(
            octokit("create-status", "get", r".*/commits/\w+/status"),
            get(f"/repos/agentos/backlog/commits/{sha}/status"),
        )
        == []
    )


def test_pull_request_and_ref(
    repo: Repository, clone: Path, git: Git, get: Callable[[str], Any]
) -> None:
    push_branch(git, clone, "topic")
    repo.create_pull(base="main", head="topic", title="t", body="b")
    assert (
        missing_keys(
            replay("PullRequest.testConvertToDraft.txt", "GET", r".*/pulls/1"),
            get("/repos/agentos/backlog/pulls/1"),
        )
        == []
    )
    assert (
        missing_keys(
            replay("GitRef.testExample.txt", "GET", r".*/git/ref/heads/.*"),
            get("/repos/agentos/backlog/git/ref/heads/topic"),
        )
        == []
    )
    assert (
        missing_keys(
            octokit("git-refs", "get", r".*/git/refs/"),
            get("/repos/agentos/backlog/git/matching-refs/heads"),
        )
        == []
    )


def test_validation_error_shape(sandbox: Sandbox, repo: Repository) -> None:
    real = octokit("errors", "post", r".*/labels")
    ours = httpx.post(
        f"{sandbox.api_url}/repos/agentos/backlog/labels",
        headers={"Authorization": f"token {sandbox.token}"},
        json={"name": "x", "color": "invalid"},
    )
    assert ours.status_code == 422
    assert missing_keys(real, ours.json()) == []
    assert ours.json()["errors"] == real["errors"]

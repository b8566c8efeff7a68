"""Reviews as the verifier uses them: the author's own approval refused (test_refusals.py), a second
identity's approval and request for changes recorded at the commit it judged, statuses kept."""

from __future__ import annotations

from pathlib import Path

from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client, push_branch


def test_a_second_identity_approves_and_requests_changes_at_the_judged_commit(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    head = push_branch(git, clone, "agent/3-sub")
    pr = repo.create_pull(base="main", head="agent/3-sub", title="t", body="Closes #1")
    app = client(sandbox, sandbox.add_app("verifier")).get_repo(repo.full_name).get_pull(pr.number)
    asked = app.create_review(
        commit=repo.get_commit(head), body="add a test", event="REQUEST_CHANGES"
    )
    approved = app.create_review(body="good", event="APPROVE")
    assert (asked.state, asked.user.login, asked.commit_id) == (
        "CHANGES_REQUESTED",
        "verifier[bot]",
        head,
    )
    assert approved.state == "APPROVED" and "#pullrequestreview-" in approved.html_url
    assert [r.state for r in pr.get_reviews()] == ["CHANGES_REQUESTED", "APPROVED"]


def test_the_newest_status_of_a_context_is_the_combined_one(
    repo: Repository, clone: Path, git: Git
) -> None:
    head = push_branch(git, clone, "agent/4-status")
    commit = repo.get_commit(head)
    commit.create_status("failure", description="changes_requested: x", context="agentos/verifier")
    commit.create_status("success", description="approved: y", context="agentos/verifier")
    [status] = commit.get_combined_status().statuses
    assert (status.context, status.state, status.description) == (
        "agentos/verifier",
        "success",
        "approved: y",
    )

"""PyGithub drives repositories, issues, labels, comments, events, collaborators and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from github import Github, GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox


def test_authenticated_user_reports_token_scopes(sandbox: Sandbox, gh: Github) -> None:
    user = gh.get_user()
    assert user.login == "agentos"
    assert gh.oauth_scopes == ["repo", "project", "read:org"]


def test_created_repository_has_a_readme_commit_and_default_labels(
    gh: Github, repo: Repository
) -> None:
    assert repo.full_name == "agentos/backlog"
    assert repo.default_branch == "main"
    assert gh.get_repo("agentos/backlog").id == repo.id
    assert repo.get_commits()[0].commit.message == "Initial commit"
    assert "bug" in [label.name for label in repo.get_labels()]
    assert [r.name for r in gh.get_user().get_repos()] == ["backlog"]


def test_repository_name_taken_is_a_validation_error(gh: Github, repo: Repository) -> None:
    with pytest.raises(GithubException) as raised:
        gh.get_user().create_repo("backlog")
    assert raised.value.status == 422
    assert raised.value.data["errors"][0]["message"] == "name already exists on this account"


def test_organization_repository(sandbox: Sandbox, gh: Github) -> None:
    sandbox.add_org("acme", {"agentos": "admin"})
    created = gh.get_organization("acme").create_repo("tools", auto_init=True)
    assert created.owner.login == "acme" and created.organization.login == "acme"


def test_issue_lifecycle_with_labels_and_events(repo: Repository) -> None:
    issue = repo.create_issue("First task", body="Do it", labels=["bug"], assignees=["agentos"])
    assert (issue.number, issue.state, issue.user.login) == (1, "open", "agentos")
    assert [a.login for a in issue.assignees] == ["agentos"]
    issue.add_to_labels("ready")
    issue.remove_from_labels("bug")
    assert [label.name for label in issue.get_labels()] == ["ready"]
    issue.edit(state="closed", state_reason="not_planned")
    issue = repo.get_issue(1)
    assert (issue.state, issue.state_reason, issue.closed_by.login) == (
        "closed",
        "not_planned",
        "agentos",
    )
    issue.edit(state="open")
    events = [(e.event, e.actor.login) for e in issue.get_events()]
    assert events == [
        ("labeled", "agentos"),
        ("labeled", "agentos"),
        ("unlabeled", "agentos"),
        ("closed", "agentos"),
        ("reopened", "agentos"),
    ]
    assert [e.label.name for e in issue.get_events() if e.event == "unlabeled"] == ["bug"]


def test_set_labels_replaces_them(repo: Repository) -> None:
    issue = repo.create_issue("t", labels=["a", "b"])
    issue.set_labels("c")
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["c"]
    issue.delete_labels()
    assert repo.get_issue(issue.number).labels == []


def test_repository_labels_create_get_edit_delete(repo: Repository) -> None:
    label = repo.create_label("status: ready", "00ff00", "Ready to start")
    assert repo.get_label("status: ready").description == "Ready to start"
    label.edit("status: queued", "0000ff", "Queued")
    assert repo.get_label("status: queued").color == "0000ff"
    with pytest.raises(GithubException) as raised:
        repo.create_label("Status: Queued", "ffffff")
    assert raised.value.data["errors"][0]["code"] == "already_exists"
    repo.get_label("status: queued").delete()
    with pytest.raises(GithubException):
        repo.get_label("status: queued")


def test_comments_create_list_edit_delete(repo: Repository) -> None:
    issue = repo.create_issue("with comments")
    first = issue.create_comment("one")
    issue.create_comment("two")
    first.edit("one, edited")
    assert [c.body for c in issue.get_comments()] == ["one, edited", "two"]
    assert repo.get_issue(issue.number).comments == 2
    first.delete()
    assert [c.body for c in issue.get_comments()] == ["two"]


def test_listing_follows_link_headers_across_pages(
    sandbox: Sandbox, gh: Github, repo: Repository
) -> None:
    for n in range(7):
        repo.create_issue(f"issue {n}", labels=["even"] if n % 2 == 0 else [])
    gh.per_page = 3
    titles = [i.title for i in gh.get_repo(repo.full_name).get_issues()]
    assert titles == [f"issue {n}" for n in reversed(range(7))]
    pages = [
        r.path
        for r in sandbox.requests
        if r.path.startswith("/api/v3/repos/agentos/backlog/issues?")
    ]
    assert len(pages) == 3 and "page=3" in pages[-1]


def test_issue_filters_state_labels_since_and_sort(repo: Repository) -> None:
    a = repo.create_issue("a", labels=["x", "y"])
    repo.create_issue("b", labels=["x"])
    c = repo.create_issue("c")
    c.edit(state="closed")
    assert [i.title for i in repo.get_issues(labels=["x", "y"])] == ["a"]
    assert [i.title for i in repo.get_issues(state="closed")] == ["c"]
    assert [i.title for i in repo.get_issues(state="all", sort="created", direction="asc")] == [
        "a",
        "b",
        "c",
    ]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert list(repo.get_issues(since=future)) == []
    a.create_comment("bump")
    assert [i.title for i in repo.get_issues(sort="comments")][0] == "a"


def test_outsider_opens_issues_but_cannot_label_or_write(
    sandbox: Sandbox, repo: Repository, outsider: Github
) -> None:
    theirs = outsider.get_repo(repo.full_name).create_issue("from outside", labels=["bug"])
    assert theirs.user.login == "outsider" and theirs.labels == []
    assert repo.get_issue(theirs.number).raw_data["author_association"] == "NONE"
    with pytest.raises(GithubException) as raised:
        outsider.get_repo(repo.full_name).create_label("nope", "ffffff")
    assert raised.value.status == 404
    perm = repo.get_collaborator_permission("outsider")
    assert perm == "read"


def test_collaborator_permissions(sandbox: Sandbox, repo: Repository, outsider: Github) -> None:
    sandbox.add_user("maintainer")
    repo.add_to_collaborators("maintainer", permission="maintain")
    assert repo.get_collaborator_permission("maintainer") == "write"
    assert repo.get_collaborator_role_name("maintainer") == "maintain"
    assert repo.get_collaborator_permission("agentos") == "admin"
    assert repo.has_in_collaborators("maintainer")
    assert not repo.has_in_collaborators("outsider")
    assert {c.login for c in repo.get_collaborators()} == {"agentos", "maintainer"}


def test_private_repository_is_invisible_to_outsiders(gh: Github, outsider: Github) -> None:
    private = gh.get_user().create_repo("secret", private=True)
    assert private.private
    with pytest.raises(GithubException) as raised:
        outsider.get_repo("agentos/secret")
    assert raised.value.status == 404


def test_missing_title_is_rejected_in_githubs_error_shape(repo: Repository) -> None:
    with pytest.raises(GithubException) as raised:
        repo.create_issue("")
    assert raised.value.status == 422
    assert raised.value.data["message"] == "Validation Failed"
    assert raised.value.data["errors"][0]["field"] == "title"

"""The git CLI pushes over smart HTTP and PyGithub opens, inspects and merges pull requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import Github, GithubException
from github.Repository import Repository

from orchestrator.core.markdown import defuse
from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, commit, push_branch


@pytest.mark.parametrize("method, parents", [("merge", 2), ("squash", 1), ("rebase", 1)])
def test_merging_a_pull_request_closes_the_issue_it_names(
    repo: Repository, clone: Path, git: Git, method: str, parents: int
) -> None:
    issue = repo.create_issue("Do the thing")
    sha = push_branch(git, clone, "agent/1-do-the-thing")
    pr = repo.create_pull(
        base="main",
        head="agent/1-do-the-thing",
        title="Do the thing",
        body=f"Some text.\n\nCLOSES #{issue.number}",
    )
    assert (pr.head.sha, pr.mergeable, pr.mergeable_state) == (sha, True, "clean")
    assert (pr.commits, pr.additions, pr.changed_files) == (1, 1, 1)
    assert [f.filename for f in pr.get_files()] == ["feature.txt"]
    assert [c.sha for c in pr.get_commits()] == [sha]
    result = pr.merge(merge_method=method)
    assert result.merged
    merged = repo.get_pull(pr.number)
    assert (merged.merged, merged.state, merged.merge_commit_sha) == (True, "closed", result.sha)
    closed = repo.get_issue(issue.number)
    assert (closed.state, closed.state_reason) == ("closed", "completed")
    assert [e.event for e in closed.get_events()] == ["closed"]
    assert [e.commit_id for e in closed.get_events()] == [result.sha]
    git("fetch", "-q", "origin", cwd=clone)
    assert git("rev-parse", "origin/main", cwd=clone).strip() == result.sha
    assert len(repo.get_commit(result.sha).parents) == parents
    assert (clone / "feature.txt").exists()


@pytest.mark.parametrize(
    "body, closes",
    [
        ("Fixes #1", True),
        ("resolved: agentos/backlog#1", True),
        ("fixed agentos/backlog#1.", True),
        ("Refs #1", False),
        ("Resolves GH-1", True),
        ("Closes {base}/agentos/backlog/issues/1", True),
        ("Closes https://elsewhere.example/agentos/backlog/issues/1", False),
        ("Unclosed #1", False),
        (defuse("Fixes #1"), False),  # how Agent OS quotes an agent's words
        (defuse("resolved: agentos/backlog#1"), False),
    ],
)
def test_closing_keywords(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, body: str, closes: bool
) -> None:
    repo.create_issue("target")
    push_branch(git, clone, "topic")
    body = body.replace("{base}", sandbox.base_url)
    repo.create_pull(base="main", head="topic", title="t", body=body).merge()
    assert repo.get_issue(1).state == ("closed" if closes else "open")


def test_a_defused_issue_url_closes_nothing(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    repo.create_issue("target")
    push_branch(git, clone, "topic")
    body = defuse(f"Closes {sandbox.base_url}/agentos/backlog/issues/1")
    repo.create_pull(base="main", head="topic", title="t", body=body).merge()
    assert repo.get_issue(1).state == "open"


def test_merge_into_a_non_default_branch_does_not_close_issues(
    repo: Repository, clone: Path, git: Git
) -> None:
    repo.create_issue("target")
    main = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/develop", main)
    push_branch(git, clone, "topic")
    repo.create_pull(base="develop", head="topic", title="t", body="Closes #1").merge()
    assert repo.get_issue(1).state == "open"


def test_conflicting_pull_request_is_not_mergeable(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "one", "README.md", "one\n")
    push_branch(git, clone, "two", "README.md", "two\n")
    first = repo.create_pull(base="main", head="one", title="one", body="")
    second = repo.create_pull(base="main", head="two", title="two", body="")
    first.merge()
    second = repo.get_pull(second.number)
    assert (second.mergeable, second.mergeable_state) == (False, "dirty")
    with pytest.raises(GithubException) as raised:
        second.merge()
    assert (raised.value.status, raised.value.data["message"]) == (
        405,
        "Pull Request is not mergeable",
    )


def test_push_updates_the_pull_request_head(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    newer = commit(git, clone, "more.txt", "more\n", "More")
    git("push", "-q", "origin", "HEAD:refs/heads/topic", cwd=clone)
    assert repo.get_pull(pr.number).head.sha == newer
    with pytest.raises(GithubException) as raised:
        pr.merge(sha="0" * 40)
    assert raised.value.status == 409


def test_pull_request_validation(repo: Repository, clone: Path, git: Git) -> None:
    with pytest.raises(GithubException) as raised:
        repo.create_pull(base="main", head="missing", title="t", body="")
    assert raised.value.data["errors"][0]["field"] == "head"
    push_branch(git, clone, "topic")
    repo.create_pull(base="main", head="topic", title="t", body="")
    with pytest.raises(GithubException) as raised:
        repo.create_pull(base="main", head="topic", title="again", body="")
    assert "already exists" in raised.value.data["errors"][0]["message"]


def test_list_pulls_filters_and_update(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "a")
    push_branch(git, clone, "b", "b.txt")
    pa = repo.create_pull(base="main", head="a", title="a", body="")
    repo.create_pull(base="main", head="b", title="b", body="")
    assert [p.title for p in repo.get_pulls(head="agentos:a")] == ["a"]
    assert [p.title for p in repo.get_pulls(base="main", sort="created", direction="asc")] == [
        "a",
        "b",
    ]
    pa.edit(title="a2", state="closed")
    assert [p.title for p in repo.get_pulls(state="closed")] == ["a2"]
    assert [i.number for i in repo.get_issues()] == [2]  # pull requests are issues too
    assert repo.get_issue(2).pull_request is not None


def test_reviews(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, outsider: Github
) -> None:
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    with pytest.raises(GithubException) as raised:
        pr.create_review(event="APPROVE")
    assert raised.value.status == 422
    outsider.get_repo(repo.full_name).get_pull(pr.number).create_review(
        body="Needs work", event="REQUEST_CHANGES"
    )
    assert [(r.user.login, r.state) for r in pr.get_reviews()] == [
        ("outsider", "CHANGES_REQUESTED")
    ]


def test_refs_with_slashes_branches_commits_and_compare(
    repo: Repository, clone: Path, git: Git
) -> None:
    sha = push_branch(git, clone, "agent/12-x")
    assert repo.get_git_ref("heads/agent/12-x").object.sha == sha
    assert repo.get_branch("agent/12-x").commit.sha == sha
    assert [r.ref for r in repo.get_git_matching_refs("heads/agent/")] == ["refs/heads/agent/12-x"]
    assert {b.name for b in repo.get_branches()} == {"main", "agent/12-x"}
    main = repo.get_branch("main").commit.sha
    ref = repo.create_git_ref("refs/heads/agent/13-y", main)
    with pytest.raises(GithubException) as raised:
        repo.create_git_ref("refs/heads/agent/13-y", main)
    assert raised.value.data["message"] == "Reference already exists"
    ref.edit(sha)
    assert repo.get_git_ref("heads/agent/13-y").object.sha == sha
    with pytest.raises(GithubException):
        ref.edit(main)  # not a fast-forward
    ref.edit(main, force=True)
    ref.delete()
    with pytest.raises(GithubException):
        repo.get_git_ref("heads/agent/13-y")
    comparison = repo.compare("main", "agent/12-x")
    assert (comparison.status, comparison.ahead_by, comparison.total_commits) == ("ahead", 1, 1)
    assert [f.filename for f in comparison.files] == ["feature.txt"]
    detail = repo.get_commit(sha)
    assert (detail.stats.additions, detail.files[0].status, detail.commit.author.name) == (
        1,
        "added",
        "Agent",
    )


def test_merge_branches_endpoint(repo: Repository, clone: Path, git: Git) -> None:
    push_branch(git, clone, "topic")
    merged = repo.merge("main", "topic", "Merge topic")
    assert merged.commit.message == "Merge topic"
    assert repo.merge("main", "topic") is None  # nothing left to merge: 204


def test_lazy_mergeability_answers_null_first(tmp_path: Path, git: Git) -> None:
    """GitHub computes mergeability in the background: the first read after a change says null."""
    from tests.sandbox.github.helpers import client
    from tests.support.github_sandbox import running_sandbox

    with running_sandbox(tmp_path / "sb", lazy_mergeable=True) as sandbox:
        repo = client(sandbox, sandbox.token).get_user().create_repo("r", auto_init=True)
        git("clone", "-q", sandbox.clone_url("agentos/r"), str(tmp_path / "c"))
        push_branch(git, tmp_path / "c", "topic")
        created = repo.create_pull(base="main", head="topic", title="t", body="")
        assert (created.mergeable, created.mergeable_state) == (None, "unknown")
        assert repo.get_pull(created.number).mergeable is True
        commit(git, tmp_path / "c", "more.txt", "more\n", "More")
        git("push", "-q", "origin", "HEAD:refs/heads/topic", cwd=tmp_path / "c")
        assert repo.get_pull(created.number).mergeable is None
        assert repo.get_pull(created.number).mergeable_state == "clean"

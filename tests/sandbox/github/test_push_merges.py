"""A push that makes a pull request's head reachable from its base merges it, as on GitHub (the
"train": pull requests merged onto the base on a branch, then the base fast-forwarded to it with
the real git client), and CI runs on pushed branches that match the repository's patterns.

The strict sandbox checks every REST exchange against GitHub's description.
"""

from __future__ import annotations

from pathlib import Path

from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, commit, push_branch


def train(git: Git, clone: Path, name: str, *branches: str) -> str:
    """Merge `branches` onto main by merge commits on branch `name`, push it; return its tip."""
    git("checkout", "-q", "-B", name, "origin/main", cwd=clone)
    for branch in branches:
        git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch, cwd=clone)
    git("push", "-q", "origin", f"HEAD:refs/heads/{name}", cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone).strip()


def opened(repo: Repository, git: Git, clone: Path, branch: str, body: str = "") -> int:
    push_branch(git, clone, branch, path=f"{branch}.txt", text=f"{branch}\n")
    return repo.create_pull(base="main", head=branch, title=branch, body=body).number


def test_a_fast_forward_to_a_train_merges_every_pull_request_it_carries(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    first, second = repo.create_issue("One"), repo.create_issue("Two")
    a = opened(repo, git, clone, "topic-a", f"Closes #{first.number}")
    b = opened(repo, git, clone, "topic-b", f"Fixes: #{second.number}")
    tip = train(git, clone, "agentos/train/1", "topic-a", "topic-b")
    assert repo.get_pull(a).state == "open"  # the train branch is no base: nothing merged yet
    git("push", "-q", "origin", "agentos/train/1:main", cwd=clone)
    for number in (a, b):
        pr = repo.get_pull(number)
        assert (pr.state, pr.merged, pr.merge_commit_sha) == ("closed", True, tip)
        assert pr.merged_by.login == "agentos" and pr.merged_at is not None
        events = [(e.event, e.commit_id) for e in repo.get_issue(number).get_events()]
        assert events == [("merged", tip), ("closed", tip)]
    for issue in (first, second):
        closed = repo.get_issue(issue.number)
        assert (closed.state, closed.state_reason) == ("closed", "completed")
        assert [(e.event, e.commit_id) for e in closed.get_events()] == [("closed", tip)]


def test_a_push_carrying_one_head_merges_that_pull_request_only(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    a = opened(repo, git, clone, "topic-a")
    b = opened(repo, git, clone, "topic-b")
    tip = train(git, clone, "agentos/train/2", "topic-a")
    git("push", "-q", "origin", "agentos/train/2:main", cwd=clone)
    assert (repo.get_pull(a).merged, repo.get_pull(a).merge_commit_sha) == (True, tip)
    later = repo.get_pull(b)
    assert (later.state, later.merged, later.merge_commit_sha) == ("open", False, None)
    assert later.mergeable_state == "clean"  # still mergeable onto the new base


def test_a_fast_forward_to_the_head_itself_merges_it(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    number = opened(repo, git, clone, "topic")
    head = git("rev-parse", "topic", cwd=clone).strip()
    git("push", "-q", "origin", "topic:main", cwd=clone)
    pr = repo.get_pull(number)
    assert (pr.merged, pr.merge_commit_sha, pr.head.sha) == (True, head, head)


def test_only_a_merge_into_the_default_branch_closes_the_issues_it_names(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    issue = repo.create_issue("Later")
    git("push", "-q", "origin", "origin/main:refs/heads/develop", cwd=clone)
    push_branch(git, clone, "topic")
    pr = repo.create_pull(base="develop", head="topic", title="t", body=f"Closes #{issue.number}")
    git("push", "-q", "origin", "topic:develop", cwd=clone)
    assert repo.get_pull(pr.number).merged
    assert repo.get_issue(issue.number).state == "open"


def test_the_merge_button_also_merges_a_pull_request_whose_head_it_carried(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    """GitHub marks merged, by the same merger, a pull request whose commits all reached its base
    through another one."""
    inner = opened(repo, git, clone, "inner")
    git("checkout", "-q", "-B", "outer", "inner", cwd=clone)
    commit(git, clone, "outer.txt", "outer\n", "Outer on top of inner")
    git("push", "-q", "origin", "HEAD:refs/heads/outer", cwd=clone)
    outer = repo.create_pull(base="main", head="outer", title="outer", body="")
    merged = outer.merge()
    pr = repo.get_pull(inner)
    assert (pr.merged, pr.merge_commit_sha, pr.merged_by.login) == (True, merged.sha, "agentos")


def test_a_push_to_the_head_branch_merges_nothing(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    number = opened(repo, git, clone, "topic")
    commit(git, clone, "more.txt", "more\n", "More")
    git("push", "-q", "origin", "HEAD:refs/heads/topic", cwd=clone)
    assert repo.get_pull(number).state == "open"


def test_ci_runs_on_a_pushed_branch_that_matches_a_push_pattern(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    sandbox.set_ci(repo.full_name, "echo checked", push_branches=("agentos/train/*",))
    push_branch(git, clone, "topic-a", path="a.txt")
    tip = train(git, clone, "agentos/train/1", "topic-a")
    git("checkout", "-q", "-B", "other", "origin/main", cwd=clone)
    other = commit(git, clone, "o.txt", "o\n", "Other")
    git("push", "-q", "origin", "HEAD:refs/heads/agentos/other", cwd=clone)
    deep = commit(git, clone, "d.txt", "d\n", "Deeper")
    git("push", "-q", "origin", "HEAD:refs/heads/agentos/train/x/1", cwd=clone)  # `*` stops at /
    assert sandbox.wait_ci_idle(30)
    [run] = repo.get_commit(tip).get_check_runs()
    assert (run.name, run.conclusion, run.head_sha) == ("sandbox-ci", "success", tip)
    assert "checked" in run.output.text
    assert repo.get_commit(other).get_check_runs().totalCount == 0
    assert repo.get_commit(deep).get_check_runs().totalCount == 0
    sandbox.set_ci(repo.full_name, "echo checked")  # the patterns stay
    assert sandbox.store.repos[repo.full_name]["ci_push_branches"] == ["agentos/train/*"]

"""Commit statuses and check runs through PyGithub, and the local CI that reports as a check run."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client, push_branch


def test_statuses_and_combined_state(repo: Repository) -> None:
    commit = repo.get_commit(repo.get_branch("main").commit.sha)
    commit.create_status("pending", context="ci/tests")
    commit.create_status(
        "success", target_url="http://example.com", description="ok", context="ci/tests"
    )
    commit.create_status("success", context="ci/lint")
    assert [s.state for s in commit.get_statuses()] == ["success", "success", "pending"]
    combined = commit.get_combined_status()
    assert (combined.state, combined.total_count) == ("success", 2)
    commit.create_status("failure", context="ci/lint")
    assert commit.get_combined_status().state == "failure"


def test_only_github_apps_write_check_runs(sandbox: Sandbox, repo: Repository) -> None:
    sha = repo.get_branch("main").commit.sha
    with pytest.raises(GithubException) as raised:
        repo.create_check_run("tests", sha)
    assert (raised.value.status, raised.value.data["message"]) == (
        403,
        "You must authenticate via a GitHub App.",
    )
    app_repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    run = app_repo.create_check_run("tests", sha, status="queued")
    assert (run.app.slug, repo.get_check_run(run.id).name) == ("agent-ci", "tests")
    with pytest.raises(GithubException):
        repo.get_check_run(run.id).edit(status="completed", conclusion="success")


def test_check_runs_create_update_get_and_list(sandbox: Sandbox, repo: Repository) -> None:
    repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    sha = repo.get_branch("main").commit.sha
    run = repo.create_check_run(
        "tests", sha, status="in_progress", output={"title": "Running", "summary": "…"}
    )
    assert (run.status, run.conclusion) == ("in_progress", None)
    run.edit(
        conclusion="success", output={"title": "Passed", "summary": "all good", "text": "12 passed"}
    )
    again = repo.get_check_run(run.id)
    assert (again.status, again.conclusion, again.output.text) == (
        "completed",
        "success",
        "12 passed",
    )
    repo.create_check_run("lint", sha, status="completed", conclusion="failure")
    commit = repo.get_commit(sha)
    assert sorted(r.name for r in commit.get_check_runs()) == ["lint", "tests"]
    assert [r.name for r in commit.get_check_runs(check_name="lint")] == ["lint"]
    assert [r.name for r in commit.get_check_runs(status="completed", check_name="tests")] == [
        "tests"
    ]


def test_failing_check_makes_a_pull_request_unstable(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    sha = push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    app_repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    app_repo.create_check_run("tests", sha, status="completed", conclusion="failure")
    assert repo.get_pull(pr.number).mergeable_state == "unstable"


def test_local_ci_reports_each_push_to_an_open_pull_request(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    sandbox.set_ci(repo.full_name, "test -f ok.txt && echo tests passed")
    sha = push_branch(git, clone, "topic")
    pr = repo.create_pull(base="main", head="topic", title="t", body="")
    assert sandbox.wait_ci_idle(30)
    first = list(repo.get_commit(sha).get_check_runs())
    assert [(r.name, r.conclusion) for r in first] == [("sandbox-ci", "failure")]
    (clone / "ok.txt").write_text("ok\n")
    git("add", "ok.txt", cwd=clone)
    git("commit", "-q", "-m", "Make CI pass", cwd=clone)
    git("push", "-q", "origin", "HEAD:refs/heads/topic", cwd=clone)
    assert sandbox.wait_ci_idle(30)
    head = repo.get_pull(pr.number).head.sha
    runs = list(repo.get_commit(head).get_check_runs())
    assert [(r.name, r.status, r.conclusion) for r in runs] == [
        ("sandbox-ci", "completed", "success")
    ]
    assert runs[0].output.text.strip() == "tests passed"
    assert [p.number for p in runs[0].pull_requests] == [pr.number]
    assert repo.get_pull(pr.number).mergeable_state == "clean"


def test_ci_output_is_trimmed_to_githubs_limit(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    sandbox.set_ci(repo.full_name, "python3 -c \"print('x' * 70000)\"")
    sha = push_branch(git, clone, "topic")
    repo.create_pull(base="main", head="topic", title="t", body="")
    assert sandbox.wait_ci_idle(30)
    text = repo.get_commit(sha).get_check_runs()[0].output.text
    assert len(text) == 65535 and text.startswith("…")


def test_ci_timeout_fails_the_check(tmp_path: Path, git: Git) -> None:
    from tests.support.github_sandbox import running_sandbox

    with running_sandbox(tmp_path / "sb", ci_timeout=0.5) as sandbox:
        repo = client(sandbox, sandbox.token).get_user().create_repo("r", auto_init=True)
        git("clone", "-q", sandbox.clone_url("agentos/r"), str(tmp_path / "c"))
        sandbox.set_ci("agentos/r", "echo started; sleep 5")
        sha = push_branch(git, tmp_path / "c", "topic")
        repo.create_pull(base="main", head="topic", title="t", body="")
        assert sandbox.wait_ci_idle(10)
        run = repo.get_commit(sha).get_check_runs()[0]
        assert run.conclusion == "failure" and "timed out after 0.5s" in run.output.text

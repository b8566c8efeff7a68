"""A failed check's details on the wire: which requests, the log's redirect, the log's ends."""

from __future__ import annotations

from github import Auth, Github

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_checks import ends, normalize_annotation
from orchestrator.adapters.github_normalize import job_of
from orchestrator.core.model import Annotation, Check, CheckDetails, CheckState
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO, statuses


def test_a_commit_status_costs_no_request(sandbox: Sandbox, tracker: GitHubTracker) -> None:
    sandbox.clear_requests()
    status = Check("ci/lint", CheckState.FAILURE, "bad", "https://ci.example/1")
    assert tracker.check_details(REPO, status) == CheckDetails()
    assert statuses(sandbox) == []


def test_a_run_without_annotations_or_job_costs_no_request(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    sandbox.clear_requests()
    run = Check("lint", CheckState.FAILURE, "bad", run_id=5, annotations=0)
    assert tracker.check_details(REPO, run) == CheckDetails()
    assert statuses(sandbox) == []


def test_a_job_whose_log_github_does_not_have_reads_as_no_log(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    app = Github(auth=Auth.Token(sandbox.add_app("agent-ci")), base_url=sandbox.api_url)
    sha = app.get_repo(REPO).get_branch("main").commit.sha
    made = app.get_repo(REPO).create_check_run(
        "tests",
        sha,
        status="completed",
        conclusion="failure",
        output={"title": "t", "summary": "s"},
    )
    [check] = tracker.checks(REPO, sha)
    sandbox.clear_requests()
    gone = Check(check.name, check.state, run_id=made.id, job=999_999)
    assert tracker.check_details(REPO, gone) == CheckDetails()
    assert statuses(sandbox) == [("GET", f"/repos/{REPO}/actions/jobs/999999/logs", 404)]


def test_a_huge_log_keeps_its_head_and_its_end() -> None:
    chunks = [b"A" * 1000, b"B" * 5000, b"C" * 1000]
    text = ends(chunks, keep=1500)
    assert text.startswith("A" * 1000 + "B" * 500) and text.endswith("B" * 500 + "C" * 1000)
    assert "[… 4000 bytes of the log left out …]" in text
    assert ends([b"small"], keep=1500) == "small"


def test_reading_stops_at_the_cap_and_says_the_end_was_not_reached() -> None:
    text = ends(iter([b"x" * 100] * 1000), keep=50, most=1000)
    assert "not its end" in text and len(text) < 300


def test_an_annotations_title_leads_its_message() -> None:
    raw = {
        "path": "src/a.py",
        "start_line": 4,
        "annotation_level": "warning",
        "title": "flake8",
        "message": "unused import",
    }
    assert normalize_annotation(raw) == Annotation(
        "src/a.py", 4, "flake8: unused import", "warning"
    )


def test_the_job_behind_a_check_run() -> None:
    actions = {"id": 42, "app": {"slug": "github-actions"}}
    assert job_of(actions, "https://github.com/o/r/runs/42") == 42
    assert job_of({"id": 42, "app": {"slug": "ci"}}, "https://x/o/r/actions/runs/7/job/9") == 9
    assert job_of({"id": 42, "app": {"slug": "circleci"}}, "https://circleci.com/gh/o/r/1") is None

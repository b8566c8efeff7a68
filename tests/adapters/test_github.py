"""GitHubTracker's requests on the wire.

How many each common path sends, conditional reads, token checks.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.config.model import AutomationMode, BoardRef, GitHubConfig, RepoConfig, Secret
from orchestrator.core.redact import encoded_forms, register_values
from orchestrator.errors import TrackerError
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO, statuses
from tests.contract.worlds import SandboxWorld, github_tracker

ISSUES = "/repos/agentos/app/issues"


def test_a_repeated_read_is_answered_304_from_the_etag_cache(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    tracker.create_issue(REPO, "first", "")
    sandbox.clear_requests()
    first = tracker.open_issues(REPO)
    again = tracker.open_issues(REPO)
    assert again == first and [i.title for i in again] == ["first"]
    listing = f"{ISSUES}?per_page=100&state=open"
    assert statuses(sandbox) == [("GET", listing, 200), ("GET", listing, 304)]
    tracker.create_issue(REPO, "second", "")
    assert [i.title for i in tracker.open_issues(REPO)] == ["second", "first"]
    assert statuses(sandbox)[-1] == ("GET", listing, 200)


def test_label_events_are_read_conditionally(sandbox: Sandbox, tracker: GitHubTracker) -> None:
    ref = tracker.create_issue(REPO, "events", "", labels=["ready"]).ref
    sandbox.clear_requests()
    assert tracker.label_events(ref) == tracker.label_events(ref)
    assert [status for _, _, status in statuses(sandbox)] == [200, 304]


@pytest.mark.parametrize("per_page, requests", [(100, 1), (4, 3)])
def test_listings_follow_every_page(sandbox: Sandbox, per_page: int, requests: int) -> None:
    tracker = github_tracker(sandbox.api_url, sandbox.token, per_page=per_page)
    for n in range(10):
        tracker.create_issue(REPO, f"issue {n}", "")
    sandbox.clear_requests()
    assert len(tracker.open_issues(REPO)) == 10
    assert len(sandbox.requests) == requests


def sent(sandbox: Sandbox) -> list[str]:
    """Return the request log as 'METHOD status' words, the shape request budgets are written in."""
    return [f"{method} {status}" for method, _, status in statuses(sandbox)]


def test_request_budget_of_the_issue_paths(sandbox: Sandbox, tracker: GitHubTracker) -> None:
    budget = []
    issue = tracker.create_issue(REPO, "budget", "")
    for step in (
        lambda: tracker.create_issue(REPO, "labelled", "", labels=["bug"]),
        lambda: tracker.add_labels(issue.ref, ["bug"]),
        lambda: tracker.remove_label(issue.ref, "bug"),
        lambda: tracker.dependencies(issue),
        lambda: tracker.upsert_comment(issue.ref, "<!-- m -->", "one"),
        lambda: tracker.upsert_comment(issue.ref, "<!-- m -->", "two"),
        lambda: tracker.upsert_comment(issue.ref, "<!-- m -->", "two"),
        lambda: tracker.close_issue(issue.ref),
        lambda: tracker.close_issue(issue.ref),
    ):
        sandbox.clear_requests()
        step()
        budget.append(sent(sandbox))
    assert budget == [
        ["GET 200", "POST 201"],  # labels present? then the issue
        ["GET 304", "POST 200"],  # the label list again is a free 304
        ["DELETE 200"],
        ["GET 200", "GET 200", "GET 404"],  # blocked_by, sub_issues, parent (none)
        ["GET 200", "POST 201"],  # no marked comment yet: create
        ["GET 200", "PATCH 200"],  # edit in place
        ["GET 200"],  # same text: nothing to write
        ["GET 200", "PATCH 200"],
        ["GET 200"],  # closed already: nothing to write
    ]


def test_request_budget_of_the_pull_paths(sandbox: Sandbox, tmp_path: Path) -> None:
    world = SandboxWorld(sandbox, tmp_path)
    tracker, budget = world.tracker, []
    sha = world.push(REPO, "agent/1-x")
    pr = tracker.open_pull(REPO, "agent/1-x", "main", "t", "")
    for step in (
        lambda: tracker.open_pull(REPO, "agent/1-x", "main", "t", ""),
        lambda: tracker.pull(REPO, pr.number),
        lambda: tracker.open_pulls(REPO),
        lambda: tracker.checks(REPO, sha),
        lambda: tracker.reviews(pr),
        lambda: tracker.merge_pull(pr),
        lambda: tracker.delete_branch(REPO, "agent/1-x"),
        lambda: tracker.delete_branch(REPO, "agent/1-x"),
    ):
        sandbox.clear_requests()
        step()
        budget.append(sent(sandbox))
    assert budget == [
        ["POST 422", "GET 200"],  # already open: find it by head
        ["GET 200"],
        ["GET 200"],
        ["GET 200", "GET 200"],
        ["GET 200"],
        ["PUT 200"],
        ["DELETE 204"],
        ["DELETE 422"],
    ]


def test_a_merge_retried_after_it_landed_returns_the_merge_commit(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = SandboxWorld(sandbox, tmp_path)
    world.push(REPO, "agent/2-y")
    pr = world.tracker.open_pull(REPO, "agent/2-y", "main", "t", "")
    sha = world.tracker.merge_pull(pr)
    assert world.tracker.merge_pull(pr) == sha


def test_every_text_sent_to_github_is_redacted_at_the_door(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    secret = "s3cr3t-" + "Wq7Zx2Lm9Pv"
    register_values([secret])
    blob = base64.b64encode(b"user:" + secret.encode()).decode()
    world = SandboxWorld(sandbox, tmp_path)
    tracker = world.tracker
    issue = tracker.create_issue(REPO, f"title {secret}", f"body {blob}")
    tracker.upsert_comment(issue.ref, "<!-- m -->", f"hex {secret.encode().hex()}")
    world.push(REPO, "agent/3-z")
    pr = tracker.open_pull(REPO, "agent/3-z", "main", f"fix {secret}", f"Basic {blob}")
    read = tracker.issue(issue.ref)
    texts = [read.title, read.body, *(c.body for c in tracker.comments(issue.ref))]
    texts += [tracker.pull(REPO, pr.number).title, tracker.pull(REPO, pr.number).body]
    assert all("[REDACTED:config-value]" in text for text in texts), texts
    assert not any(form in text for text in texts for form in encoded_forms(secret))


def repo_config(github: str, board: BoardRef | None = None) -> RepoConfig:
    return RepoConfig(
        key=github.split("/")[1],
        github=github,
        local_path=None,
        base_branch="main",
        test_command=None,
        board=board,
        automation_mode=AutomationMode.FULL,
        max_parallel_tasks=1,
    )


def test_check_access_is_quiet_when_the_token_can_do_everything(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    sandbox.add_org("acme", {"agentos": "admin"})
    assert tracker.check_access([repo_config(REPO, BoardRef("acme", 1))]) == []


def test_check_access_names_each_missing_scope_and_repo_problem(sandbox: Sandbox) -> None:
    sandbox.add_org("acme", {"agentos": "admin"})
    sandbox.create_repo("acme/private", private=True)
    sandbox.create_repo("acme/public")
    tracker = github_tracker(
        sandbox.api_url, sandbox.add_user("helper", scopes=["public_repo", "read:project"])
    )
    problems = tracker.check_access(
        [
            repo_config(REPO, BoardRef("acme", 1)),
            repo_config("acme/private"),
            repo_config("acme/public"),
        ]
    )
    assert problems == [
        "the token lacks the 'repo' scope, needed to read and write issues and pull requests",
        "the token lacks the 'project' scope, needed for the boards of acme",
        "the token lacks the 'read:org' scope, needed for the boards of the organizations acme",
        "repos.app: the token cannot push to agentos/app (it needs write access)",
        "repos.private: acme/private not found, or the token cannot see it",
        "repos.public: the token cannot push to acme/public (it needs write access)",
    ]


def test_an_unset_token_is_a_tracker_error_naming_the_key() -> None:
    with pytest.raises(TrackerError, match=r"^github.token: \$GITHUB_TOKEN is not set$"):
        GitHubTracker(GitHubConfig(Secret("GITHUB_TOKEN"), "http://127.0.0.1:9/api/v3", "", ()))

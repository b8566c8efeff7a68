"""GitHubTracker under GitHub's failure modes, injected by the sandbox.

Each is retried, waited out, or one clear error.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.core.model import IssueRef
from orchestrator.errors import RateLimited, TrackerError, TrackerUnauthorized, TrackerUnavailable
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO, statuses
from tests.contract.worlds import FAST_RETRY, github_tracker
from tests.support.github_sandbox import running_sandbox

ISSUE = "/api/v3/repos/agentos/app/issues/1"


@pytest.fixture
def issue(tracker: GitHubTracker, sandbox: Sandbox) -> IssueRef:
    ref = tracker.create_issue(REPO, "target", "").ref
    sandbox.clear_requests()
    return ref


def test_server_errors_are_retried_until_github_answers(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("error", path=ISSUE, status=500, times=1)
    sandbox.add_fault("error", path=ISSUE, status=502, times=1)
    assert tracker.issue(issue).title == "target"
    assert statuses(sandbox) == [
        ("GET", "/repos/agentos/app/issues/1", 500),
        ("GET", "/repos/agentos/app/issues/1", 502),
        ("GET", "/repos/agentos/app/issues/1", 200),
    ]


def test_a_dropped_connection_is_retried(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("drop", path=ISSUE, times=1)
    assert tracker.issue(issue).number == 1
    assert [status for _, _, status in statuses(sandbox)] == [None, 200]


def test_a_secondary_rate_limit_is_waited_out_for_its_retry_after(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("secondary_rate_limit", path=ISSUE, retry_after=1, times=1)
    started = time.monotonic()
    assert tracker.issue(issue).number == 1
    assert time.monotonic() - started >= 0.9
    assert [status for _, _, status in statuses(sandbox)] == [403, 200]


def test_a_secondary_rate_limit_that_persists_is_rate_limited(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("secondary_rate_limit", path=ISSUE, retry_after=0)
    with pytest.raises(
        RateLimited, match=r"^GitHub rate limit hit trying to read agentos/app#1: retry after 0 s$"
    ):
        tracker.issue(issue)
    assert len(sandbox.requests) == FAST_RETRY.total + 1


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_exhaustion_fails_at_once_with_the_reset_time(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef, status: int
) -> None:
    sandbox.add_fault("rate_limit", path=ISSUE, status=status, retry_after=3600)
    with pytest.raises(RateLimited) as raised:
        tracker.issue(issue)
    reset = time.strftime("%Y-%m-%dT%H:", time.gmtime(time.time() + 3600))
    assert f"the limit resets at {reset}" in str(raised.value)
    # an hour's wait exceeds max_rate_limit_wait: no retry, no sleep
    assert len(sandbox.requests) == 1


def test_spending_the_whole_budget_is_rate_limited(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "github", rate_limit=2) as sandbox:
        sandbox.create_repo(REPO)
        tracker = github_tracker(sandbox.api_url, sandbox.token)
        tracker.open_issues(REPO)
        tracker.open_issues(REPO)  # a 304: costs nothing
        tracker.create_issue(REPO, "spends the last request", "")
        with pytest.raises(RateLimited, match="the limit resets at"):
            tracker.open_issues(REPO)


def test_a_persistent_bad_gateway_is_unavailable_after_the_retries(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("error", path=ISSUE, status=502)
    with pytest.raises(
        TrackerUnavailable, match=r"^GitHub failed to read agentos/app#1 \(502 Bad Gateway, after"
    ):
        tracker.issue(issue)
    assert len(sandbox.requests) == FAST_RETRY.total + 1


def test_connections_that_keep_dropping_are_unavailable(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("drop", path=ISSUE)
    with pytest.raises(
        TrackerUnavailable, match="^GitHub could not be reached to read agentos/app#1"
    ):
        tracker.issue(issue)
    assert len(sandbox.requests) == FAST_RETRY.total + 1


def test_a_wrong_token_is_one_line_that_never_shows_the_token(sandbox: Sandbox) -> None:
    token = "ghp_" + "x1" * 18
    tracker = github_tracker(sandbox.api_url, token)
    with pytest.raises(TrackerError) as raised:
        tracker.open_issues(REPO)
    assert (
        str(raised.value) == "GitHub rejected the token (401 Bad credentials): check github.token"
    )
    assert type(raised.value) is TrackerUnauthorized and token not in repr(raised.value)


def test_upsert_comment_under_faults_leaves_exactly_one_comment(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    comments = f"{ISSUE}/comments"
    sandbox.add_fault("error", path=comments, method="POST", status=502, times=1)
    sandbox.add_fault("drop", path=comments, method="POST", times=1)
    tracker.upsert_comment(issue, "<!-- agentos:cycle -->", "first")
    sandbox.add_fault(
        "drop", path="/api/v3/repos/agentos/app/issues/comments/*", method="PATCH", times=1
    )
    tracker.upsert_comment(issue, "<!-- agentos:cycle -->", "second")
    assert [c.body for c in tracker.comments(issue)] == ["second\n\n<!-- agentos:cycle -->"]


def test_an_issue_created_under_a_server_error_is_created_once(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    sandbox.add_fault(
        "error", path="/api/v3/repos/agentos/app/issues", method="POST", status=500, times=2
    )
    tracker.create_issue(REPO, "once", "")
    assert [i.title for i in tracker.open_issues(REPO)] == ["once"]


def test_a_forbidden_answer_that_is_no_rate_limit_fails_at_once(
    sandbox: Sandbox, tracker: GitHubTracker, issue: IssueRef
) -> None:
    sandbox.add_fault("error", path=ISSUE, status=403)
    with pytest.raises(
        TrackerError, match=r"^GitHub refused the token trying to read agentos/app#1 \(403 "
    ) as raised:
        tracker.issue(issue)
    assert type(raised.value) is TrackerUnauthorized and len(sandbox.requests) == 1

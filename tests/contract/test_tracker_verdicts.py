"""The Tracker contract of the verifier's requests: a PR's files, commit statuses, and reviews,
where the PR's author may comment but not approve or request changes, and a second identity may.

One suite for the memory twin, GitHubTracker on the strict sandbox (every request checked
against GitHub's published description), and on GitHub when configured.
"""

from __future__ import annotations

import pytest

from orchestrator.core.model import CheckState, IssueRef, PullRequest
from orchestrator.core.verification import CommitStatus
from orchestrator.errors import ReviewRefused
from orchestrator.ports import Tracker
from tests.contract.worlds import MemoryWorld, SandboxWorld, World, github_tracker


def opened(world: World, tracker: Tracker, branch: str) -> PullRequest:
    repo = world.new_repo()
    world.push(repo, branch)
    return tracker.open_pull(repo, branch, "main", "verify me", "Closes #1")


def second_identity(world: World) -> tuple[Tracker, str]:
    """Return the tracker of another identity (a GitHub App's installation) and its login."""
    if isinstance(world, MemoryWorld):
        return world.memory.acting_as("verifier[bot]"), "verifier[bot]"
    if isinstance(world, SandboxWorld):
        token = world.sandbox.add_app("verifier")
        return github_tracker(world.sandbox.api_url, token), "verifier[bot]"
    pytest.skip("a second identity on GitHub needs an app's installation token")


def test_the_files_of_a_pull_request_come_with_their_patches(
    world: World, tracker: Tracker
) -> None:
    pr = opened(world, tracker, "agent/21-files")
    world.push(pr.repo, pr.head)
    files = tracker.pull_files(tracker.pull(pr.repo, pr.number))
    assert len(files) == 2
    for f in files:
        assert f.path.endswith(".txt") and "/" not in f.path
        assert (f.status, f.additions, f.deletions, f.previous_path) == ("added", 1, 0, None)
        assert "+change" in f.patch
    assert [f.path for f in files] == sorted(f.path for f in files)


def test_a_commit_status_is_a_check_named_by_its_context_newest_wins(
    world: World, tracker: Tracker
) -> None:
    pr = opened(world, tracker, "agent/22-status")
    url = pr.url + "#pullrequestreview-1"
    tracker.create_status(pr.repo, pr.head_sha, CommitStatus("agentos/verifier", "failure", "no"))
    tracker.create_status(
        pr.repo, pr.head_sha, CommitStatus("agentos/verifier", "success", "approved: yes", url)
    )
    tracker.create_status(pr.repo, pr.head_sha, CommitStatus("agentos/hold", "error", "held"))
    checks = {c.name: c for c in tracker.checks(pr.repo, pr.head_sha)}
    assert (checks["agentos/verifier"].state, checks["agentos/verifier"].summary) == (
        CheckState.SUCCESS,
        "approved: yes",
    )
    assert checks["agentos/verifier"].url == url
    assert checks["agentos/hold"].state is CheckState.FAILURE  # error reads as failure


def test_the_author_comments_but_may_not_approve_or_request_changes(
    world: World, tracker: Tracker
) -> None:
    pr = opened(world, tracker, "agent/23-own")
    for event in ("APPROVE", "REQUEST_CHANGES"):
        with pytest.raises(ReviewRefused, match="your own pull request"):
            tracker.create_review(pr, event, "self-approval")
    url = tracker.create_review(pr, "COMMENT", "the verifier approves")
    assert "pullrequestreview" in url
    [review] = tracker.reviews(pr)
    assert (review.author, review.state, review.body) == (
        world.login,
        "COMMENTED",
        "the verifier approves",
    )


def test_a_second_identity_approves_and_requests_changes(world: World, tracker: Tracker) -> None:
    pr = opened(world, tracker, "agent/24-other")
    other, login = second_identity(world)
    other.create_review(pr, "REQUEST_CHANGES", "add a test")
    other.create_review(pr, "APPROVE", "good now")
    assert [(r.author, r.state, r.body) for r in tracker.reviews(pr)] == [
        (login, "CHANGES_REQUESTED", "add a test"),
        (login, "APPROVED", "good now"),
    ]


def test_an_unknown_review_event_is_refused_before_any_request(
    world: World, tracker: Tracker
) -> None:
    pr = opened(world, tracker, "agent/25-event")
    with pytest.raises(ValueError, match="event must be one of"):
        tracker.create_review(pr, "DISMISS", "no")
    assert tracker.reviews(pr) == []


def test_a_pull_requests_body_is_edited_through_its_issue_number(
    world: World, tracker: Tracker
) -> None:
    """The risk tier's section is written with `update_issue` on the PR's number (GitHub's PATCH
    /issues/N edits a pull request's body too); the PR reads it back."""
    pr = opened(world, tracker, "agent/24-risk")
    body = "Closes #1\n\n<!-- agentos:risk -->\nRisk: **high**\n<!-- /agentos:risk -->\n"
    tracker.update_issue(IssueRef(pr.repo, pr.number), body=body)
    read = tracker.pull(pr.repo, pr.number)
    assert (read.body, read.title, read.head_sha) == (body, "verify me", pr.head_sha)

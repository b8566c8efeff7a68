"""The Tracker contract of what the improvement jobs read back and reopen: the issues they filed
(open, or closed since a date), reopening one, and the merged pull request that closed one.

One suite for the memory twin, GitHubTracker on the sandbox, and on GitHub when configured.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.model import IssueRef
from orchestrator.ports import Tracker
from tests.contract.worlds import World

SIGNATURE = "<!-- agentos:signature=0123456789abcdef -->"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_filed_issues_are_the_labelled_issues_open_or_closed_since_and_no_pulls(
    world: World, tracker: Tracker
) -> None:
    repo, label = world.new_repo(), unique("agentos:incident")
    since = datetime.now(UTC) - timedelta(minutes=5)
    open_one = tracker.create_issue(repo, " Crash on start ", f"Trace\n\n{SIGNATURE}", [label])
    closed = tracker.create_issue(repo, "Timeout", "", [label])
    tracker.close_issue(closed.ref, "not_planned")
    tracker.create_issue(repo, "Someone else's", "", ["bug"])
    branch = unique("agent/filed")
    world.push(repo, branch)
    pull = tracker.open_pull(repo, branch, "main", "a labelled pull", "")
    tracker.add_labels(IssueRef(repo, pull.number), [label])
    found = tracker.filed_issues(repo, label.upper(), since)
    assert [(f.number, f.title, f.is_open, f.state_reason) for f in found] == [
        (closed.number, "Timeout", False, "not_planned"),
        (open_one.number, "Crash on start", True, None),
    ]
    assert found[1].body == f"Trace\n\n{SIGNATURE}" and found[1].closed_at is None
    closed_at = found[0].closed_at
    assert closed_at is not None and closed_at.utcoffset() == timedelta(0)
    assert since <= closed_at <= datetime.now(UTC) + timedelta(minutes=1)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert [f.number for f in tracker.filed_issues(repo, label, later)] == [open_one.number]


def test_filed_issues_wants_an_aware_date_and_a_label(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    with pytest.raises(ValueError, match="timezone-aware"):
        tracker.filed_issues(repo, "agentos:incident", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="needs a label"):
        tracker.filed_issues(repo, "  ", datetime.now(UTC))


def test_reopening_opens_a_closed_issue_and_leaves_an_open_one_alone(
    world: World, tracker: Tracker
) -> None:
    repo, label = world.new_repo(), unique("agentos:incident")
    issue = tracker.create_issue(repo, "came back", "", [label])
    tracker.close_issue(issue.ref)
    tracker.reopen_issue(issue.ref)
    tracker.reopen_issue(issue.ref)
    read = tracker.issue(issue.ref)
    assert (read.is_open, read.state_reason) == (True, "reopened")
    [filed] = tracker.filed_issues(repo, label, datetime.now(UTC))
    assert (filed.is_open, filed.closed_at, filed.state_reason) == (True, None, "reopened")


def test_the_closer_is_the_merged_pull_request_that_named_the_issue(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    fixed = tracker.create_issue(repo, "fixed by a PR", "")
    by_hand = tracker.create_issue(repo, "closed by hand", "")
    abandoned = tracker.create_issue(repo, "a PR gave up", "")
    branch, other = unique("agent/fix"), unique("agent/no")
    world.push(repo, branch)
    world.push(repo, other)
    pr = tracker.open_pull(repo, branch, "main", "Fix it", f"Work.\n\nFixes #{fixed.number}")
    tracker.merge_pull(tracker.pull(repo, pr.number))
    tracker.close_pull(tracker.open_pull(repo, other, "main", "No", f"Closes #{abandoned.number}"))
    tracker.close_issue(by_hand.ref)
    assert tracker.closer(fixed.ref) == pr.number
    assert (tracker.closer(by_hand.ref), tracker.closer(abandoned.ref)) == (None, None)
    tracker.reopen_issue(fixed.ref)
    assert tracker.closer(fixed.ref) is None  # open again: nothing closed it
    tracker.close_issue(fixed.ref)
    assert tracker.closer(fixed.ref) is None  # the last close was by hand

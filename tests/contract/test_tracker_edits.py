"""The Tracker contract of what a plan import changes in place: an issue's title and body, and a
"blocked by" link taken away.

One suite for the memory twin, GitHubTracker on the sandbox, and on GitHub when configured.
"""

from __future__ import annotations

import pytest

from orchestrator.core.model import IssueRef
from orchestrator.errors import TrackerError
from orchestrator.ports import Tracker
from tests.contract.worlds import World


def test_update_issue_sets_what_it_is_given_and_leaves_the_rest(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "as filed", "first text", ["keep-me"])
    retitled = tracker.update_issue(issue.ref, title="  renamed  ")
    assert (retitled.title, retitled.body, retitled.labels) == (
        "renamed",
        "first text",
        ("keep-me",),
    )
    rewritten = tracker.update_issue(issue.ref, body="second text\n\n<!-- agentos:plan=a -->")
    assert (rewritten.title, rewritten.body) == (
        "renamed",
        "second text\n\n<!-- agentos:plan=a -->",
    )
    both = tracker.update_issue(issue.ref, title="both", body="third")
    read = tracker.issue(issue.ref)
    assert both == read
    assert (read.title, read.body, read.is_open, read.number) == (
        "both",
        "third",
        True,
        issue.number,
    )
    assert tracker.edited_at(issue.ref) is not None


def test_update_issue_with_nothing_to_change_returns_the_issue(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "untouched", "text")
    assert tracker.update_issue(issue.ref) == tracker.issue(issue.ref)
    assert tracker.edited_at(issue.ref) is None


def test_updating_an_issue_that_does_not_exist_names_it(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    with pytest.raises(TrackerError, match=f"{repo}#4242"):
        tracker.update_issue(IssueRef(repo, 4242), title="nothing there")


def test_remove_blocker_drops_one_link_and_a_missing_link_is_a_no_op(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    task, first, second, never = (
        tracker.create_issue(repo, title, "") for title in ("task", "first", "second", "never")
    )
    tracker.add_blocker(task.ref, first)
    tracker.add_blocker(task.ref, second)
    tracker.remove_blocker(task.ref, first)
    assert tracker.blocked_by(task.ref) == (second.ref,)
    tracker.remove_blocker(task.ref, first)  # gone already
    tracker.remove_blocker(task.ref, never)  # never there
    assert tracker.blocked_by(task.ref) == (second.ref,) == tracker.dependencies(task).blocked_by
    tracker.add_blocker(task.ref, first)  # and it can come back
    assert tracker.blocked_by(task.ref) == (second.ref, first.ref)


def test_removing_a_blocker_of_an_issue_that_does_not_exist_names_it(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    blocker = tracker.create_issue(repo, "blocker", "")
    with pytest.raises(TrackerError, match=f"{repo}#4242"):
        tracker.remove_blocker(IssueRef(repo, 4242), blocker)

"""The Tracker contract of pinning, as the planner pins its planning issue: pinned while one of
the repo's three pin slots is free, never by unpinning another.

One suite for the memory twin, GitHubTracker on the sandbox, and on GitHub when configured (a
throwaway repo's pins are taken away before and after each test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrator.core.model import IssueRef
from orchestrator.errors import TrackerError
from orchestrator.ports import Tracker
from tests.contract.worlds import World


@pytest.fixture
def repo(world: World) -> Iterator[str]:
    name = world.new_repo()
    world.unpin_all(name)
    yield name
    world.unpin_all(name)


def test_three_issues_pin_a_fourth_does_not_and_none_is_unpinned(
    tracker: Tracker, repo: str
) -> None:
    first, second, third, fourth = (tracker.create_issue(repo, f"pin {n}", "") for n in range(4))
    assert tracker.pin_issue(first.ref) is True
    assert tracker.pin_issue(first.ref) is True  # pinned already: fine, nothing to do
    assert tracker.pin_issue(second.ref) is tracker.pin_issue(third.ref) is True
    assert tracker.pin_issue(fourth.ref) is False  # the three slots are taken
    for issue in (first, second, third):  # still pinned: pinned already, even with no slot free
        assert tracker.pin_issue(issue.ref) is True
    assert tracker.pin_issue(fourth.ref) is False


def test_a_closed_issue_pins_and_a_pinned_one_stays_pinned_when_closed(
    tracker: Tracker, repo: str
) -> None:
    closed, pinned, filler = (tracker.create_issue(repo, f"issue {n}", "") for n in range(3))
    tracker.close_issue(closed.ref, "not_planned")
    assert tracker.pin_issue(closed.ref) is True
    assert tracker.pin_issue(pinned.ref) is True
    tracker.close_issue(pinned.ref)
    assert tracker.pin_issue(filler.ref) is True  # the third slot
    assert tracker.pin_issue(pinned.ref) is True  # closed, still holding its slot
    assert tracker.pin_issue(tracker.create_issue(repo, "late", "").ref) is False


def test_pinning_what_is_no_issue_names_it(world: World, tracker: Tracker, repo: str) -> None:
    with pytest.raises(TrackerError, match=f"{repo}#4242"):
        tracker.pin_issue(IssueRef(repo, 4242))
    branch = f"agent/pin-{uuid.uuid4().hex[:8]}"
    world.push(repo, branch)
    pull = tracker.open_pull(repo, branch, "main", "a pull request", "")
    with pytest.raises(TrackerError, match=f"{repo}#{pull.number}"):
        tracker.pin_issue(IssueRef(repo, pull.number))  # pull requests are not pinned

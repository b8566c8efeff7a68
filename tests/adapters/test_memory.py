"""The memory twin records what a job asked for as values.

Its behaviour is pinned by tests/contract.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_writes import (
    AddBlocker,
    AddLabels,
    CloseIssue,
    CreateIssue,
    DeleteBranch,
    MergePull,
    OpenPull,
    RemoveLabel,
    UpsertComment,
)
from orchestrator.core.markdown import defuse
from orchestrator.core.model import Check, CheckState, IssueRef
from orchestrator.errors import TrackerError

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def tracker() -> MemoryTracker:
    tracker = MemoryTracker(clock=lambda: T0)
    tracker.add_repo("acme/app")
    return tracker


def test_writes_are_recorded_as_values_in_order(tracker: MemoryTracker) -> None:
    task = tracker.add_issue("acme/app", "task", labels=["Ready"])
    blocker = tracker.add_issue("acme/app", "blocker")
    tracker.add_labels(task.ref, ["In-Progress"])
    tracker.remove_label(task.ref, "ready")
    tracker.add_blocker(task.ref, blocker)
    tracker.upsert_comment(task.ref, "<!-- m -->", "hello")
    tracker.close_issue(task.ref, reason="not_planned")
    assert tracker.writes == [
        AddLabels(task.ref, ("in-progress",)),
        RemoveLabel(task.ref, "ready"),
        AddBlocker(task.ref, blocker.ref),
        UpsertComment(task.ref, "<!-- m -->", "hello"),
        CloseIssue(task.ref, "not_planned"),
    ]


def test_seeding_is_not_a_write_but_creating_is(tracker: MemoryTracker) -> None:
    tracker.add_issue("acme/app", "seeded")
    made = tracker.create_issue("acme/app", "made", "", labels=["Bug"])
    assert tracker.writes == [CreateIssue("acme/app", "made", ("bug",))]
    assert (made.number, made.created_at, made.labels) == (2, T0, ("bug",))


def test_a_pull_lifecycle(tracker: MemoryTracker) -> None:
    issue = tracker.add_issue("acme/app", "fix")
    sha = tracker.push("acme/app", "agent/1-fix")
    pr = tracker.open_pull("acme/app", "agent/1-fix", "main", "Fix", "Fixes #1")
    tracker.add_check("acme/app", sha, Check("ci", CheckState.PENDING))
    tracker.add_check("acme/app", sha, Check("ci", CheckState.SUCCESS))
    assert tracker.checks("acme/app", sha) == [Check("ci", CheckState.SUCCESS)]
    tracker.merge_pull(pr)
    tracker.delete_branch("acme/app", "agent/1-fix")
    assert tracker.writes == [
        OpenPull("acme/app", "agent/1-fix", "main", "Fix"),
        MergePull("acme/app", pr.number),
        DeleteBranch("acme/app", "agent/1-fix"),
    ]
    assert not tracker.issue(issue.ref).is_open


@pytest.mark.parametrize(
    "body, closes",
    [
        ("Resolves GH-1", True),
        ("fixes: https://github.com/acme/app/issues/1", True),
        ("Closes acme/app#1", True),
        (defuse("Closes #1. Fixes acme/app#1. Resolves GH-1."), False),  # as Agent OS quotes
    ],
)
def test_a_merge_closes_what_githubs_closing_keywords_name(
    tracker: MemoryTracker, body: str, closes: bool
) -> None:
    issue = tracker.add_issue("acme/app", "target")
    tracker.push("acme/app", "agent/2-x")
    tracker.merge_pull(tracker.open_pull("acme/app", "agent/2-x", "main", "x", body))
    assert tracker.issue(issue.ref).is_open is not closes


def test_unknown_repositories_and_issues_are_tracker_errors(tracker: MemoryTracker) -> None:
    with pytest.raises(TrackerError, match="^acme/nope not found$"):
        tracker.open_issues("acme/nope")
    with pytest.raises(TrackerError, match=r"^acme/app#9 not found$"):
        tracker.issue(IssueRef("acme/app", 9))


def test_a_sub_issue_has_one_parent(tracker: MemoryTracker) -> None:
    first, second, child = (tracker.add_issue("acme/app", t) for t in ("first", "second", "child"))
    tracker.add_sub_issue(first.ref, child)
    with pytest.raises(TrackerError, match="already has a parent"):
        tracker.add_sub_issue(second.ref, child)

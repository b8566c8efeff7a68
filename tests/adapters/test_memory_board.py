"""The memory board twins record writes as values.

Their behaviour is pinned by tests/contract/test_board*.py.
"""

from __future__ import annotations

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import (
    AddItem,
    CreateProject,
    LinkProject,
    MemoryBoard,
    MemoryBoardAdmin,
    SetOptions,
    SetStatus,
)
from orchestrator.core.model import BoardStatus, Dependencies
from orchestrator.errors import TrackerError


@pytest.fixture
def tracker() -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.add_repo("acme/app")
    return tracker


def test_board_writes_are_recorded_and_seeding_is_not(tracker: MemoryTracker) -> None:
    board = MemoryBoard(tracker)
    seeded = board.place(tracker.add_issue("acme/app", "seeded"), BoardStatus.READY)
    issue = tracker.add_issue("acme/app", "added")
    item = board.add(issue)
    board.set_status(item, BoardStatus.IN_PROGRESS)
    assert board.writes == [AddItem(issue.ref), SetStatus(issue.ref, BoardStatus.IN_PROGRESS)]
    assert [(i.issue, i.status) for i in board.items()] == [
        (seeded.issue, BoardStatus.READY),
        (issue.ref, BoardStatus.IN_PROGRESS),
    ]


def test_only_ready_open_issues_carry_dependencies(tracker: MemoryTracker) -> None:
    board = MemoryBoard(tracker)
    blocker, ready = (
        tracker.add_issue("acme/app", "blocker"),
        tracker.add_issue("acme/app", "ready"),
    )
    tracker.add_blocker(ready.ref, blocker)
    board.place(ready, BoardStatus.READY)
    board.place(blocker, BoardStatus.BACKLOG)
    first, second = board.items()
    assert first.dependencies == Dependencies(blocked_by=(blocker.ref,))
    assert second.dependencies is None and second.content == blocker


def test_a_renamed_board_spells_its_options_its_way(tracker: MemoryTracker) -> None:
    board = MemoryBoard(tracker, names={**MemoryBoard(tracker).names, BoardStatus.READY: "Todo"})
    item = board.set_status(board.add(tracker.add_issue("acme/app", "t")), BoardStatus.READY)
    assert (item.status, item.status_name) == (BoardStatus.READY, "Todo")


def test_admin_writes_and_a_board_without_the_option_refuses(tracker: MemoryTracker) -> None:
    admin = MemoryBoardAdmin(tracker)
    project = admin.find_or_create("acme", "Agent OS")
    assert admin.find_or_create("acme", "Agent OS") == project
    board = admin.board(project, "acme/app")
    item = board.add(tracker.add_issue("acme/app", "t"))
    with pytest.raises(TrackerError, match="no Status option named 'Ready'"):
        board.set_status(item, BoardStatus.READY)
    admin.ensure_statuses(project)
    admin.ensure_statuses(project)
    admin.link(project, "acme/app")
    assert board.set_status(item, BoardStatus.READY).status is BoardStatus.READY
    assert admin.writes[:2] == [CreateProject("acme", "Agent OS"), AddItem(item.issue)]
    assert admin.writes[3:] == [
        SetOptions(
            "acme", 1, ("Todo", "In Progress", "Done", "Backlog", "Ready", "In Review", "Blocked")
        ),
        LinkProject("acme", 1, "acme/app"),
        SetStatus(item.issue, BoardStatus.READY),
    ]

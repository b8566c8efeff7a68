"""One contract for every Board: the memory twin, a Projects board and `status:*` labels.

The Projects board goes through gql; it and the labels run on the sandbox and on GitHub.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.core.model import BoardItem, BoardStatus, Dependencies, Issue
from orchestrator.ports import Board
from tests.contract.board_worlds import BoardWorld


def mine(
    board: Board, *issues: Issue, detail: tuple[BoardStatus, ...] = (BoardStatus.READY,)
) -> list[BoardItem]:
    """Return the board's items for these issues, in the order given.

    A live board holds other issues too.
    """
    found = {item.issue: item for item in board.items(detail)}
    return [found[issue.ref] for issue in issues if issue.ref in found]


def same_issue(seen: Issue | None, fresh: Issue) -> bool:
    """Return whether the board's snapshot is the tracker's issue.

    Labels are compared as a set: APIs order them apart.
    """
    return (
        seen is not None
        and replace(seen, labels=()) == replace(fresh, labels=())
        and set(seen.labels) == set(fresh.labels)
    )


def test_an_added_issue_is_listed_with_its_content_and_no_status(board_world: BoardWorld) -> None:
    repo = board_world.new_repo()
    board = board_world.board(repo)
    issue = board_world.tracker.create_issue(
        repo, "  Add a thing ", "Body\n\nDepends on #1", labels=["Bug", "api"]
    )
    added = board.add(issue)
    [item] = mine(board, issue)
    assert (added.issue, added.status, item.issue, item.status, item.item_id) == (
        issue.ref,
        None,
        issue.ref,
        None,
        added.item_id,
    )
    assert same_issue(item.content, board_world.tracker.issue(issue.ref))
    assert item.content is not None and (item.content.title, item.content.author) == (
        "Add a thing",
        board_world.login,
    )


def test_adding_an_issue_twice_keeps_one_item(board_world: BoardWorld) -> None:
    repo = board_world.new_repo()
    board = board_world.board(repo)
    issue = board_world.tracker.create_issue(repo, "once", "")
    first = board.set_status(board.add(issue), BoardStatus.BACKLOG)
    again = board.add(issue)
    assert (again.item_id, again.status) == (first.item_id, BoardStatus.BACKLOG)
    assert [i.issue for i in board.items() if i.issue == issue.ref] == [issue.ref]


@pytest.mark.parametrize("status", list(BoardStatus))
def test_every_status_round_trips(board_world: BoardWorld, status: BoardStatus) -> None:
    repo = board_world.new_repo()
    board = board_world.board(repo)
    issue = board_world.tracker.create_issue(repo, f"to {status.value}", "")
    moved = board.set_status(board.add(issue), status)
    [item] = mine(board, issue)
    assert (moved.status, item.status, item.status_name) == (status, status, moved.status_name)


def test_moving_leaves_the_item_in_one_status(board_world: BoardWorld) -> None:
    repo = board_world.new_repo()
    board = board_world.board(repo)
    issue = board_world.tracker.create_issue(repo, "moving", "")
    item = board.add(issue)
    for status in (
        BoardStatus.READY,
        BoardStatus.IN_PROGRESS,
        BoardStatus.READY,
        BoardStatus.IN_REVIEW,
    ):
        item = board.set_status(item, status)
    [read] = mine(board, issue)
    assert read.status is BoardStatus.IN_REVIEW
    # the label board: one status label left
    if read.status_name and read.status_name.startswith("status:"):
        labels = board_world.tracker.issue(issue.ref).labels
        assert [n for n in labels if n.startswith("status:")] == ["status:in-review"]


def test_ready_issues_carry_their_dependencies_and_others_do_not(board_world: BoardWorld) -> None:
    repo, tracker = board_world.new_repo(), board_world.tracker
    board = board_world.board(repo)
    epic, task, blocker, child = (
        tracker.create_issue(repo, title, "") for title in ("epic", "task", "blocker", "child")
    )
    tracker.add_sub_issue(epic.ref, task)
    tracker.add_sub_issue(task.ref, child)
    tracker.add_blocker(task.ref, blocker)
    board.set_status(board.add(task), BoardStatus.READY)
    board.set_status(board.add(blocker), BoardStatus.BACKLOG)
    ready, backlog = mine(board, task, blocker)
    assert ready.dependencies == Dependencies(
        blocked_by=(blocker.ref,), sub_issues=(child.ref,), parent=epic.ref
    )
    assert ready.dependencies == tracker.dependencies(task)
    assert backlog.dependencies is None and same_issue(backlog.content, tracker.issue(blocker.ref))
    [detailed] = mine(board, blocker, detail=(BoardStatus.BACKLOG,))
    assert detailed.dependencies == Dependencies()


def test_the_content_is_the_issue_as_it_is_now(board_world: BoardWorld) -> None:
    repo, tracker = board_world.new_repo(), board_world.tracker
    board = board_world.board(repo)
    issue = tracker.create_issue(repo, "changes", "")
    board.set_status(board.add(issue), BoardStatus.READY)
    tracker.add_labels(issue.ref, ["prio:high"])
    [item] = mine(board, issue)
    assert item.content is not None and "prio:high" in item.content.labels
    assert same_issue(item.content, tracker.issue(issue.ref))


def test_a_closed_issue_is_no_open_work_and_carries_no_dependencies(
    board_world: BoardWorld,
) -> None:
    repo, tracker = board_world.new_repo(), board_world.tracker
    board = board_world.board(repo)
    issue = tracker.create_issue(repo, "finished", "")
    board.set_status(board.add(issue), BoardStatus.READY)
    tracker.close_issue(issue.ref)
    listed = mine(board, issue)
    assert all(
        i.content is not None and not i.content.is_open and i.dependencies is None for i in listed
    )


def test_items_read_every_page(board_world: BoardWorld) -> None:
    repo, tracker = board_world.new_repo(), board_world.tracker
    board = board_world.board(repo, page_size=5)
    issues = [tracker.create_issue(repo, f"issue {n}", "") for n in range(12)]
    for n, issue in enumerate(issues):
        item = board.add(issue)
        if n % 3 == 0:
            board.set_status(item, BoardStatus.READY)
    items = mine(board, *issues)
    assert [i.issue for i in items] == [i.ref for i in issues]
    assert [i.status for i in items] == [
        BoardStatus.READY if n % 3 == 0 else None for n in range(12)
    ]

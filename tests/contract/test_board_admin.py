"""One contract for BoardAdmin, what `agentos init` does to a board.

It runs on the memory twin and the sandbox.
"""

from __future__ import annotations

import uuid

import pytest

from orchestrator.core.board import LABEL_COLOURS, status_names
from orchestrator.core.model import BoardStatus
from orchestrator.errors import TrackerError
from orchestrator.ports import BoardAdmin
from tests.contract.board_worlds import BoardWorld


def admin_of(world: BoardWorld) -> BoardAdmin:
    assert world.admin is not None
    return world.admin


def test_find_or_create_finds_the_board_it_made(admin_world: BoardWorld) -> None:
    admin, title = admin_of(admin_world), f"Agent OS {uuid.uuid4().hex[:6]}"
    made = admin.find_or_create(admin_world.login, title)
    again = admin.find_or_create(admin_world.login, title)
    other = admin.find_or_create(admin_world.login, title + " (2)")
    assert again == made == admin.project(admin_world.login, made.number)
    assert (made.owner, made.title) == (admin_world.login, title) and other.number != made.number


def test_a_missing_board_is_named(admin_world: BoardWorld) -> None:
    with pytest.raises(TrackerError, match=f"board {admin_world.login}/9999 not found"):
        admin_of(admin_world).project(admin_world.login, 9999)


def test_statuses_are_added_and_every_item_keeps_its_status(admin_world: BoardWorld) -> None:
    """GitHub drops the value of every item whose option is sent back without its id.

    None may be lost.
    """
    admin, repo = admin_of(admin_world), admin_world.new_repo()
    project = admin_world.new_project()
    todo_board = admin_world.board_on(project, repo, names=status_names({"ready": "Todo"}))
    issues = [
        admin_world.tracker.create_issue(repo, title, "") for title in ("todo", "doing", "done")
    ]
    for issue, status in zip(
        issues, (BoardStatus.READY, BoardStatus.IN_PROGRESS, BoardStatus.DONE), strict=True
    ):
        todo_board.set_status(todo_board.add(issue), status)
    field = admin.ensure_statuses(project)
    assert set(field.options) == set(BoardStatus)
    assert admin.ensure_statuses(project) == field
    by_issue = {item.issue: item for item in todo_board.items()}
    assert [by_issue[i.ref].status_name for i in issues] == ["Todo", "In Progress", "Done"]
    default = {item.issue: item.status for item in admin_world.board_on(project, repo).items()}
    assert [default[i.ref] for i in issues] == [None, BoardStatus.IN_PROGRESS, BoardStatus.DONE]


def test_renamed_statuses_use_the_options_the_board_has(admin_world: BoardWorld) -> None:
    admin = admin_of(admin_world)
    project = admin_world.new_project()
    names = status_names({"ready": "Todo"})
    field = admin.ensure_statuses(project, names)
    assert set(field.options) == set(BoardStatus)
    assert field == admin.ensure_statuses(project, names)
    assert len(set(field.options.values())) == 6


def test_linking_twice_links_once(admin_world: BoardWorld) -> None:
    admin, repo = admin_of(admin_world), admin_world.new_repo()
    project = admin_world.new_project()
    admin.link(project, repo)
    admin.link(project, repo)
    with pytest.raises(TrackerError, match="not found"):
        admin.link(project, f"{admin_world.login}/no-such-repo-{uuid.uuid4().hex[:6]}")


def test_status_labels_are_created_in_their_colours_and_never_recoloured(
    admin_world: BoardWorld,
) -> None:
    admin, repo = admin_of(admin_world), admin_world.new_repo()
    admin_world.tracker.ensure_labels(repo, {"status:ready": "000000"})
    admin.ensure_status_labels(repo)
    admin.ensure_status_labels(repo)
    issue = admin_world.tracker.create_issue(
        repo, "labelled", "", labels=[s.label for s in BoardStatus]
    )
    assert set(admin_world.tracker.issue(issue.ref).labels) == {s.label for s in BoardStatus}
    assert LABEL_COLOURS[BoardStatus.READY] != "000000"

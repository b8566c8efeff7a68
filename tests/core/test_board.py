"""Status names per board, `status:*` labels, and the Status options a board must end up with."""

from __future__ import annotations

import pytest

from orchestrator.core.board import (
    DEFAULT_NAMES,
    Option,
    options_to_send,
    status_for,
    status_from_labels,
    status_names,
)
from orchestrator.core.model import BoardStatus


def test_renames_replace_only_the_statuses_they_name() -> None:
    names = status_names({"ready": " Todo ", "In_Progress": "Doing"})
    assert names[BoardStatus.READY] == "Todo"
    assert names[BoardStatus.IN_PROGRESS] == "Doing"
    assert names[BoardStatus.DONE] == "Done"


@pytest.mark.parametrize(
    "renames, error",
    [
        (
            {"todo": "Todo"},
            "unknown status 'todo' (known: backlog, ready, in_progress, in_review, blocked, done)",
        ),
        ({"ready": "  "}, "the name for 'ready' is empty"),
        ({"ready": "done"}, "ready and done are both named 'Done'"),
    ],
)
def test_bad_renames_are_refused_naming_the_problem(renames: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError) as raised:
        status_names(renames)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    "option, status",
    [
        ("Ready", BoardStatus.READY),
        ("in  progress", BoardStatus.IN_PROGRESS),
        (" IN REVIEW ", BoardStatus.IN_REVIEW),
        ("Todo", None),
        (None, None),
    ],
)
def test_option_names_match_whatever_their_case_and_spacing(
    option: str | None, status: BoardStatus | None
) -> None:
    assert status_for(option, DEFAULT_NAMES) is status


@pytest.mark.parametrize(
    "labels, status",
    [
        ((), None),
        (("bug",), None),
        (("status:ready",), BoardStatus.READY),
        ((" Status:Ready ", "status:in-progress"), BoardStatus.IN_PROGRESS),
        (("status:blocked", "status:ready"), BoardStatus.BLOCKED),
        (("status:done", "status:backlog"), BoardStatus.DONE),
    ],
)
def test_labels_give_the_status_furthest_along(
    labels: tuple[str, ...], status: BoardStatus | None
) -> None:
    assert status_from_labels(labels) is status


def test_a_board_missing_statuses_keeps_every_option_and_its_id_and_gains_the_rest() -> None:
    existing = [
        Option("Todo", "GREEN", "mine", "a1"),
        Option("in progress", "YELLOW", "", "b2"),
        Option("Done", "PURPLE", "", "c3"),
    ]
    sent = options_to_send(existing, DEFAULT_NAMES)
    assert sent is not None and sent[:3] == existing
    assert [(o.name, o.id) for o in sent[3:]] == [
        ("Backlog", None),
        ("Ready", None),
        ("In Review", None),
        ("Blocked", None),
    ]


def test_a_board_with_every_status_needs_no_change() -> None:
    existing = [Option(name, "GRAY", "", str(n)) for n, name in enumerate(DEFAULT_NAMES.values())]
    assert options_to_send(existing, DEFAULT_NAMES) is None
    renamed = status_names({"ready": "Todo"})
    assert [o.name for o in options_to_send(existing, renamed) or []][-1] == "Todo"

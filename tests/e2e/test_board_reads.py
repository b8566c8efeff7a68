"""The dispatcher reads a Projects board in full only when something it acts on changed.

Between full reads a tick takes the board's stamp through REST with ETags (304s, free) and ends
at once (`board.unchanged`) when nothing changed; every change a person or GitHub makes to the
board or its issues still reaches the next tick.
"""

from __future__ import annotations

import json

import pytest

from orchestrator.core.model import BoardStatus
from tests.e2e.conftest import World, repo_entry

APP = "acme/app"


def _board_world(world: World, **extra: object) -> None:
    project = world.add_board(APP, "Delivery")
    world.configure(
        [repo_entry("app", APP, board={"owner": "acme", "number": project.number})],
        limits={"max_parallel_workers": 1, "max_attempts": 3, "stall_minutes": 1},
        **extra,
    )


def _tick(world: World) -> tuple[bool, int]:
    """Run a dispatcher tick; return (it read the board in full, GraphQL requests it sent)."""
    before = len(world.sandbox.requests)
    unchanged = len(world.events("dispatcher", "board.unchanged"))
    assert world.run("dispatcher") == 0
    sent = world.sandbox.requests[before:]
    graphql = sum(1 for r in sent if r.path.startswith("/api/graphql"))
    return len(world.events("dispatcher", "board.unchanged")) == unchanged, graphql


def _settle(world: World) -> None:
    """Tick until a tick reads nothing (its own moves of the last tick seen once)."""
    for _ in range(3):
        full, _ = _tick(world)
        if not full:
            return
    raise AssertionError("the dispatcher never found its board unchanged")


def test_an_idle_board_costs_no_graphql_and_every_change_is_still_seen(world: World) -> None:
    _board_world(world)
    first = world.issue(APP, "First")
    waiting = world.issue(APP, "Second", status=BoardStatus.BACKLOG)
    assert _tick(world)[0]  # the first tick reads: it has no stamp yet
    assert world.mailbox("inbox") and first.number  # queued the Ready issue
    _settle(world)
    full, graphql = _tick(world)
    assert (full, graphql) == (False, 0)
    # a person moves a card: seen at once
    board = world.board(APP)
    item = next(i for i in board.items(detail=()) if i.issue == waiting.ref)
    board.set_status(item, BoardStatus.READY)
    full, graphql = _tick(world)
    assert full and graphql >= 1
    _settle(world)
    # an issue's content changes without its card moving (a label): seen too
    world.tracker.add_labels(waiting.ref, ["prio:high"])
    assert _tick(world)[0]


def test_a_webhook_tick_reads_in_full_even_when_nothing_seems_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _board_world(world)
    world.issue(APP, "First")
    _tick(world)
    _settle(world)
    monkeypatch.setenv("AGENTOS_WAKE", "webhook issues.closed")
    world.env["AGENTOS_WAKE"] = "webhook issues.closed"
    assert _tick(world)[0]


def test_the_board_is_read_in_full_when_the_config_or_its_switches_change(world: World) -> None:
    _board_world(world)
    world.issue(APP, "First")
    _tick(world)
    _settle(world)
    _board_world(world, dispatcher={"full_read_minutes": 5})  # another board, another config
    assert _tick(world)[0]


def test_a_damaged_record_of_the_last_read_means_a_full_read_not_a_crash(world: World) -> None:
    _board_world(world)
    world.issue(APP, "First")
    _tick(world)
    _settle(world)
    record = world.root / "runtime" / "state" / "board_reads.memo.json"
    assert json.loads(record.read_text())["boards"]["app"].startswith("users/")
    record.write_bytes(b"\x00{ not json")
    assert _tick(world)[0]
    assert not _tick(world)[0] or not _tick(world)[0]  # and it settles again


def test_a_board_whose_rest_listing_fails_is_read_in_full_every_tick(world: World) -> None:
    """A GitHub without the REST Projects API (an older Enterprise Server answers 404)."""
    _board_world(world)
    world.issue(APP, "First")
    _tick(world)
    _settle(world)
    world.sandbox.add_fault(
        "error", path="/api/v3/users/*/projectsV2/*/items", status=404, times=100
    )
    assert _tick(world)[0]
    assert _tick(world)[0]

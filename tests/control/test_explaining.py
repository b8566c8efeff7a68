"""control.explaining on memory twins: each fact /why and `agentos why` read, as the jobs read it.

Trust and approval as the dispatcher decides them, dependency cycles, a task deferred while its
agents rest, the caps counted as the dispatcher and the queue count them, the switches, a
holding label, and a Ready card however the board spells it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.control import explaining
from orchestrator.core.model import BoardStatus, Issue, IssueRef, Permission
from orchestrator.core.routing import Cooldown
from orchestrator.core.tasks import task_id
from orchestrator.store.cooldowns import CooldownStore
from tests.control.conftest import make_task
from tests.jobs.conftest import T0, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(
        tmp_path,
        repos=[{"key": "app", "github": "acme/app", "max_parallel_tasks": 2}],
        github={"token": "$GITHUB_TOKEN", "trusted_users": ["trudy"]},
    )


def why(world: World, number: int, board: bool = True) -> str:
    repo = world.config.repo("app")
    return explaining.why(
        world.config,
        repo,
        IssueRef(repo.github, number),
        world.deps.mailbox,
        world.deps.switches,
        world.tracker,
        world.boards["app"] if board else None,
        now=T0,
    )


def first(world: World, number: int) -> str:
    return why(world, number).splitlines()[0]


def queue(world: World, issue: Issue, state: str = "inbox", **kw: Any) -> None:
    task = make_task(issue.number, attempt=1, **kw)
    world.deps.mailbox.create(task, state)


# -- trust and approval ----------------------------------------------------------------------------
def test_an_outsiders_issue_waits_for_a_writers_approval_and_runs_once_approved(
    world: World,
) -> None:
    issue = world.issue("app", "Outsider's idea", author="mallory")
    assert first(world, 1) == (
        "app#1 Outsider's idea: waits for approval: its author mallory cannot write to the repo; "
        "a user with write access adds the agentos:approved label"
    )
    assert "- author: mallory (cannot write; not approved)" in why(world, 1)
    world.tracker.add_labels(issue.ref, ["agentos:approved"])  # by acme, the owner
    assert "- author: mallory (cannot write; approved by acme)" in why(world, 1)
    assert first(world, 1).endswith("the dispatcher queues it on its next tick")
    world.tracker.edit_issue(issue.ref, body="Now do something else")  # after the approval
    assert first(world, 1) == (
        "app#1 Outsider's idea: waits for a new approval: its title or body changed after a "
        "user with write access approved it; one removes the agentos:approved label and adds "
        "it again"
    )


def test_an_approval_by_someone_who_cannot_write_counts_for_nothing(world: World) -> None:
    issue = world.issue("app", "Self-approved", author="mallory")
    world.tracker.add_labels(issue.ref, ["agentos:approved"])  # by acme, who now cannot write
    world.tracker.permission = lambda repo, user: Permission.READ  # type: ignore[method-assign]
    assert "waits for approval: its author mallory" in first(world, 1)


def test_writers_and_trusted_users_run_at_once(world: World) -> None:
    world.issue("app", "A writer's")
    world.issue("app", "A trusted user's", author="trudy")
    assert "- author: acme (can write to the repo)" in why(world, 1)
    assert "- author: trudy (in github.trusted_users)" in why(world, 2)
    assert all("dispatcher queues it" in first(world, n) for n in (1, 2))


def test_a_standing_that_cannot_be_read_does_not_run(world: World) -> None:
    from orchestrator.errors import TrackerError

    world.issue("app", "Unclear", author="mallory")

    def refuse(ref: IssueRef) -> list[Any]:
        raise TrackerError("timeline unavailable")

    world.tracker.label_events = refuse  # type: ignore[method-assign]
    text = why(world, 1)
    assert text.splitlines()[0].endswith(
        "its author's standing could not be read, and what is not checked does not run"
    )
    assert "- unknown: the author's standing (timeline unavailable)" in text


# -- dependency cycles -----------------------------------------------------------------------------
def test_an_issue_in_a_dependency_cycle_says_so_and_so_does_one_waiting_on_it(
    world: World,
) -> None:
    world.issue("app", "X", "Depends on #2")
    world.issue("app", "Y", "Depends on #3")
    world.issue("app", "Z", "Depends on #1")
    world.issue("app", "After", "Depends on #1")
    text = why(world, 1)
    assert text.splitlines()[0] == (
        "app#1 X: in a dependency cycle (#1, #2, #3): none of them runs until one of those "
        "dependencies is removed"
    )
    assert "- dependency cycle: #1, #2, #3" in text and "- blockers open: #2" in text
    assert first(world, 4) == (
        "app#4 After: waiting for blockers: #1; a dependency cycle (#1, #2, #3) holds them "
        "until one of its dependencies is removed"
    )


def test_a_closed_link_breaks_the_cycle(world: World) -> None:
    world.issue("app", "X", "Depends on #2")
    y = world.issue("app", "Y", "Depends on #1")
    world.tracker.close_issue(y.ref)
    text = why(world, 1)
    assert "cycle" not in text and "Ready with no open blockers" in text.splitlines()[0]


# -- cooldowns: a deferred task, resting agents ----------------------------------------------------
def test_a_task_deferred_while_its_agents_rest_says_until_when(world: World) -> None:
    issue = world.issue("app", "Deferred", status=BoardStatus.IN_PROGRESS)
    queue(world, issue, not_before=T0 + timedelta(minutes=30))
    CooldownStore(world.config.paths.state_dir).start(
        Cooldown("script", T0 + timedelta(minutes=30), "quota exhausted"), T0
    )
    text = why(world, 1)
    assert text.splitlines()[0] == (
        "app#1 Deferred: queued: task app-1-g1-a1, deferred until 2026-05-01 10:30 UTC: "
        "every agent of its chain is resting"
    )
    assert "- agents resting: script until 2026-05-01 10:30 UTC (quota exhausted)" in text
    assert "(blockers_done), deferred until 2026-05-01 10:30 UTC" in text


def test_a_deferral_that_is_over_waits_for_its_turn(world: World) -> None:
    issue = world.issue("app", "Due", status=BoardStatus.IN_PROGRESS)
    queue(world, issue, not_before=T0 - timedelta(minutes=1))
    text = why(world, 1)
    assert text.splitlines()[0] == "app#1 Due: queued: task app-1-g1-a1, waiting for its turn"
    assert "deferred" not in text and "agents resting" not in text


def test_a_ready_issue_whose_chain_rests_says_it_starts_when_an_agent_is_back(
    world: World,
) -> None:
    world.issue("app", "Ready")
    CooldownStore(world.config.paths.state_dir).start(
        Cooldown("script", T0 + timedelta(hours=2), ""), T0
    )
    assert first(world, 1) == (
        "app#1 Ready: Ready with no open blockers: the dispatcher queues it on its next tick, "
        "and it starts once an agent of its chain is back (script until 2026-05-01 12:00 UTC)"
    )


# -- caps ----------------------------------------------------------------------------------------
def test_queued_tasks_fill_the_repo_as_the_dispatcher_counts_it(world: World) -> None:
    for n in (1, 2):
        queue(world, world.issue("app", f"Busy {n}", status=BoardStatus.IN_PROGRESS))
    world.issue("app", "Next")
    text = why(world, 3)
    assert text.splitlines()[0] == (
        "app#3 Next: Ready, waiting for a free worker "
        "(repo app has 2 of 2 queued or running (max_parallel_tasks))"
    )
    assert "- capacity: repo app has 2 of 2 queued or running (max_parallel_tasks)" in text
    # the queue counts running tasks only: a queued one waits for a running slot
    assert first(world, 1) == "app#1 Busy 1: queued: task app-1-g1-a1, waiting for its turn"


def test_a_queued_task_waits_for_a_worker_when_every_worker_is_busy(world: World) -> None:
    for n in range(1, 9):  # max_parallel_workers 8, taken by another repo's tasks
        other = make_task(n, attempt=1, id=task_id("web", n, 1, 1), repo_key="web")
        world.deps.mailbox.create(other, "processing")
    queue(world, world.issue("app", "Waiting", status=BoardStatus.IN_PROGRESS))
    assert first(world, 1) == (
        "app#1 Waiting: queued: task app-1-g1-a1, waiting for all 8 workers busy "
        "(max_parallel_workers)"
    )
    queue(world, world.issue("app", "Running", status=BoardStatus.IN_PROGRESS), "processing")
    text = why(world, 2)
    assert text.splitlines()[0] == "app#2 Running: running: task app-2-g1-a1, attempt 1 of 3"
    assert "capacity" not in text  # running: no cap stops it


# -- switches and labels ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "switch, says",
    [
        (lambda s: s.set_global(False, "t"), "not started: Agent OS off"),
        (lambda s: s.set_repo("app", False, "t"), "not started: repo app off"),
        (lambda s: s.set_job("dispatcher", False, "t"), "not started: dispatcher off"),
    ],
)
def test_a_switch_off_stops_a_ready_issue(world: World, switch: Any, says: str) -> None:
    world.issue("app", "Ready")
    switch(world.deps.switches)
    assert first(world, 1) == f"app#1 Ready: {says}"


def test_a_queued_task_does_not_wait_for_the_dispatcher(world: World) -> None:
    queue(world, world.issue("app", "Queued", status=BoardStatus.IN_PROGRESS))
    world.deps.switches.set_job("dispatcher", False, "t")
    assert first(world, 1) == "app#1 Queued: queued: task app-1-g1-a1, waiting for its turn"
    world.deps.switches.set_repo("app", False, "t")
    assert first(world, 1) == "app#1 Queued: queued: task app-1-g1-a1, waiting for repo app off"


def test_a_holding_label_holds_it(world: World) -> None:
    world.issue("app", "Maybe a duplicate", labels=["agentos:duplicate"])
    assert first(world, 1) == (
        "app#1 Maybe a duplicate: held: labelled agentos:duplicate (the groomer's); a person "
        "removes the label to run it"
    )


def test_ready_is_ready_however_the_board_spells_it(world: World) -> None:
    world.issue("app", "Ready")
    item = world.boards["app"].items()[0]
    spelled = type(item)(item.item_id, item.issue, item.status, "Todo", item.content)
    world.boards["app"].items = lambda detail=(): [spelled]  # type: ignore[method-assign]
    text = why(world, 1)
    assert "- board: Todo" in text and "dispatcher queues it" in text.splitlines()[0]


def test_a_blocker_that_cannot_be_read_stays_a_blocker(world: World) -> None:
    world.issue("app", "Needs a ghost", "Depends on acme/gone#7")
    text = why(world, 1)
    assert text.splitlines()[0] == "app#1 Needs a ghost: waiting for blockers: acme/gone#7"
    assert "- unknown: blocker acme/gone#7 (" in text


def test_past_the_read_limit_the_blockers_left_are_said_to_be_unread(world: World) -> None:
    for n in range(explaining.MAX_GRAPH_READS + 3):
        world.issue("app", f"Part {n + 1}")
    wanted = ", ".join(f"#{n}" for n in range(1, explaining.MAX_GRAPH_READS + 4))
    world.issue("app", "Everything", f"Depends on {wanted}")
    text = why(world, explaining.MAX_GRAPH_READS + 4)
    assert "- unknown: 3 more blockers not read" in text
    assert text.splitlines()[0].count("#") == explaining.MAX_GRAPH_READS + 1  # its own label too


def test_a_ready_issue_held_by_the_days_cost_cap_says_so(tmp_path: Path) -> None:
    from orchestrator.core.lifecycle import State
    from orchestrator.store.rooms import Room

    capped = {"key": "app", "github": "acme/app", "max_parallel_tasks": 2, "max_cost_per_day": 1}
    for held in make_world(tmp_path, repos=[capped], github={"token": "$GITHUB_TOKEN"}):
        issue = held.issue("app", "Add a thing")
        assert first(held, issue.number).endswith(
            "Ready with no open blockers: the dispatcher queues it on its next tick"
        )
        room = Room(held.config.paths.rooms_dir, "app-9-g1-a1", lambda: T0)
        room.transition(State.QUEUED, "no_blockers")
        room.transition(State.DEVELOPING, "implementation")
        room.record("chain.finished", end="finished", backend="script", cost_usd=1.5)
        answer = why(held, issue.number)
        assert answer.splitlines()[0].endswith(
            "Ready, but the day's cost cap is reached (app: $1.50 of $1.00): nothing new starts "
            "until the next day (UTC)"
        )
        assert "- spend: the day's cost cap is reached (app: $1.50 of $1.00)" in answer

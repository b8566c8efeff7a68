"""The queue supervisor on fake worker processes.

Claims always carry a beat, dead workers' tasks come back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.core.tasks import MailboxState, Task, TaskType, task_id
from orchestrator.jobs import queue
from orchestrator.store import rooms
from tests.jobs.conftest import T0, World, make_world


class FakeWorkers:
    """Workers that never run: each spawn checks the claim already beats, and gets a made-up pid."""

    def __init__(self, rooms_dir: Path, refusal: str | None = None) -> None:
        self.rooms_dir = rooms_dir
        self.alive: set[int] = set()
        self.beats_at_spawn: list[int | None] = []
        self.refused = refusal

    def refusal(self) -> str | None:
        return self.refused

    def spawn(self, task: str) -> int:
        self.beats_at_spawn.append(rooms.heartbeat_pid(self.rooms_dir / task))
        pid = 100_000 + len(self.beats_at_spawn)
        self.alive.add(pid)
        return pid

    def exited(self, pid: int) -> bool:
        return pid not in self.alive

    def end_agent(self, pid: int, worktree: str) -> bool:
        return False

    def stop(self, pid: int, task_id: str) -> bool:
        return False


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _task(number: int) -> Task:
    return Task(
        id=task_id("app", number, 1, 1),
        repo_key="app",
        repo="acme/app",
        issue=number,
        title="T",
        branch=f"agent/{number}-t",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=1,
        max_attempts=3,
        generation=1,
        priority=1,
        created_at=T0,
    )


def test_a_claimed_task_beats_before_its_worker_starts_and_then_names_the_worker(
    world: World,
) -> None:
    workers = FakeWorkers(world.config.paths.rooms_dir)
    world.deps.workers = workers
    world.deps.mailbox.create(_task(1))
    running: dict[str, int] = {}
    assert queue._start(world.deps, world.config, running) == 1
    assert workers.beats_at_spawn[0] is not None  # the supervisor's own beat covers the start-up
    assert (
        rooms.heartbeat_pid(world.config.paths.rooms_dir / "app-1-g1-a1") == running["app-1-g1-a1"]
    )


def test_where_agents_cannot_be_confined_the_queue_starts_nothing_and_says_why_once(
    world: World,
) -> None:
    why = "agents cannot be confined here: bwrap cannot start a confined process (EPERM)"
    workers = FakeWorkers(world.config.paths.rooms_dir, refusal=why)
    world.deps.workers = workers
    world.deps.mailbox.create(_task(1))
    counts = queue.run(world.deps, world.config, T0)
    assert counts["started"] == 0 and workers.beats_at_spawn == []
    assert world.deps.mailbox.locate("app-1-g1-a1") == "inbox"
    lines = (world.config.paths.logs_dir / "dispatcher.jsonl").read_text().splitlines()
    said = [json.loads(line) for line in lines if "queue.isolation_unavailable" in line]
    assert len(said) == 1 and said[0]["reason"] == why
    assert "agents.isolation: none" in said[0]["hint"] and said[0]["level"] == "error"


def test_another_supervisor_leaves_a_task_alone_while_its_worker_lives(world: World) -> None:
    """Before claims beat at once, a second supervisor saw a task in processing/ with no beat yet,
    took its worker for dead and put it back in the inbox while it was starting: it ran twice."""
    workers = FakeWorkers(world.config.paths.rooms_dir)
    world.deps.workers = workers
    world.deps.mailbox.create(_task(1))
    queue._start(world.deps, world.config, {})
    # the other supervisor: no workers
    assert queue._recover(world.deps, world.config, {}, queue._now()) == 0
    workers.alive.clear()  # now the worker dies
    assert queue._recover(world.deps, world.config, {}, queue._now()) == 1
    assert world.deps.mailbox.locate("app-1-g1-a1") == "inbox"


def test_a_task_claimed_by_another_supervisor_that_has_not_beaten_yet_is_left_alone(
    world: World,
) -> None:
    """The race the e2e run caught under load: the scan fell between the claim and the beat."""
    world.deps.workers = FakeWorkers(world.config.paths.rooms_dir)
    world.deps.mailbox.create(_task(1))
    rooms.Room(world.config.paths.rooms_dir, "app-1-g1-a1").beat(999_999)  # an earlier, dead try
    assert world.deps.mailbox.move("app-1-g1-a1", MailboxState.INBOX, MailboxState.PROCESSING)
    # the other supervisor scans now: claimed, not yet beaten
    assert queue._recover(world.deps, world.config, {}, queue._now()) == 0
    assert world.deps.mailbox.locate("app-1-g1-a1") == "processing"
    # a minute on, the claimer has still not beaten: it died, the task comes back
    later = queue._now() + timedelta(seconds=61)
    assert queue._recover(world.deps, world.config, {}, later) == 1
    assert world.deps.mailbox.locate("app-1-g1-a1") == "inbox"


def test_a_task_whose_worker_keeps_dying_is_escalated_on_the_third_death(world: World) -> None:
    workers = FakeWorkers(world.config.paths.rooms_dir)
    world.deps.workers = workers
    world.deps.mailbox.create(replace(_task(1), title="Dies"))
    world.tracker.add_issue("acme/app", "Dies")
    for _ in range(3):
        queue._start(world.deps, world.config, {})
        workers.alive.clear()
        queue._recover(world.deps, world.config, {}, queue._now())
    assert world.deps.mailbox.locate("app-1-g1-a1") == "escalated"
    assert [
        e["deaths"]
        for e in rooms.read(world.config.paths.rooms_dir, "app-1-g1-a1").events
        if e["event"] == "task.recovered"
    ] == [1, 2, 3]
    life = rooms.read(world.config.paths.rooms_dir, "app-1-g1-a1").lifecycle
    assert (
        life is not None
        and life.state.value == "failed"
        and life.history[-1].reason == "recovered_too_often"
    )

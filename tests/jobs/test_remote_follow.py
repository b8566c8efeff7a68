"""The supervisor's half of a parked remote run: asked at most every poll_seconds, resumed when
over, past its deadline or unanswered too often, let go after too many resumes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind
from orchestrator.core.remote import Parcel, Phase, RemoteRun, RemoteTask, RunState
from orchestrator.core.tasks import Task, TaskType
from orchestrator.errors import ExecutorError, TrackerUnauthorized
from orchestrator.jobs import remote_follow
from orchestrator.jobs.remote_follow import Following, let_go, resume_ready
from orchestrator.store.remote_runs import RunRecords
from tests.jobs.conftest import World, make_world

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CLOUD = ExecutorConfig("cloud", ExecutorKind.KUBERNETES, "agent", poll_seconds=0.0001)


class Engine:
    """An executor double: answers the phase it is set to, or raises what it is set to."""

    name, slots = "cloud", 4

    def __init__(self) -> None:
        self.answer: Phase | Exception = Phase.RUNNING
        self.asked = 0

    def state(self, run: RemoteRun) -> RunState:
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return RunState(self.answer)

    def start(self, task: RemoteTask) -> RemoteRun:
        raise AssertionError("the supervisor never starts a run")

    def find(self, task_id: str, start: str) -> RemoteRun | None:
        return None

    def collect(self, run: RemoteRun) -> Parcel:
        raise AssertionError("the supervisor never collects")

    def stop(self, run: RemoteRun) -> None:
        raise AssertionError("the supervisor never stops")

    def release(self, run: RemoteRun) -> None:
        raise AssertionError("the supervisor never releases")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    for made in make_world(tmp_path):
        made.config = replace(made.config, executors={"cloud": CLOUD})
        made.deps.config = made.config
        yield made


def _task(n: int) -> Task:
    return Task(
        id=f"app-{n}-g1-a1", repo_key="app", repo="acme/app", issue=n, title="t",
        branch=f"agent/{n}-t", base="main", task_type=TaskType.IMPLEMENTATION, chain=("a",),
        attempt=1, max_attempts=3, generation=1, priority=1, created_at=NOW,
    )  # fmt: skip


def _park(world: World, task: Task, started: datetime = NOW) -> Engine:
    RunRecords(world.config.paths.rooms_dir).save(
        task.id, RemoteRun("cloud", "job-1", "s", started)
    )
    engine = Engine()
    world.deps.executors[("cloud", "app")] = engine  # type: ignore[assignment]
    return engine


def test_only_tasks_without_a_live_worker_and_with_a_run_are_parked(world: World) -> None:
    parked, working, plain = _task(1), _task(2), _task(3)
    engine = _park(world, parked)
    RunRecords(world.config.paths.rooms_dir).save(working.id, RemoteRun("cloud", "j", "s", NOW))
    ready, count = resume_ready(
        world.deps, world.config, [parked, working, plain], lambda t: t is working, Following(), NOW
    )
    assert (ready, count, engine.asked) == ([], 1, 1)  # running: asked, not ready
    engine.answer = Phase.SUCCEEDED
    ready, _ = resume_ready(world.deps, world.config, [parked], lambda t: False, Following(), NOW)
    assert ready == [parked]


def test_it_is_asked_at_most_every_poll_seconds(world: World) -> None:
    task = _task(1)
    engine = _park(world, task)
    world.config = replace(world.config, executors={"cloud": replace(CLOUD, poll_seconds=60)})
    following = Following()
    for _ in range(3):
        resume_ready(world.deps, world.config, [task], lambda t: False, following, NOW)
    assert engine.asked == 1


def test_past_its_deadline_it_is_resumed_without_asking(world: World) -> None:
    task = _task(1)
    engine = _park(world, task, started=NOW - timedelta(hours=3))
    ready, _ = resume_ready(world.deps, world.config, [task], lambda t: False, Following(), NOW)
    assert ready == [task] and engine.asked == 0


def test_an_engine_that_keeps_not_answering_resumes_it_after_the_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_follow, "MAX_UNANSWERED", 3)
    task = _task(1)
    engine = _park(world, task)
    engine.answer = ExecutorError("the API server is down")
    following = Following()
    answers = [
        resume_ready(world.deps, world.config, [task], lambda t: False, following, NOW)[0]
        for _ in range(3)
    ]
    assert answers == [[], [], [task]]


def test_a_run_whose_collecting_workers_keep_dying_is_let_go_to_recovery(world: World) -> None:
    task = _task(1)
    _park(world, task)
    following = Following()
    assert [let_go(world.deps, task, following) for _ in range(6)] == [False] * 5 + [True]
    assert RunRecords(world.config.paths.rooms_dir).load(task.id) is None


def test_a_refused_token_ends_the_tick_instead_of_counting_as_silence(world: World) -> None:
    task = _task(1)
    engine = _park(world, task)
    engine.answer = TrackerUnauthorized("401 Bad credentials")
    with pytest.raises(TrackerUnauthorized):
        resume_ready(world.deps, world.config, [task], lambda t: False, Following(), NOW)
    assert RunRecords(world.config.paths.rooms_dir).load(task.id) is not None  # still followed

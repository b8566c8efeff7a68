"""Killed at any line, carried on by the next tick.

Workers SIGKILLed mid-task, and ticks that overlap.

The supervisors here are real `bin/agentos run queue` processes, so a SIGKILL takes them down
the way the OOM killer or a reboot would: no handler runs, no file is tidied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.store import rooms
from tests.e2e.conftest import BWRAP, ROOT, World
from tests.e2e.test_delivery import SUB
from tests.e2e.test_failures import _alive, _events

ROOMS = ("runtime", "rooms")


def _agentos(world: World, *args: str) -> subprocess.Popen[bytes]:
    env = {**world.env, "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.Popen(
        [str(ROOT / "bin" / "agentos"), "--config", str(world.config_path), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(what: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _kill_supervisor_and_worker(
    world: World, supervisor: subprocess.Popen[bytes], task_id: str
) -> int:
    """SIGKILL the queue supervisor and the task's worker; return the worker's pid."""
    worker = rooms.heartbeat_pid(world.root.joinpath(*ROOMS, task_id))
    assert worker is not None
    supervisor.kill()
    supervisor.wait()
    os.kill(worker, signal.SIGKILL)
    _wait_for(lambda: not _alive(worker))
    return worker


def test_a_worker_killed_mid_task_is_recovered_by_the_next_tick_and_its_orphaned_agent_ended(
    world: World,
) -> None:
    """Unconfined, the agent outlives its worker until the next tick ends it."""
    world.unconfined()
    issue = world.issue("acme/app", "Add subtraction")
    agent_pid = world.root / "agent.pid"
    world.set_playbook(
        {
            str(issue.number): [
                {"pidfile": str(agent_pid), "sleep": 120},
                {"files": SUB, "summary": "Added calc.sub."},
            ]
        }
    )
    assert world.run("dispatcher") == 0
    supervisor = _agentos(world, "run", "queue")
    _wait_for(agent_pid.exists)
    _kill_supervisor_and_worker(world, supervisor, "app-1-g1-a1")
    agent = int(agent_pid.read_text())
    # the agent outlived its worker
    assert _alive(agent) and world.mailbox("processing") == ["app-1-g1-a1"]

    assert world.run("queue") == 0
    [recovered] = world.events("queue", "task.recovered")
    assert (recovered["task_id"], recovered["reason"]) == ("app-1-g1-a1", "worker_died")
    assert [e["pid"] for e in _events(world, "app-1-g1-a1", "agent.ended")] == [agent]
    _wait_for(lambda: not _alive(agent))
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    [pr] = world.tracker.open_pulls("acme/app")
    assert pr.body.startswith("Closes #1\n\nAdded calc.sub.")


@pytest.mark.skipif(BWRAP is not None, reason=f"no confinement here: {BWRAP}")
def test_a_confined_agent_dies_with_its_killed_worker_and_the_next_tick_delivers(
    world: World,
) -> None:
    """Confined (the default), nothing of the agent outlives its worker: its box dies with it."""
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"files": SUB, "sleep": 4}]})
    playbook = str(world.root / "playbook.json")
    assert world.run("dispatcher") == 0
    supervisor = _agentos(world, "run", "queue")
    _wait_for(lambda: bool(_marked(playbook)))
    _kill_supervisor_and_worker(world, supervisor, "app-1-g1-a1")
    _wait_for(lambda: not _marked(playbook), timeout=5)  # no one ended them: they died with it

    assert world.run("queue") == 0
    [recovered] = world.events("queue", "task.recovered")
    assert (recovered["task_id"], recovered["reason"]) == ("app-1-g1-a1", "worker_died")
    assert _events(world, "app-1-g1-a1", "agent.ended") == []
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    assert len(world.tracker.open_pulls("acme/app")) == 1


def _marked(mark: str) -> list[int]:
    """Return the live processes whose argv holds `mark` (here: the agent's playbook path)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark.encode() in (entry / "cmdline").read_bytes():
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_worker_killed_after_opening_its_pr_is_recovered_without_a_second_pr(
    world: World,
) -> None:
    """Found here: the recovered task ran again and was escalated as `recovered_too_often`.

    It could not move its room from review back to developing, crashed, and was recovered twice
    more until it was escalated.
    """
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"files": SUB}]})
    assert world.run("dispatcher") == 0
    # The card move after the PR hangs, so the worker is surely between the PR and settling the
    # task.
    world.sandbox.add_fault(
        "slow", method="POST", path="/api/v3/repos/acme/app/issues/1/labels", delay=6, times=1
    )
    supervisor = _agentos(world, "run", "queue")
    _wait_for(lambda: bool(_events(world, "app-1-g1-a1", "pr.opened")))
    _kill_supervisor_and_worker(world, supervisor, "app-1-g1-a1")
    assert world.mailbox("processing") == ["app-1-g1-a1"]

    assert world.run("queue") == 0
    assert [e["reason"] for e in world.events("queue", "task.recovered")] == ["worker_died"]
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    # its room says the PR is open: no second run
    [resumed] = _events(world, "app-1-g1-a1", "task.resumed")
    assert resumed["state"] == "delivered"
    [pr] = world.tracker.open_pulls("acme/app")
    assert [e["number"] for e in _events(world, "app-1-g1-a1", "pr.opened")] == [pr.number]
    assert len(_events(world, "app-1-g1-a1", "attempt.started")) == 1
    assert "status:in-review" in world.tracker.issue(issue.ref).labels


def _work(world: World, count: int, sleep: float = 0.0) -> list[int]:
    issues = [world.issue("acme/app", f"Add feature {n}") for n in range(count)]
    world.set_playbook(
        {
            str(i.number): [
                {"files": {f"calc/f{i.number}.py": f"N = {i.number}\n"}, "sleep": sleep}
            ]
            for i in issues
        }
    )
    return [i.number for i in issues]


def _runs_per_issue(world: World, numbers: list[int]) -> list[int]:
    """How often an agent was started for each issue, by its tasks' war-room records."""
    tasks = [p.name for p in world.root.joinpath(*ROOMS).iterdir()]
    return [
        sum(
            len(_events(world, task, "process.started"))
            for task in tasks
            if task.startswith(f"app-{n}-")
        )
        for n in numbers
    ]


def _together(world: World, argvs: list[list[str]]) -> None:
    procs = [_agentos(world, *argv) for argv in argvs]
    assert [p.wait(timeout=120) for p in procs] == [0] * len(procs)


def test_overlapping_cli_ticks_skip_on_the_job_lock_and_do_the_work_once(world: World) -> None:
    numbers = _work(world, 3, sleep=1.0)
    # The first dispatcher's board read is slow, so the second surely starts while the first runs.
    world.sandbox.add_fault(
        "slow", method="GET", path="/api/v3/repos/acme/app/issues", delay=2, times=1
    )
    _together(world, [["run", "dispatcher"], ["run", "dispatcher"]])
    assert [e["reason"] for e in world.events("dispatcher", "job.skipped")] == ["already_running"]
    assert world.mailbox("inbox") == [f"app-{n}-g1-a1" for n in numbers]
    _together(world, [["run", "queue"], ["run", "queue"]])
    assert [e["reason"] for e in world.events("queue", "job.skipped")] == ["already_running"]
    assert world.mailbox("delivered") == [f"app-{n}-g1-a1" for n in numbers]
    assert (
        _runs_per_issue(world, numbers) == [1, 1, 1]
        and len(world.tracker.open_pulls("acme/app")) == 3
    )


def test_ticks_that_no_lock_serialises_still_queue_and_run_each_issue_once(world: World) -> None:
    """Two dispatchers, then two supervisors, race from one instant without the job lock.

    The mailbox's create-by-link and claim-by-rename are all that keeps them from doing the work
    twice.
    """
    numbers = _work(world, 4)
    for job in ("dispatcher", "queue"):
        go = world.root / f"go-{job}"
        env = {**world.env, "GIT_CONFIG_GLOBAL": os.devnull, "PYTHONPATH": str(ROOT)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("tick_without_lock.py")),
                    str(world.config_path),
                    job,
                    str(go),
                ],
                env=env,
                cwd=ROOT,
            )
            for _ in range(2)
        ]
        time.sleep(3)  # both have imported everything and wait for the signal
        go.touch()
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        assert len({e["run_id"] for e in world.events(job, "run.finished")}) == 2  # both ticks ran
    queued = world.events("dispatcher", "task.queued")
    assert sorted(e["issue"] for e in queued) == numbers
    assert (
        world.mailbox("delivered") == [f"app-{n}-g1-a1" for n in numbers]
        and world.mailbox("inbox") == []
    )
    assert _runs_per_issue(world, numbers) == [1, 1, 1, 1]
    assert world.events("queue", "task.recovered") == []
    assert len(world.tracker.open_pulls("acme/app")) == 4

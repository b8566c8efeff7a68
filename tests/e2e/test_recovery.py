"""Killed at any line, carried on by the next tick: workers SIGKILLed mid-task, and ticks that overlap.

The supervisors here are real `bin/agentos run queue` processes, so a SIGKILL takes them down
the way the OOM killer or a reboot would: no handler runs, no file is tidied.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator import rooms
from tests.e2e.conftest import ROOT, World
from tests.e2e.test_delivery import SUB
from tests.e2e.test_failures import _alive, _events

ROOMS = ("runtime", "rooms")


def _agentos(world: World, *args: str) -> subprocess.Popen[bytes]:
    env = {**world.env, "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.Popen([str(ROOT / "bin" / "agentos"), "--config", str(world.config_path), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(what: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _kill_supervisor_and_worker(world: World, supervisor: subprocess.Popen[bytes], task_id: str) -> int:
    """SIGKILL the queue supervisor and the task's worker; return the worker's pid."""
    worker = rooms.heartbeat_pid(world.root.joinpath(*ROOMS, task_id))
    assert worker is not None
    supervisor.kill()
    supervisor.wait()
    os.kill(worker, signal.SIGKILL)
    _wait_for(lambda: not _alive(worker) or _zombie(worker))
    return worker


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return False


def test_a_worker_killed_mid_task_is_recovered_by_the_next_tick_and_its_orphaned_agent_ended(world: World) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    agent_pid = world.root / "agent.pid"
    world.set_playbook({str(issue.number): [{"pidfile": str(agent_pid), "sleep": 120},
                                            {"files": SUB, "summary": "Added calc.sub."}]})
    assert world.run("dispatcher") == 0
    supervisor = _agentos(world, "run", "queue")
    _wait_for(agent_pid.exists)
    _kill_supervisor_and_worker(world, supervisor, "app-1-g1-a1")
    agent = int(agent_pid.read_text())
    assert _alive(agent) and world.mailbox("processing") == ["app-1-g1-a1"]   # the agent outlived its worker

    assert world.run("queue") == 0
    [recovered] = world.events("queue", "task.recovered")
    assert (recovered["task_id"], recovered["reason"]) == ("app-1-g1-a1", "worker_died")
    assert [e["pid"] for e in _events(world, "app-1-g1-a1", "agent.ended")] == [agent]
    _wait_for(lambda: not _alive(agent))
    assert world.mailbox("done") == ["app-1-g1-a1"]
    [pr] = world.tracker.open_pulls("acme/app")
    assert pr.body.startswith("Closes #1\n\nAdded calc.sub.")


def test_a_worker_killed_after_opening_its_pr_is_recovered_without_a_second_pr(world: World) -> None:
    """Found here: the recovered task ran again, could not move its room from review back to developing,
    crashed, and was recovered twice more until it was escalated as `recovered_too_often`."""
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"files": SUB}]})
    assert world.run("dispatcher") == 0
    # The card move after the PR hangs, so the worker is surely between the PR and settling the task.
    world.sandbox.add_fault("slow", method="POST", path="/api/v3/repos/acme/app/issues/1/labels", delay=6, times=1)
    supervisor = _agentos(world, "run", "queue")
    _wait_for(lambda: bool(_events(world, "app-1-g1-a1", "pr.opened")))
    _kill_supervisor_and_worker(world, supervisor, "app-1-g1-a1")
    assert world.mailbox("processing") == ["app-1-g1-a1"]

    assert world.run("queue") == 0
    assert [e["reason"] for e in world.events("queue", "task.recovered")] == ["worker_died"]
    assert world.mailbox("done") == ["app-1-g1-a1"]
    [resumed] = _events(world, "app-1-g1-a1", "task.resumed")   # its room says the PR is open: no second run
    assert resumed["state"] == "done"
    [pr] = world.tracker.open_pulls("acme/app")
    assert [e["number"] for e in _events(world, "app-1-g1-a1", "pr.opened")] == [pr.number]
    assert len(_events(world, "app-1-g1-a1", "attempt.started")) == 1
    assert "status:in-review" in world.tracker.issue(issue.ref).labels

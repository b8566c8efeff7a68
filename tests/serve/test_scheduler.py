"""The serve scheduler on a fake `agentos`: a script that records each tick and sleeps as told.

Each tick is a real child process; the clock is the test's, so minutes pass when it says.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.serve.scheduler import Scheduler

FAKE = """
import json, sys, time, pathlib
job = sys.argv[-1]
folder = pathlib.Path(sys.argv[1])
pathlib.Path(folder, f"{job}.{time.monotonic_ns()}").write_text(json.dumps(sys.argv[2:]))
pause = folder / f"{job}.sleep"
time.sleep(float(pause.read_text()) if pause.exists() else 0)
"""


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Events(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict]] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = {k: v for k, v in record.__dict__.items() if k in ("job", "reason", "code")}
        self.seen.append((record.getMessage(), extra))

    def names(self, event: str) -> list[str]:
        return [e["job"] for name, e in self.seen if name == event]


@pytest.fixture
def world(tmp_path: Path):
    script = tmp_path / "fake_agentos.py"
    script.write_text(FAKE)
    runs = tmp_path / "runs"
    runs.mkdir()
    log = logging.getLogger(f"serve-test-{tmp_path.name}")
    log.setLevel(logging.INFO)
    events = Events()
    log.addHandler(events)
    return runs, script, log, events


def make(world, schedules: dict[str, str], clock: Clock, poll: float = 0.0) -> Scheduler:
    runs, script, log, _ = world
    return Scheduler(
        Path("/nowhere/config.yaml"),
        schedules,
        log,
        environ={"PATH": "/usr/bin:/bin"},
        clock=clock,
        command=(sys.executable, str(script), str(runs)),
        poll=poll,
    )


def ticks(world, job: str) -> list[list[str]]:
    runs = world[0]
    return [json.loads(p.read_text()) for p in sorted(runs.glob(f"{job}.[0-9]*"))]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def running(scheduler: Scheduler, grace: float = 5.0) -> threading.Thread:
    thread = threading.Thread(target=scheduler.run, args=(grace,), daemon=True)
    thread.start()
    return thread


def test_a_due_job_runs_once_in_its_minute_as_agentos_run_job(world) -> None:
    clock = Clock(datetime(2026, 12, 3, 10, 5, 0))
    scheduler = make(world, {"pr_monitor": "*/5 * * * *", "scorer": "0 8 * * *"}, clock)
    thread = running(scheduler)
    wait_for(lambda: len(ticks(world, "pr_monitor")) == 1)
    time.sleep(0.5)  # the same minute: not again
    assert len(ticks(world, "pr_monitor")) == 1 and ticks(world, "scorer") == []
    assert ticks(world, "pr_monitor")[0] == [
        "--config",
        "/nowhere/config.yaml",
        "run",
        "pr_monitor",
    ]
    scheduler.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_woken_jobs_start_at_once_and_a_busy_one_runs_again_when_it_ends(world) -> None:
    runs = world[0]
    (runs / "dispatcher.sleep").write_text("1.0")
    clock = Clock(datetime(2026, 12, 3, 10, 5, 30))
    scheduler = make(world, {"dispatcher": "0 0 1 1 *", "queue": "0 0 1 1 *"}, clock)
    thread = running(scheduler)
    scheduler.wake(["dispatcher"], "webhook")
    wait_for(lambda: len(ticks(world, "dispatcher")) == 1)
    scheduler.wake(["dispatcher"], "webhook")  # while it runs
    wait_for(lambda: len(ticks(world, "dispatcher")) == 2)
    assert "dispatcher" in world[3].names("serve.busy")
    # each dispatcher tick that ended well woke the queue
    wait_for(lambda: len(ticks(world, "queue")) >= 1)
    scheduler.wake(["no_such_job"], "webhook")  # not a job: nothing
    scheduler.stop()
    thread.join(10)
    assert ticks(world, "no_such_job") == []


def test_polling_runs_the_dispatcher_between_its_minutes(world) -> None:
    clock = Clock(datetime(2026, 12, 3, 10, 5, 30))
    scheduler = make(world, {"dispatcher": "0 0 1 1 *"}, clock, poll=0.3)
    thread = running(scheduler)
    wait_for(lambda: len(ticks(world, "dispatcher")) >= 3)
    scheduler.stop()
    thread.join(10)


def test_stopping_lets_a_running_tick_end_within_the_grace(world) -> None:
    runs = world[0]
    (runs / "queue.sleep").write_text("1.0")
    clock = Clock(datetime(2026, 12, 3, 10, 5, 30))
    scheduler = make(world, {"queue": "0 0 1 1 *"}, clock)
    thread = running(scheduler, grace=10.0)
    scheduler.wake(["queue"], "webhook")
    wait_for(lambda: len(ticks(world, "queue")) == 1)
    scheduler.stop()
    thread.join(15)
    ended = [e for name, e in world[3].seen if name == "serve.ended"]
    assert ended and ended[-1]["code"] == 0  # it finished, not killed


def test_a_tick_past_the_grace_is_sent_sigterm(world) -> None:
    runs = world[0]
    (runs / "queue.sleep").write_text("60")
    clock = Clock(datetime(2026, 12, 3, 10, 5, 30))
    scheduler = make(world, {"queue": "0 0 1 1 *"}, clock)
    thread = running(scheduler, grace=0.5)
    scheduler.wake(["queue"], "webhook")
    wait_for(lambda: len(ticks(world, "queue")) == 1)
    started = time.monotonic()
    scheduler.stop()
    thread.join(15)
    assert time.monotonic() - started < 10 and scheduler.running == {}

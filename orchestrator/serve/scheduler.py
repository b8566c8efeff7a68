"""`agentos serve`'s heart: run each job on its schedule, sooner when woken, never two at once.

Each tick of a job is `bin/agentos run JOB`, a child process, exactly as cron starts it: the same
switches first, the same per-job lock (so a cron line and `serve` never run one job twice: the
second logs `job.skipped`), the same events and exit codes; a tick that crashes or hangs takes
only itself down. Serve adds what cron cannot: a job is started again the moment something wakes
it (a webhook, or the dispatcher having queued work wakes the queue), and a job still running
when it is due again is not started twice (`serve.busy`).

It keeps running while Agent OS is switched off: each tick then ends at its switch check (the
control plane's runs, so `/on` gets through). SIGTERM or SIGINT stops it cleanly: nothing new
starts, the ticks running are given `grace` seconds to end (the queue's workers are processes of
their own: their agents finish, as `off` lets them), then are sent SIGTERM.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestrator.serve.schedule import Schedule

FOLLOWS = {"dispatcher": ("queue",)}  # a finished tick of the key wakes these at once
POLLED = ("dispatcher",)  # what `poll` runs between its scheduled minutes
STOP_POLL = 0.2  # seconds between looks at the running ticks while stopping


@dataclass
class Tick:
    """One running `agentos run JOB`."""

    job: str
    process: subprocess.Popen[bytes]
    reason: str
    started: float = field(default_factory=time.monotonic)


class Scheduler:
    """The jobs' schedules and what is running; `wake` may be called from any thread."""

    def __init__(
        self,
        config_path: Path,
        schedules: Mapping[str, str],
        log: logging.Logger,
        *,
        environ: Mapping[str, str],
        clock: Callable[[], datetime] = datetime.now,
        command: Sequence[str] = (sys.executable, "-m", "orchestrator.cli.main"),
        poll: float = 0.0,
    ) -> None:
        self.config_path, self.log, self.environ = config_path, log, dict(environ)
        self.schedules = {name: Schedule(expr) for name, expr in schedules.items()}
        self.clock, self.command = clock, tuple(command)
        self.running: dict[str, Tick] = {}
        self._woken: dict[str, str] = {}  # job -> why
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._last_minute: tuple[int, int, int, int, int] | None = None
        self.poll = poll  # seconds between extra dispatcher runs; 0: none
        self._next_poll = time.monotonic() + poll

    # -- from other threads ------------------------------------------------------------------------
    def wake(self, jobs: Sequence[str], reason: str) -> None:
        """Run these jobs as soon as they are free (a webhook, a finished dispatcher tick)."""
        with self._lock:
            for job in jobs:
                if job in self.schedules:
                    self._woken.setdefault(job, reason)
        self._event.set()

    def stop(self) -> None:
        """Start nothing more; `run` then waits for the running ticks and returns."""
        self._stopping.set()
        self._event.set()

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, grace: float) -> int:
        """Loop until stopped; return the number of ticks started."""
        started = 0
        self.log.info("serve.started", extra={"jobs": ",".join(sorted(self.schedules))})
        while not self._stopping.is_set():
            self._reap()
            started += self._start_due()
            self._event.wait(self._until_next_minute())
            self._event.clear()
        self._drain(grace)
        self.log.info("serve.stopped", extra={"ticks": started})
        return started

    def _start_due(self) -> int:
        now = self.clock()
        minute = (now.year, now.month, now.day, now.hour, now.minute)
        due: dict[str, str] = {}
        if minute != self._last_minute:
            self._last_minute = minute
            due = {job: "schedule" for job, s in self.schedules.items() if s.due(now)}
        if self.poll and time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + self.poll
            for job in POLLED:
                if job in self.schedules:
                    due.setdefault(job, "poll")
        with self._lock:
            woken, self._woken = self._woken, {}
        for job, why in woken.items():
            due.setdefault(job, why)
        started = 0
        for job, reason in sorted(due.items()):
            if job in self.running:
                if reason != "schedule":  # woken while it runs: once more when it ends
                    with self._lock:
                        self._woken.setdefault(job, reason)
                self.log.info("serve.busy", extra={"job": job, "reason": reason})
                continue
            self._start(job, reason)
            started += 1
        return started

    def _start(self, job: str, reason: str) -> None:
        argv = [*self.command, "--config", str(self.config_path), "run", job]
        process = subprocess.Popen(
            argv,
            env={**self.environ, "AGENTOS_WAKE": reason},  # a webhook's tick reads in full
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running[job] = Tick(job, process, reason)
        self.log.info("serve.tick", extra={"job": job, "reason": reason, "pid": process.pid})

    def _reap(self, *, follow: bool = True) -> None:
        """Forget the ticks that ended; `follow`: wake what a finished tick wakes (not while
        stopping)."""
        for job, tick in list(self.running.items()):
            code = tick.process.poll()
            if code is None:
                continue
            del self.running[job]
            seconds = round(time.monotonic() - tick.started, 3)
            self.log.info("serve.ended", extra={"job": job, "code": code, "seconds": seconds})
            if follow and code == 0 and job in FOLLOWS:
                self.wake(FOLLOWS[job], f"after_{job}")

    def _until_next_minute(self) -> float:
        now = self.clock()
        seconds = 60 - now.second - now.microsecond / 1_000_000
        if self.poll:
            seconds = min(seconds, max(0.0, self._next_poll - time.monotonic()))
        return max(0.05, min(seconds, 1.0 if self.running else seconds))

    def _drain(self, grace: float) -> None:
        """Let the running ticks end within `grace` seconds, then send them SIGTERM."""
        if self.running:
            self.log.info("serve.stopping", extra={"running": ",".join(sorted(self.running))})
        deadline = time.monotonic() + grace
        while self.running and time.monotonic() < deadline:
            time.sleep(STOP_POLL)
            self._reap(follow=False)
        for tick in self.running.values():
            tick.process.terminate()
        for tick in self.running.values():
            try:
                tick.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                tick.process.kill()
        self.running.clear()

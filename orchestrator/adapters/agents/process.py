"""Run an agent in its own process group, streaming lines as they come; a timeout kills the group.

The group is ended the same way however the run ends (exit, timeout, an exception in a callback):
SIGTERM to the whole group, a grace period, then SIGKILL. The leader is not reaped until then, so
its process-group id cannot be reused by an unrelated process while we signal it. Output is read
line by line with a bounded buffer, so a process that prints a gigabyte without a newline costs
`max_line` bytes of memory, not a gigabyte.

A process that leaves the group on purpose (`setsid`, a double fork) dies with the run too: the
process calling `run` becomes a child subreaper (Linux's `prctl(PR_SET_CHILD_SUBREAPER)`), so such
an orphan is reparented to it rather than to init, and once the group is ended every child of ours
that started after the run began (its start time in /proc) is SIGKILLed with its descendants and
reaped (`Reaper`). A child we had before the run is never touched. Where there is no prctl or no
/proc (not Linux) this part does nothing, and the group alone is ended (`reaper.py`).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from orchestrator.adapters.agents.reaper import Reaper

LineHandler = Callable[[str, str], None]  # (stream, line): stream is "stdout" or "stderr"
_CHUNK = 65536
_LINGER = 0.25  # after the leader exits, how long to wait for stragglers to close the pipes
_TAIL_LINES = 200
_TAIL_CHARS = 2000  # of each line kept in the tail


@dataclass(frozen=True, slots=True)
class Spec:
    """What to run: argv, working directory, the whole environment, stdin text (None: /dev/null)."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    stdin: str | None = None
    timeout: float = 3600.0
    grace: float = 5.0
    max_line: int = 4 << 20


@dataclass(frozen=True, slots=True)
class Exit:
    """How the process ended: its code (negative: killed by that signal), whether it timed out."""

    returncode: int | None  # None: it never started
    timed_out: bool
    duration_s: float
    # the last lines of stdout and stderr together, for classifying failures
    tail: tuple[str, ...] = ()
    error: str = ""  # why it could not start
    stderr_tail: tuple[str, ...] = ()  # the last lines of stderr alone
    stopped: bool = False  # `stop` said so: the group was ended before the process exited


def run(
    spec: Spec,
    on_line: LineHandler,
    on_start: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Exit:
    """Run `spec` to its end, passing each output line to `on_line`.

    It never leaves a process of its group behind, nor (Linux) one that left it. `on_start` gets the
    pid (also the process group's id) as soon as the process runs, so that a supervisor can end the
    group should this process die without ending it (SIGKILL, OOM killer). `stop`, asked after
    each batch of lines, ends the group early when it says so (a cost cap reached), as a
    timeout would: SIGTERM, the grace period, SIGKILL.
    """
    started = time.monotonic()
    reaper = Reaper()
    try:
        proc = subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=dict(spec.env),
            start_new_session=True,
            close_fds=True,
            stdin=subprocess.DEVNULL if spec.stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        return Exit(
            None,
            False,
            time.monotonic() - started,
            error=f"cannot start {spec.argv[0]}: {exc.strerror}",
        )
    reaper.started(proc.pid)
    pump = _Pump(proc, spec, on_line)
    timed_out = False
    try:
        if on_start is not None:
            on_start(proc.pid)
        timed_out = pump.until_exit(started + spec.timeout, stop)
    except BaseException:
        pump.muted = True  # the caller is going away: drain the pipes, but hand nothing more on
        raise
    finally:
        _end_group(proc, pump, spec.grace, reaper)
    return Exit(
        proc.returncode,
        timed_out,
        time.monotonic() - started,
        tuple(line for _, line in pump.tail),
        stderr_tail=tuple(line for stream, line in pump.tail if stream == "stderr"),
        stopped=pump.stopped,
    )


def _exited(pid: int) -> bool:
    """Tell whether the leader has exited, without reaping it (so its group id stays ours)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def _end_group(proc: subprocess.Popen[bytes], pump: _Pump, grace: float, reaper: Reaper) -> None:
    """SIGTERM the group, wait `grace` seconds, SIGKILL it and the run's orphans, reap the leader.

    The `grace` seconds are for the group to exit and close its pipes.
    """
    try:
        _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not (_exited(proc.pid) and pump.closed):
            pump.step(0.05)
        _signal_group(proc.pid, signal.SIGKILL)
        reaper.reap()
        drain_until = time.monotonic() + 1.0
        while not pump.closed and time.monotonic() < drain_until:
            pump.step(0.05)
    except BaseException:
        pump.muted = True
        _signal_group(proc.pid, signal.SIGKILL)
        reaper.reap()
        raise
    finally:
        pump.close()
        proc.wait()


def stop(proc: subprocess.Popen[bytes], grace: float, reaper: Reaper) -> None:
    """End a process started outside `run` as `run` ends its own.

    The process must lead a group of its own (`start_new_session`), and `reaper` must have been
    made before it started and told its pid. SIGTERM the group, give the leader `grace` seconds,
    SIGKILL the group and the run's orphans, then reap the leader. Its pipes are the caller's.
    """
    try:
        _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not _exited(proc.pid):
            time.sleep(0.02)
    finally:
        _signal_group(proc.pid, signal.SIGKILL)
        reaper.reap()
        proc.wait()


class _Pump:
    """Moves bytes between the process's pipes and line callbacks, one select at a time."""

    def __init__(self, proc: subprocess.Popen[bytes], spec: Spec, on_line: LineHandler) -> None:
        self.proc, self.on_line, self.max_line = proc, on_line, spec.max_line
        self.muted = False
        self.stopped = False
        self.tail: deque[tuple[str, str]] = deque(maxlen=_TAIL_LINES)
        self._selector = selectors.DefaultSelector()
        self._partial: dict[str, bytearray] = {}
        self._skipping: set[str] = (
            set()
        )  # streams inside an over-long line, dropping bytes to its end
        for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            assert pipe is not None
            os.set_blocking(pipe.fileno(), False)
            self._selector.register(pipe, selectors.EVENT_READ, name)
            self._partial[name] = bytearray()
        self._stdin = (spec.stdin or "").encode("utf-8")
        if proc.stdin is not None:
            os.set_blocking(proc.stdin.fileno(), False)
            self._selector.register(proc.stdin, selectors.EVENT_WRITE, "stdin")

    @property
    def closed(self) -> bool:
        """True when every pipe reached its end."""
        return not self._selector.get_map()

    def until_exit(self, deadline: float, stop: Callable[[], bool] | None = None) -> bool:
        """Pump until the leader has exited and its output is read, or `stop` says so.

        Return True if the deadline came first.
        """
        exited_at: float | None = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                return True
            if stop is not None and exited_at is None and stop():
                self.stopped = True
                return False
            if exited_at is None and _exited(self.proc.pid):
                exited_at = now
            if exited_at is not None and (self.closed or now - exited_at > _LINGER):
                return False
            self.step(min(0.1, deadline - now))

    def step(self, timeout: float) -> None:
        """Wait up to `timeout` for any pipe, and move what is ready."""
        if self.closed:
            time.sleep(timeout)
            return
        for key, _ in self._selector.select(timeout):
            pipe = cast(IO[bytes], key.fileobj)
            if key.data == "stdin":
                self._write(pipe)
            else:
                self._read(pipe, key.data)

    def close(self) -> None:
        """Stop watching the pipes, passing on any last line that had no newline.

        The pipes are closed whatever happens.
        """
        try:
            for key in list(self._selector.get_map().values()):
                self._unregister(cast(IO[bytes], key.fileobj), key.data)
        finally:
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
            self._selector.close()

    def _write(self, pipe: IO[bytes]) -> None:
        assert self.proc.stdin is not None
        try:
            sent = os.write(self.proc.stdin.fileno(), self._stdin[:_CHUNK])
        except BlockingIOError:
            return
        except BrokenPipeError:
            sent = len(self._stdin)  # the process stopped reading: nothing more to send
        self._stdin = self._stdin[sent:]
        if not self._stdin:
            self._unregister(pipe, "stdin")

    def _read(self, pipe: IO[bytes], name: str) -> None:
        try:
            chunk = os.read(pipe.fileno(), _CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self._unregister(pipe, name)
            return
        self._feed(name, chunk)

    def _feed(self, name: str, chunk: bytes) -> None:
        buffer = self._partial[name]
        while chunk:
            cut = chunk.find(b"\n")
            piece, chunk = (chunk, b"") if cut < 0 else (chunk[:cut], chunk[cut + 1 :])
            if name in self._skipping:
                if cut >= 0:
                    self._skipping.discard(name)
                continue
            buffer += piece
            if len(buffer) >= self.max_line:
                self._emit(name, bytes(buffer[: self.max_line]))
                buffer.clear()
                if cut < 0:
                    self._skipping.add(name)
            elif cut >= 0:
                self._emit(name, bytes(buffer))
                buffer.clear()

    def _emit(self, name: str, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        self.tail.append((name, line[:_TAIL_CHARS]))
        if not self.muted:
            self.on_line(name, line)

    def _unregister(self, pipe: IO[bytes], name: str) -> None:
        self._selector.unregister(pipe)
        if name in self._partial and self._partial[name]:
            self._emit(name, bytes(self._partial[name]))
            self._partial[name].clear()
        try:
            pipe.close()
        except OSError:
            pass

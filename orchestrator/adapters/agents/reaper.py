"""End what a run left behind outside its process group: `setsid` children, double forks.

The process that runs an agent becomes a child subreaper (Linux's `prctl(PR_SET_CHILD_SUBREAPER)`),
so an orphan of the run is reparented to it rather than to init. Once the run's group is ended,
every child of ours that started after the run began (by its start time in /proc) is SIGKILLed with
its descendants and reaped; a child we had before the run is never touched, nor one in our own
session (the run's first process leads a new session, so nothing of the run can be in ours).
Without prctl or /proc (not Linux) a Reaper does nothing. One limit: a child that another thread
of ours starts in a session of its own during the run is taken for the run's.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
_REAP_WITHIN = 5.0  # seconds to spend killing and reaping the run's orphans
Table = dict[int, tuple[int, int, int]]  # pid -> (parent pid, session, start in clock ticks)


class Reaper:
    """Kills and reaps what one run left behind outside its process group.

    Make it before the run's first process starts (it takes note of the children we already have),
    tell it that process's pid (`started`), and call `reap` once the group is ended.
    """

    def __init__(self) -> None:
        self.active = _become_subreaper()
        self.before = _children(os.getpid(), _processes()) if self.active else {}
        self.leader: int | None = None
        self.since: int | None = None  # the leader's start, in clock ticks since boot

    def started(self, pid: int) -> None:
        """Note the run's first process: whatever starts from now on is the run's."""
        stat = _stat(str(pid)) if self.active else None
        self.leader, self.since = pid, None if stat is None else stat[2]

    def reap(self) -> None:
        """SIGKILL every child of ours the run started (the leader aside), with its descendants.

        Each is reaped; a killed process's own children are reparented to us and go next round.
        """
        if self.since is None:
            return
        deadline = time.monotonic() + _REAP_WITHIN
        ours = os.getsid(0)
        while time.monotonic() < deadline:
            table = _processes()
            strays = [
                pid
                for pid, start in _children(os.getpid(), table).items()
                if start >= self.since
                and pid != self.leader
                and self.before.get(pid) != start
                and table[pid][1] != ours
            ]
            if not strays:
                return
            for pid in _descendants(strays, table):
                _kill(pid)
            _wait_for(strays, deadline)


def _become_subreaper() -> bool:
    """Make this process adopt its descendants' orphans; return whether it could (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _stat(pid: str) -> tuple[int, int, int] | None:
    """Return a process's parent pid, session and start (clock ticks since boot); None: gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()  # the name, in parentheses, may hold spaces
    return int(fields[1]), int(fields[3]), int(fields[19])


def _processes() -> Table:
    """Return every process's parent pid, session and start time, by pid."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    table: Table = {}
    for name in names:
        if name.isdigit() and (stat := _stat(name)) is not None:
            table[int(name)] = stat
    return table


def _children(parent: int, table: Table) -> dict[int, int]:
    """Return the start time of each child of `parent`, by pid."""
    return {pid: start for pid, (ppid, _, start) in table.items() if ppid == parent}


def _descendants(roots: list[int], table: Table) -> list[int]:
    """Return `roots` and everything below them, parents first."""
    found, index = list(roots), 0
    while index < len(found):
        found.extend(_children(found[index], table))
        index += 1
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_for(pids: list[int], deadline: float) -> None:
    """Reap each of these children of ours, polling until `deadline` at the latest."""
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid  # not ours any more, or already reaped
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.01)

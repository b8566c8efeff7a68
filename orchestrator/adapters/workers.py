"""Start workers: `python -m orchestrator.delivery.worker TASK_ID`, each in its own session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from orchestrator.core.queue import STOP_NOW


class ProcessWorkers:
    """The Workers port: one child process per task, each in a session of its own.

    That way no signal meant for the supervisor (a terminal's Ctrl-C, a cron timeout) reaches a
    running agent.
    """

    def __init__(
        self,
        config_path: Path,
        logs_dir: Path,
        root: Path,
        *,
        refusal: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.config_path, self.logs_dir, self.root = config_path, logs_dir, root
        self._refusal = refusal
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def refusal(self) -> str | None:
        """Return why no worker may start here (the agents' walls cannot be built), or None."""
        return self._refusal()

    def spawn(self, task_id: str, *, stop: bool = False) -> int:
        """Start the worker; its stdout and stderr go to runtime/logs/workers.log.

        Its events go to queue.jsonl.
        """
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.logs_dir / "workers.log", "ab") as out:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "orchestrator.delivery.worker",
                    "--config",
                    str(self.config_path),
                    task_id,
                ],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, STOP_NOW: "1"} if stop else dict(os.environ),
            )
        self._children[child.pid] = child
        return child.pid

    def exited(self, pid: int) -> bool:
        """Tell whether a worker has ended.

        Our own children are collected, so none lingers as a zombie.
        """
        child = self._children.get(pid)
        if child is not None:
            if child.poll() is None:
                return False
            del self._children[pid]
            return True
        # a worker an earlier supervisor started:
        # alive while signal 0 reaches it and it is no zombie
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return is_zombie(pid)

    def stop(self, pid: int, task_id: str) -> bool:
        """SIGTERM the worker if /proc shows `pid` is the worker of `task_id` (Linux)."""
        if not runs_task(pid, task_id):
            return False
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def end_agent(self, pid: int, worktree: str) -> bool:
        """SIGKILL the agent's process group if /proc shows the pid still in the worktree (Linux).

        Without /proc nothing proves the pid is still the agent's, so nothing is signalled.
        """
        if not works_in(pid, worktree):
            return False
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def runs_task(pid: int, task_id: str) -> bool:
    """Tell whether process `pid` is a live worker started for `task_id` (its command line)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        b"orchestrator.delivery.worker" in argv and task_id.encode() in argv and not is_zombie(pid)
    )


def works_in(pid: int, folder: str) -> bool:
    """Tell whether process `pid`'s working directory is in `folder` (removed meanwhile or not)."""
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    cwd = cwd.removesuffix(" (deleted)")
    root = os.path.realpath(folder)
    return cwd == root or cwd.startswith(root.rstrip("/") + "/")


def is_zombie(pid: int) -> bool:
    """Tell whether the process has ended but not been reaped (Linux /proc; False where unknown).

    A worker orphaned by a killed supervisor is reaped by init, which some containers never do.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]

"""Worker processes: started in a session of their own, seen to end (zombies too).

An orphaned agent is ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.adapters.workers import ProcessWorkers, is_zombie, works_in

linux_only = pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs Linux /proc")


def _sleeper(cwd: Path) -> subprocess.Popen[bytes]:
    """A process group like an agent's: a leader in `cwd` and a child of its own."""
    return subprocess.Popen(["/bin/sh", "-c", "sleep 60 & wait"], cwd=cwd, start_new_session=True)


@linux_only
def test_an_agent_still_in_its_worktree_has_its_whole_group_ended(tmp_path: Path) -> None:
    worktree = tmp_path / "worktrees" / "app" / "app-1-g1-a1"
    worktree.mkdir(parents=True)
    agent = _sleeper(worktree)
    try:
        assert works_in(agent.pid, str(worktree))
        assert ProcessWorkers(tmp_path / "c.yaml", tmp_path, tmp_path).end_agent(
            agent.pid, str(worktree)
        )
        assert agent.wait(timeout=10) == -signal.SIGKILL
    finally:
        agent.kill()
        agent.wait()


@linux_only
def test_a_pid_that_now_names_a_process_elsewhere_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "worktree").mkdir()
    other = _sleeper(tmp_path / "elsewhere")
    try:
        assert not ProcessWorkers(tmp_path / "c.yaml", tmp_path, tmp_path).end_agent(
            other.pid, str(tmp_path / "worktree")
        )
        assert other.poll() is None
    finally:
        os.killpg(other.pid, signal.SIGKILL)
        other.wait()


def test_a_gone_pid_is_not_signalled(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert not ProcessWorkers(tmp_path / "c.yaml", tmp_path, tmp_path).end_agent(
        int(done.stdout), str(tmp_path)
    )


@linux_only
def test_an_unreaped_worker_counts_as_ended() -> None:
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while not is_zombie(child.pid):  # ended, and nobody has waited for it yet
        assert time.monotonic() < deadline
        time.sleep(0.01)
    workers = ProcessWorkers(Path("c.yaml"), Path("."), Path("."))
    assert workers.exited(child.pid)  # not one of this supervisor's children: judged by /proc
    child.wait()
    assert not is_zombie(child.pid)

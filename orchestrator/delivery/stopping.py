"""`off --now`: running agents stopped, their partial work kept on the branch, tasks requeued.

Two halves meet here. The one who switches off (`agentos off --now`, `/off now`, per repo too)
calls `halt`: each worker running a task of that scope gets a SIGTERM, and `halt` waits for
them to put their tasks back. The worker (`install`, first thing in delivery.worker) turns that
SIGTERM into `Stopped` while its agent runs (`interruptible`), so the agent's process group is
ended, its files committed and pushed through the same outbound gate as any push, and the task
goes back to the inbox under the same id, to go on from its branch once switched on. A SIGTERM
that comes while the worker tests, pushes or opens the PR only marks the stop: those steps are
short and bounded, and cutting them would lose finished work.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from orchestrator.config.model import Config
from orchestrator.core.queue import STOP_NOW
from orchestrator.core.tasks import MailboxState, parse_id
from orchestrator.errors import Stopped
from orchestrator.ports import Workers
from orchestrator.store import rooms
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.remote_runs import RunRecords

WAIT_SECONDS = 90.0  # how long `halt` waits for stopped workers to requeue their tasks


class _State:
    interruptible = False
    requested = False


def install() -> None:
    """Make SIGTERM stop this worker's agent (see the module's docstring)."""
    signal.signal(signal.SIGTERM, _on_term)
    if os.environ.get(STOP_NOW) == "1":
        _State.requested = True


def _on_term(signum: int, frame: FrameType | None) -> None:
    _State.requested = True
    if _State.interruptible:
        _State.interruptible = False  # raise once; the cleanup must not be interrupted
        raise Stopped


def requested() -> bool:
    """True once this worker was told to stop."""
    return _State.requested


@contextmanager
def interruptible() -> Iterator[None]:
    """Let a stop interrupt the block (the agent's run); a stop asked for before it raises now."""
    if _State.requested:
        raise Stopped
    _State.interruptible = True
    try:
        yield
    finally:
        _State.interruptible = False


@dataclass(frozen=True, slots=True)
class Halt:
    """What `halt` did: workers told to stop, their tasks back in the inbox, and the rest."""

    stopped: int
    requeued: int
    finishing: int  # told to stop, but still ending (or ended otherwise) when the wait was over

    def describe(self) -> str:
        agents = f"{self.stopped} agent{'s' if self.stopped != 1 else ''} stopped"
        tasks = f"{self.requeued} task{'s' if self.requeued != 1 else ''} requeued"
        rest = f", {self.finishing} still ending" if self.finishing else ""
        return f"{agents}, {tasks}{rest}"


def halt(
    config: Config,
    mailbox: Mailbox,
    workers: Workers,
    repo_key: str | None = None,
    wait: float = WAIT_SECONDS,
) -> Halt:
    """Stop the workers running tasks (of one repo, or all) and wait for their tasks to requeue."""
    told = []
    for task in mailbox.tasks(MailboxState.PROCESSING):
        if repo_key is not None and task.repo_key != repo_key:
            continue
        pid = rooms.heartbeat_pid(config.paths.rooms_dir / task.id)
        if pid is not None and workers.stop(pid, task.id):
            told.append((task.id, pid))
        elif RunRecords(config.paths.rooms_dir).load(task.id) is not None:
            # parked: its remote run goes on with no worker; one is started to cancel it
            pid = workers.spawn(task.id, stop=True)
            rooms.Room(config.paths.rooms_dir, task.id).beat(pid)  # the supervisor sees it live
            told.append((task.id, pid))
    deadline = time.monotonic() + wait
    while any(not workers.exited(pid) for _, pid in told) and time.monotonic() < deadline:
        time.sleep(0.1)
    requeued = sum(1 for task_id, _ in told if mailbox.locate(task_id) is MailboxState.INBOX)
    return Halt(len(told), requeued, len(told) - requeued)


def draining(mailbox: Mailbox, repo_key: str | None = None) -> str:
    """Say what a drain leaves running: the tasks in processing (of one repo, or all)."""
    running = [
        task_id
        for task_id in mailbox.ids(MailboxState.PROCESSING)
        if repo_key is None or (parse_id(task_id) or ("",))[0] == repo_key
    ]
    if not running:
        return "no agent is running"
    count = len(running)
    return f"{count} running agent{'s' if count != 1 else ''} will finish; nothing new starts"

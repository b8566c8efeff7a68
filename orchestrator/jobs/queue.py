"""Run queued tasks, each in its own worker process, within the global and per-repo limits.

One tick is a supervisor: it adopts workers a previous tick left running, recovers tasks whose
worker died (by process and by heartbeat), starts what fits, and keeps doing so until nothing
runs and nothing waits. The job lock is held meanwhile, so cron's next ticks skip; a supervisor
killed at any line leaves workers that the next one adopts, and claims that the next one redoes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from orchestrator.cli.gate import BYPASS
from orchestrator.config.model import Config
from orchestrator.core import lifecycle
from orchestrator.core.queue import LOCAL_POOL, Running, pick, stalled
from orchestrator.core.tasks import MailboxState, Task
from orchestrator.deps import Deps
from orchestrator.jobs.remote_follow import Following, let_go, resume_ready
from orchestrator.store import rooms
from orchestrator.store.remote_runs import RunRecords

POLL_SECONDS = 0.25  # how soon a finished worker's slot is refilled; a loop costs a few file reads
MAX_RECOVERIES = 2  # a task whose worker died this often is escalated instead of run again
JOB = "queue"
OPT_OUT = "set agents.isolation: none to run agents unconfined; see docs/security.md"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Supervise until idle; return how many tasks were started, finished and recovered."""
    counts = {"started": 0, "finished": 0, "recovered": 0, "resumed": 0}
    if dry_run:
        print(_describe(deps, config))
        return counts
    refusal = deps.workers.refusal()
    if refusal is not None:  # agents.isolation cannot be honoured here: start nothing
        deps.log.error("queue.isolation_unavailable", extra={"reason": refusal, "hint": OPT_OUT})
        return counts
    workers: dict[str, int] = {}  # task id -> pid of a worker this supervisor started
    following = Following()  # the parked remote runs (jobs/remote_follow.py)
    while True:
        counts["finished"] += _reap(deps, workers)
        counts["recovered"] += _recover(deps, config, workers, _now())
        running = _read_processing(deps)  # read once a loop, after recovery moved the dead out
        resumed, parked = _resume(deps, config, workers, running, following)
        counts["resumed"] += resumed
        started = _start(deps, config, workers, running)
        counts["started"] += started
        idle = not workers and not started and not parked
        if idle and not _has_adopted_workers(deps, workers, running):
            return counts
        time.sleep(POLL_SECONDS)


def _now() -> datetime:
    return datetime.now(UTC)


def _read_inbox(deps: Deps) -> list[Task]:
    """Return the queued tasks; one whose repo key left the config is set aside, not run."""
    known = {r.key for r in deps.config.repos}
    tasks = []
    for task in deps.mailbox.tasks(MailboxState.INBOX):
        if task.repo_key in known:
            tasks.append(task)
        else:
            _set_aside(deps, task, MailboxState.INBOX)
    return tasks


def _set_aside(deps: Deps, task: Task, state: MailboxState) -> None:
    path = deps.mailbox.path(state, task.id)
    deps.mailbox.set_aside(path, f"repo key {task.repo_key!r} is not in the config")


def _may_start(deps: Deps) -> bool:
    """The switches, read again before every start: a tick running when `off` came stops here."""
    if os.environ.get(BYPASS) == "1":
        return True
    return deps.switches.is_on() and deps.switches.job_on(JOB)


def _read_processing(deps: Deps) -> list[Task]:
    return list(deps.mailbox.tasks(MailboxState.PROCESSING))


def _per_repo(config: Config) -> dict[str, int]:
    return {r.key: r.max_parallel_tasks for r in config.repos}


def _pool(config: Config) -> Callable[[Task], str]:
    """Return which executor runs a task: its repo's choice for its type (docs/scale-out.md)."""
    placements = {r.key: r.placement for r in config.repos}

    def pool(task: Task) -> str:
        placement = placements.get(task.repo_key)
        return placement.for_type(task.task_type.value) if placement else LOCAL_POOL

    return pool


def _slots(config: Config) -> dict[str, int]:
    """Return each executor's slots: the remote ones' own, the local workers' limit."""
    sizes = {name: e.slots for name, e in config.executors.items()}
    return {**sizes, LOCAL_POOL: config.limits.max_parallel_workers}


def _start(
    deps: Deps, config: Config, workers: dict[str, int], running: list[Task] | None = None
) -> int:
    """Claim and start the tasks that fit; a claim another supervisor won is simply skipped."""
    if not _may_start(deps):
        return 0
    running = _read_processing(deps) if running is None else running
    chosen = pick(
        _read_inbox(deps),
        running,
        config.limits.max_parallel_workers,
        _per_repo(config),
        _now(),
        pool=_pool(config),
        sizes=_slots(config),
    )
    started = 0
    for task in chosen:
        if not deps.switches.repo_on(task.repo_key) or not _may_start(deps):
            continue
        if not deps.mailbox.move(task.id, MailboxState.INBOX, MailboxState.PROCESSING):
            continue
        # Beat for the claim at once: another supervisor must never take a task in processing/
        # without a beat for a dead one (it would run it twice), however slowly the worker starts.
        room = rooms.Room(config.paths.rooms_dir, task.id)
        room.beat()
        workers[task.id] = deps.workers.spawn(task.id)
        room.beat(workers[task.id])
        deps.log.info(
            "task.started",
            extra={
                "issue": task.issue,
                "repo": task.repo,
                "task_id": task.id,
                "attempt": task.attempt,
                "pid": workers[task.id],
            },
        )
        started += 1
    return started


def _alive(deps: Deps, workers: dict[str, int]) -> Callable[[Task], bool]:
    """Return whether a task has a live worker: ours, or one an earlier supervisor started."""

    def alive(task: Task) -> bool:
        pid = workers.get(task.id) or rooms.heartbeat_pid(deps.config.paths.rooms_dir / task.id)
        return pid is not None and not deps.workers.exited(pid)

    return alive


def _resume(
    deps: Deps, config: Config, workers: dict[str, int], running: list[Task], following: Following
) -> tuple[int, int]:
    """Start a worker for each parked task whose remote run is over; return (started, parked)."""
    ready, parked = resume_ready(deps, config, running, _alive(deps, workers), following, _now())
    resumed = 0
    for task in ready:
        if let_go(deps, task, following):
            continue  # its workers keep dying: the next recovery requeues it
        room = rooms.Room(config.paths.rooms_dir, task.id)
        room.beat()
        workers[task.id] = deps.workers.spawn(task.id)
        room.beat(workers[task.id])
        room.record("remote.resumed", pid=workers[task.id])
        deps.log.info(
            "task.resumed", extra={"issue": task.issue, "task_id": task.id, "pid": workers[task.id]}
        )
        resumed += 1
    return resumed, parked


def _reap(deps: Deps, workers: dict[str, int]) -> int:
    """Forget the workers that have ended."""
    ended = [task_id for task_id, pid in workers.items() if deps.workers.exited(pid)]
    for task_id in ended:
        del workers[task_id]
    return len(ended)


def _has_adopted_workers(deps: Deps, workers: dict[str, int], running: list[Task]) -> bool:
    """True while a task in processing/ has a live worker this supervisor did not start."""
    for task in running:
        pid = rooms.heartbeat_pid(deps.config.paths.rooms_dir / task.id)
        if task.id not in workers and pid is not None and not deps.workers.exited(pid):
            return True
    return False


def _recover(deps: Deps, config: Config, workers: dict[str, int], now: datetime) -> int:
    """Put the tasks of dead workers back in the inbox (or escalate one that keeps dying)."""
    recovered = 0
    for task in _read_processing(deps):
        room = rooms.Room(config.paths.rooms_dir, task.id)
        pid = workers.get(task.id) or rooms.heartbeat_pid(room.path)
        beat = room.heartbeat()
        claimed = deps.mailbox.changed_at(MailboxState.PROCESSING, task.id)
        run = Running(task, pid is not None and not deps.workers.exited(pid), beat, claimed)
        if not run.worker_alive and RunRecords(config.paths.rooms_dir).load(task.id) is not None:
            continue  # parked: its remote run goes on, and `_resume` follows it
        why = stalled(run, now, config.limits.stall_minutes)
        if why is None or (why == "no_heartbeat" and beat is None and task.id in workers):
            continue  # a worker that has not beaten yet is still starting
        workers.pop(task.id, None)
        if task.repo_key not in {r.key for r in config.repos}:
            _set_aside(deps, task, MailboxState.PROCESSING)
            continue
        _requeue(deps, config, task, room, why)
        recovered += 1
    return recovered


def _requeue(deps: Deps, config: Config, task: Task, room: rooms.Room, why: str) -> None:
    """Run a dead worker's task again from the inbox; the third death in a row escalates it."""
    events = rooms.read(config.paths.rooms_dir, task.id).events
    deaths = 1 + sum(1 for e in events if e.get("event") == "task.recovered")
    _end_orphans(deps, room, events)
    room.record("task.recovered", reason=why, deaths=deaths)
    deps.log.warning(
        "task.recovered",
        extra={"issue": task.issue, "task_id": task.id, "reason": why, "deaths": deaths},
    )
    if deaths > MAX_RECOVERIES:
        from orchestrator.delivery import handoff

        handoff.escalate_task(deps, config.repo(task.repo_key), task, "recovered_too_often", ())
        _fail(room, "recovered_too_often")
        deps.mailbox.move(task.id, MailboxState.PROCESSING, MailboxState.ESCALATED)
        return
    deps.mailbox.move(task.id, MailboxState.PROCESSING, MailboxState.INBOX)


def _fail(room: rooms.Room, reason: str) -> None:
    """Record the escalation in the room's lifecycle, unless its state can no longer fail."""
    try:
        room.transition(lifecycle.State.FAILED, reason)
    except lifecycle.InvalidTransition as error:
        # passed already: GitHub has the work, the record notes the try
        room.record(
            "lifecycle.skipped", wanted=lifecycle.State.FAILED.value, error=str(error)[:200]
        )


def _end_orphans(deps: Deps, room: rooms.Room, events: Sequence[Mapping[str, Any]]) -> None:
    """End the agent a dead worker left running.

    It would go on editing a worktree the next attempt reuses.
    """
    worktrees = [
        e["path"]
        for e in events
        if e.get("event") == "worktree.prepared" and isinstance(e.get("path"), str)
    ]
    if not worktrees:
        return
    for pid in {
        e["pid"]
        for e in events
        if e.get("event") == "process.started" and isinstance(e.get("pid"), int)
    }:
        if deps.workers.end_agent(pid, worktrees[-1]):
            room.record("agent.ended", pid=pid, reason="worker_died")
            deps.log.warning(
                "agent.ended", extra={"task_id": room.task_id, "pid": pid, "reason": "worker_died"}
            )


def _describe(deps: Deps, config: Config) -> str:
    chosen = pick(
        _read_inbox(deps),
        _read_processing(deps),
        config.limits.max_parallel_workers,
        _per_repo(config),
        pool=_pool(config),
        sizes=_slots(config),
    )
    lines = [f"would start {t.id} ({t.repo}#{t.issue}, priority {t.priority})" for t in chosen]
    return "\n".join(lines or ["would start nothing"])

"""The queue supervisor's half of a parked remote run: follow it, and start a worker to collect it.

A worker whose agent runs on a remote executor leaves once the run is under way (delivery/remote.py
raises Parked): its task stays in processing/ with the run written down in its room
(`remote_run.json`), holding its executor's slot. Each supervisor loop asks the engine about each
such run, at most every `poll_seconds`, and starts a worker for the task again when the run is
over, past its deadline, or its engine has not answered MAX_UNANSWERED times in a row; that
worker adopts the run and collects it (or ends it). A task whose worker keeps dying at that point
is let go after MAX_RESUMES: its record is cleared, and the recovery of dead workers takes over.

The cost at home of a running remote task is then a record and a request now and then, not a
worker process (bench/remote_executor.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.core.remote import MAX_UNANSWERED, RemoteRun, deadline
from orchestrator.core.tasks import Task
from orchestrator.deps import Deps
from orchestrator.errors import AgentOSError, Unauthorized
from orchestrator.store import rooms
from orchestrator.store.remote_runs import RunRecords

MAX_RESUMES = 5  # workers started to collect one run before it is let go to recovery


@dataclass
class Following:
    """What one supervisor remembers of the parked runs it follows (per task id)."""

    asked_at: dict[str, float] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)
    resumes: dict[str, int] = field(default_factory=dict)


def parked_run(deps: Deps, task: Task, alive: Callable[[Task], bool]) -> RemoteRun | None:
    """Return the run a task's worker left to go on, or None (a worker runs it, or no run)."""
    if alive(task):
        return None
    return RunRecords(deps.config.paths.rooms_dir).load(task.id)


def resume_ready(
    deps: Deps,
    config: Config,
    running: list[Task],
    alive: Callable[[Task], bool],
    following: Following,
    now: datetime,
) -> tuple[list[Task], int]:
    """Return the parked tasks whose run is ready to collect, and how many are parked in all."""
    ready, parked = [], 0
    for task in running:
        run = parked_run(deps, task, alive)
        if run is None:
            continue
        parked += 1
        settings = config.executors.get(run.executor)
        if settings is None:  # its executor left the config: a worker ends it
            ready.append(task)
            continue
        if time.monotonic() - following.asked_at.get(task.id, 0.0) < settings.poll_seconds:
            continue
        following.asked_at[task.id] = time.monotonic()
        if _over(deps, config, task, run, following, now):
            ready.append(task)
    return ready, parked


def _over(
    deps: Deps, config: Config, task: Task, run: RemoteRun, following: Following, now: datetime
) -> bool:
    if now > deadline(run, config.executors[run.executor].timeout_minutes):
        return True
    try:
        executor = deps.executor_for(run.executor, config.repo(task.repo_key))
        final = executor.state(run).phase.final
    except Unauthorized:  # a refused token is no engine's silence: the tick ends (exit 3)
        raise
    except (AgentOSError, KeyError) as error:
        following.unanswered[task.id] = following.unanswered.get(task.id, 0) + 1
        deps.log.warning(
            "remote.unanswered",
            extra={"task_id": task.id, "handle": run.handle, "error": str(error)[:300]},
        )
        return following.unanswered[task.id] >= MAX_UNANSWERED
    following.unanswered.pop(task.id, None)
    return final


def let_go(deps: Deps, task: Task, following: Following) -> bool:
    """Count a resume; past MAX_RESUMES clear the record (the recovery takes the task over)."""
    following.resumes[task.id] = following.resumes.get(task.id, 0) + 1
    if following.resumes[task.id] <= MAX_RESUMES:
        return False
    RunRecords(deps.config.paths.rooms_dir).clear(task.id)
    rooms.Room(deps.config.paths.rooms_dir, task.id).record("remote.let_go", resumes=MAX_RESUMES)
    return True

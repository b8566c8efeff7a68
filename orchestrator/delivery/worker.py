"""A worker process: run one claimed task.

Usage: `python -m orchestrator.delivery.worker --config PATH TASK_ID`.


The queue supervisor starts one per task. A crash leaves the task in processing/ with a stale
heartbeat, and the supervisor's recovery puts it back in the inbox (or escalates it when it
keeps dying), so nothing here needs to be careful about dying.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the task and return 0, or 1 when it crashed (the traceback goes to the event log)."""
    parser = argparse.ArgumentParser(prog="orchestrator.delivery.worker")
    parser.add_argument("--config", required=True)
    parser.add_argument("task_id")
    args = parser.parse_args(argv)
    from orchestrator.delivery import stopping

    stopping.install()  # first: `off --now` may come at any moment
    from orchestrator.config.load import load_config
    from orchestrator.core.tasks import MailboxState
    from orchestrator.delivery import attempt
    from orchestrator.errors import Parked
    from orchestrator.store import logs, rooms
    from orchestrator.store.remote_runs import RunRecords
    from orchestrator.wiring import real_deps

    config = load_config(Path(args.config), os.environ)
    log = logs.setup(config.paths.logs_dir, "queue", args.task_id, stderr=False)
    deps = real_deps(config, log, actor=f"agentos:worker:{args.task_id}")
    room = rooms.Room(config.paths.rooms_dir, args.task_id)
    try:
        task = deps.mailbox.read(MailboxState.PROCESSING, args.task_id)
    except FileNotFoundError:  # recovered or settled meanwhile, or set aside as unreadable
        log.info("task.gone", extra={"task_id": args.task_id})
        return 0
    if task.repo_key not in {r.key for r in config.repos}:  # its repo left the config
        path = deps.mailbox.path(MailboxState.PROCESSING, task.id)
        deps.mailbox.set_aside(path, f"repo key {task.repo_key!r} is not in the config")
        return 0
    try:
        with room.beating():
            state = attempt.run(deps, config, task, room)
    except Parked:  # its remote run goes on: the supervisor follows it (jobs/remote_follow.py)
        log.info("task.parked", extra={"issue": task.issue, "task_id": task.id})
        return 0
    except Exception as exc:  # left in processing/: the supervisor recovers it
        RunRecords(config.paths.rooms_dir).clear(task.id)  # recovered, not followed: `find` adopts
        room.record("task.crashed", error=f"{type(exc).__name__}: {exc}"[:500])
        log.error(
            "task.crashed",
            extra={
                "issue": task.issue,
                "task_id": task.id,
                "outcome": "crashed",
                "error": f"{type(exc).__name__}: {exc}"[:200],
                "traceback": traceback.format_exc(),
            },
        )
        return 1
    finally:
        deps.close()
    log.info("task.finished", extra={"issue": task.issue, "task_id": task.id, "state": state})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The cron entrypoints: one module per job, each exposing `run(deps, config, now, dry_run=...)`.

This module is imported on every `agentos run`, before the switch check, so it holds only
plain data: importing a job's module (and the libraries it needs) happens after the switches.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    schedule: str              # default cron expression; config.schedule overrides it
    summary: str
    always_on: bool = False    # keeps running while the global switch is off (the control plane)
    built: bool = True         # False while the job is planned but its module does not exist yet
    target: str = ""           # the module to import; default orchestrator.jobs.<name>

    @property
    def module(self) -> str:
        return self.target or f"orchestrator.jobs.{self.name}"


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("dispatcher", "* * * * *", "queue Ready issues whose blockers are closed", built=False),
        JobSpec("queue", "* * * * *", "run queued tasks in war-rooms, open PRs", built=False),
        JobSpec("pr_monitor", "*/5 * * * *", "merge green PRs, rebase, send red ones back", built=False),
        JobSpec(
            "telegram_control", "* * * * *", "one poll round of the Telegram control bot",
            always_on=True, built=False,
        ),
    )
}

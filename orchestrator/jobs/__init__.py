"""The cron entrypoints: one module per job, each exposing `run(deps, config, now, dry_run=...)`.

This module is imported on every `agentos run`, before the switch check, so it holds only
plain data: importing a job's module (and the libraries it needs) happens after the switches.
"""

from __future__ import annotations


class JobSpec:
    """One cron entrypoint. A plain class rather than a dataclass: it is on every tick's path."""

    __slots__ = ("name", "schedule", "summary", "always_on", "built", "target")

    def __init__(
        self,
        name: str,
        schedule: str,
        summary: str,
        *,
        always_on: bool = False,
        built: bool = True,
        target: str = "",
    ) -> None:
        self.name = name
        self.schedule = schedule  # default cron expression; config.schedule overrides it
        self.summary = summary
        self.always_on = always_on  # runs while the global switch is off (the control plane)
        self.built = built  # False while the job is planned but not written yet
        self.target = target  # the module to import; default orchestrator.jobs.<name>

    @property
    def module(self) -> str:
        return self.target or f"orchestrator.jobs.{self.name}"


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("dispatcher", "* * * * *", "queue Ready issues whose blockers are closed"),
        JobSpec("queue", "* * * * *", "run queued tasks in war-rooms, open PRs"),
        JobSpec("pr_monitor", "*/5 * * * *", "merge green PRs, rebase, send red ones back"),
        JobSpec(
            "incident_scanner",
            "*/15 * * * *",
            "file an issue per new incident: crashes, repeated failures, your app's signals",
        ),
        JobSpec(
            "log_analyzer",
            "30 6 * * 1",
            "file chronic problems of the last week; a quiet week files nothing",
        ),
        JobSpec(
            "groomer",
            "20 7 * * *",
            "backlog hygiene: duplicates marked, free issues noted, wrong cards repaired",
        ),
        JobSpec("scorer", "0 8 * * *", "a daily digest of the fleet's scores to the chat"),
        JobSpec(
            "plan_import",
            "7 * * * *",
            "bring GitHub in step with each repo's plan file (repos[].plan_file) when it changed",
        ),
        JobSpec(
            "planner",
            "*/5 * * * *",
            "propose a sprint per repo at its cadence; apply it once approved in the chat",
        ),
        JobSpec(
            "telegram_control",
            "* * * * *",
            "one poll round of the Telegram control bot",
            always_on=True,
        ),
    )
}

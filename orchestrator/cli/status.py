"""Render `agentos status`: switches, refused tokens, repos, jobs with their last run, mailbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from orchestrator.config.model import Config
from orchestrator.core.notify import SERVICES
from orchestrator.jobs import JobSpec
from orchestrator.store.logs import event_log, last_event
from orchestrator.store.mailbox import count_by_state
from orchestrator.store.switches import Switches
from orchestrator.store.unauthorized import RefusedTokens


def render(config: Config, jobs: Mapping[str, JobSpec]) -> str:
    """Return the status report as text."""
    switches = Switches(config.paths.state_dir)
    since = switches.off_since()
    lines = [
        f"Agent OS: {'ON' if since is None else f'OFF (since {since})'}",
        f"config:   {config.source}",
    ]
    if config.overridden:
        lines.append(f"overridden from chat: {', '.join(config.overridden)}")
    from orchestrator.config.load import overrides_problem

    problem = overrides_problem(config)
    if problem:
        lines.append(f"PROBLEM:  {problem}")
    lines.append(_quarantine(config))
    lines += _refused(config)
    lines += ["", "repos:"]
    width = max(len(r.key) for r in config.repos)
    for repo in config.repos:
        state = "on " if switches.repo_on(repo.key) else "off"
        mode = repo.automation_mode.value + (
            " (overridden)" if _overridden(config, repo.key) else ""
        )
        lines.append(
            f"  {repo.key:<{width}}  {state}  {repo.github}  {mode}  "
            f"max {repo.max_parallel_tasks} at once"
        )
    lines += ["", "jobs:"]
    width = max(len(name) for name in jobs)
    for name, spec in jobs.items():
        state = "on " if switches.job_on(name) else "off"
        note = "" if spec.built else "  (not built yet)"
        schedule = config.schedule.get(name, spec.schedule)
        lines.append(f"  {name:<{width}}  {state}  {schedule:<13}  {_last_run(config, name)}{note}")
    counts = count_by_state(config.paths.mailbox_dir)
    lines += ["", "mailbox:  " + "  ".join(f"{k} {v}" for k, v in counts.items())]
    from orchestrator.delivery.spending import status_line

    lines.append(status_line(config, datetime.now(UTC)))
    return "\n".join(lines)


def _refused(config: Config) -> list[str]:
    """Say which tokens a service refuses: the jobs that need it stop until it is fixed."""
    return [
        f"REFUSED:  {SERVICES.get(r.service, r.service)} refused the token since "
        f"{r.since[:19].replace('T', ' ')}Z (job {r.job}): {r.detail}; fix it, then run "
        "`agentos doctor`"
        for r in RefusedTokens(config.paths.state_dir).current().values()
    ]


def _overridden(config: Config, key: str) -> bool:
    index = next(i for i, r in enumerate(config.repos) if r.key == key)
    return any(k.startswith(f"repos[{index}].") for k in config.overridden)


def _last_run(config: Config, job: str) -> str:
    log = event_log(config.paths.logs_dir, job)
    # a log just rotated (store.rotation) may hold no run yet: its newest is in `<job>.jsonl.1`
    event = last_event(log) or last_event(log.with_name(f"{log.name}.1"))
    if event is None:
        return "never run"
    outcome = event.get("outcome", "?")
    duration = event.get("duration_ms")
    took = f"  {duration} ms" if isinstance(duration, int) else ""
    return f"last run {str(event.get('ts', '?'))[:19].replace('T', ' ')}Z  {outcome}{took}"


def _quarantine(config: Config) -> str:
    """Say how many damaged runtime files wait in runtime/quarantine/ for a person."""
    from orchestrator.store import quarantine

    aside = quarantine.listing(config.paths.runtime_dir)
    if not aside:
        return "set aside: nothing (runtime/quarantine/ is empty)"
    return (
        f"set aside: {len(aside)} damaged file(s) in {quarantine.folder(config.paths.runtime_dir)}"
    )

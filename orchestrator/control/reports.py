"""The read-only replies: /status, /repos, /jobs and /queue, gathered from runtime/ and GitHub."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from orchestrator.config.load import overrides_problem
from orchestrator.config.model import Config
from orchestrator.control.explaining import task_fact
from orchestrator.control.settings import overridden
from orchestrator.core.chat import PROTECTED_JOB
from orchestrator.core.explain import Waiting, queue_report
from orchestrator.core.tasks import MailboxState
from orchestrator.delivery import spending
from orchestrator.errors import TrackerError
from orchestrator.jobs import JobSpec
from orchestrator.ports import Tracker
from orchestrator.store.logs import event_log, last_event
from orchestrator.store.mailbox import Mailbox, count_by_state
from orchestrator.store.switches import Switches

MAX_LISTED = 10


def status(
    config: Config,
    jobs: Mapping[str, JobSpec],
    switches: Switches,
    mailbox: Mailbox,
    tracker: Tracker | None,
    now: datetime | None = None,
) -> str:
    """Return /status.

    It shows the switch, running tasks, mailbox counts, today's spend against the cost caps,
    open agent PRs, last runs and overrides.
    """
    since = switches.off_since()
    lines = ["Agent OS: ON" if since is None else f"Agent OS: OFF (since {since})"]
    off = [f"repo {r.key}" for r in config.repos if not switches.repo_on(r.key)]
    off += [f"job {name}" for name in jobs if not switches.job_on(name)]
    if off:
        lines.append("Switched off: " + ", ".join(off))
    running = list(mailbox.tasks(MailboxState.PROCESSING))
    lines.append(
        f"Running ({len(running)}): "
        + (
            ", ".join(f"{t.repo_key}#{t.issue} {t.title}" for t in running[:MAX_LISTED])
            or "nothing"
        )
    )
    counts = count_by_state(config.paths.mailbox_dir)
    lines.append("Mailbox: " + ", ".join(f"{state} {n}" for state, n in counts.items()))
    lines.append(spending.status_line(config, now or datetime.now(UTC)))
    lines += _pulls(config, tracker)
    lines.append("Last runs:")
    lines += [f"  {name}: {_last_run(config, name, spec)}" for name, spec in jobs.items()]
    problem, changed = overrides_problem(config), overridden(config)
    if problem:  # a bad overrides.yaml the control plane left out: its keys are not in force
        lines.append(f"Overrides: {problem}")
    elif changed:
        lines.append(
            "Overridden from chat: " + ", ".join(f"{key} = {value}" for key, value in changed)
        )
    return "\n".join(lines)


def _pulls(config: Config, tracker: Tracker | None) -> list[str]:
    if tracker is None:
        return ["Open agent PRs: unknown (no GitHub access configured)"]
    found = []
    try:
        for repo in config.repos:
            found += [
                f"  {repo.github}#{pr.number} {pr.title}" for pr in tracker.open_pulls(repo.github)
            ]
    except TrackerError as exc:
        return [f"Open agent PRs: unknown (GitHub: {exc})"]
    more = [f"  … and {len(found) - MAX_LISTED} more"] if len(found) > MAX_LISTED else []
    return [
        f"Open agent PRs ({len(found)}):" if found else "Open agent PRs: none",
        *found[:MAX_LISTED],
        *more,
    ]


def _last_run(config: Config, job: str, spec: JobSpec) -> str:
    if not spec.built:
        return "not built yet"
    event = last_event(event_log(config.paths.logs_dir, job))
    if event is None:
        return "never run"
    when = str(event.get("ts", "?"))[:16].replace("T", " ")
    return f"{event.get('outcome', '?')} at {when} UTC"


def repos(config: Config, switches: Switches) -> str:
    """Return /repos: each repo's switch and mode, saying which mode is overridden from chat."""
    lines = ["Repos:"]
    for i, repo in enumerate(config.repos):
        mode = repo.automation_mode.value
        if f"repos[{i}].automation_mode" in config.overridden:  # applied, not merely written
            mode += " (set from chat)"
        lines.append(
            f"  {repo.key}: {'on' if switches.repo_on(repo.key) else 'off'}, {mode}, {repo.github}"
        )
    return "\n".join(lines)


def jobs(specs: Mapping[str, JobSpec], switches: Switches) -> str:
    """Return /jobs: each job's switch; the control plane is marked as always on."""
    lines = ["Jobs:"]
    for name, spec in specs.items():
        notes = [] if spec.built else ["not built yet"]
        if name == PROTECTED_JOB:
            notes.append("cannot be switched off from chat")
        elif spec.always_on:
            notes.append("runs while Agent OS is off")
        suffix = f" ({'; '.join(notes)})" if notes else ""
        lines.append(f"  {name}: {'on' if switches.job_on(name) else 'off'}{suffix}")
    return "\n".join(lines)


def queue(config: Config, switches: Switches, mailbox: Mailbox) -> str:
    """Return /queue: the waiting tasks in the order they would start, and why each waits.

    What waits is a task in inbox/ (for a worker) or in escalated/ (for a person); a task in
    retried/ waits for nothing, another attempt took over.
    """
    waiting = [
        Waiting(f"{t.repo_key}#{t.issue}", t.title, task_fact(t, state), t.repo_key, t.priority)
        for state in (MailboxState.INBOX, MailboxState.ESCALATED)
        for t in mailbox.tasks(state)
    ]
    running = list(mailbox.tasks(MailboxState.PROCESSING))
    per_repo = {
        r.key: (sum(1 for t in running if t.repo_key == r.key), r.max_parallel_tasks)
        for r in config.repos
    }
    gates = {"Agent OS": switches.is_on(), "job queue": switches.job_on("queue")}
    repo_on = {r.key: switches.repo_on(r.key) for r in config.repos}
    return queue_report(waiting, len(running), config.task_slots, per_repo, gates, repo_on)

"""What the daily digest says, gathered: the ledger's scores for the last day, what needs a person.

The scorer job (once a day, to the chat) and `/report` (on demand, as the reply) both call
`gather`; only the job records that the day's digest was sent. The figures come from the outcome
ledger, brought up to date first. What waits for a person comes from GitHub, two listings per
repo that is switched on: its open issues labelled `agentos:blocked` (escalations), and its
open `agent/` PRs that wait for a person (`review.awaiting`): in a `dispatcher_only` repo every
one, which the PR monitor holds for a person to review and merge; in full mode those the monitor
last found waiting for one (a branch protection rule such as a required review, no checks), each
with why, from its memo (the PR list carries no review state). The incidents are the ledger's,
filed in the window. A repo GitHub cannot be read for is named as unreadable; the rest goes on.
The groomer's report (`store.groomed`), when it ran in the window, adds the escalations waiting
longer than `improve.stale_days` and its line of what it tidied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.config.model import Config
from orchestrator.core import follow_ups, grooming, labels, scoring
from orchestrator.core.digest import Attention, Listed, digest
from orchestrator.core.dora import when
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.ports import Tracker
from orchestrator.review import awaiting
from orchestrator.store import groomed
from orchestrator.store.ledger import Ledger
from orchestrator.store.switches import Switches

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Gathered:
    """The last day's scores and what waits for a person; `errors`: repo -> why it is unread."""

    report: scoring.Report
    attention: Attention
    errors: dict[str, str] = field(default_factory=dict)


def gather(config: Config, tracker: Tracker | None, switches: Switches, now: datetime) -> Gathered:
    """Bring the ledger up to date, score the day before `now`, and ask GitHub what waits.

    A refused token (`Unauthorized`) is raised: it is no one repo's trouble.
    """
    keys = {r.github: r.key for r in config.repos}
    ledger = Ledger.of(config)
    ledger.update()
    since = now - DAY
    incidents = ledger.incidents()
    report = scoring.score(
        ledger.tasks(),
        ledger.merges(),
        keys,
        since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        DAY / timedelta(days=1),
        reverts=ledger.reverts(),
        incidents=incidents,
        failure_window_days=config.improve.failure_window_days,
    )
    escalations, reviews, errors = _waiting(config, tracker, switches)
    stale, groomed_line = _groomed(config, escalations, since)
    attention = Attention(
        escalations=tuple(escalations),
        reviews=tuple(reviews),
        incidents=tuple(_filed(incidents, {r.key: r.github for r in config.repos}, since)),
        unreadable=tuple(errors),
        stale=stale,
        groomed=groomed_line,
    )
    return Gathered(report, attention, errors)


def _waiting(
    config: Config, tracker: Tracker | None, switches: Switches
) -> tuple[list[Listed], list[Listed], dict[str, str]]:
    """Return the escalations and the PRs held for review of the repos switched on, and errors."""
    escalations: list[Listed] = []
    reviews: list[Listed] = []
    errors: dict[str, str] = {}
    memo = awaiting.monitor_memo(config.paths.state_dir)
    for repo in config.repos:
        if not switches.repo_on(repo.key):
            continue
        if tracker is None:
            errors[repo.github] = "no GitHub access configured"
            continue
        try:
            blocked = tracker.open_issues(repo.github, labels=[labels.BLOCKED])
            held = awaiting.waiting(repo, tracker.open_pulls(repo.github), memo)
        except Unauthorized:
            raise
        except TrackerError as error:
            errors[repo.github] = str(error)
            continue
        escalations += [Listed(repo.github, i.number, i.title) for i in blocked]
        reviews += [Listed(repo.github, pr.number, pr.title, _why(reason)) for pr, reason in held]
    return escalations, reviews, errors


def _why(reason: str) -> str:
    """Return why a PR is listed; nothing for the hold every dispatcher_only PR gets."""
    return "" if reason == "dispatcher_only" else reason.replace("_", " ")


def _groomed(
    config: Config, escalations: list[Listed], since: datetime
) -> tuple[tuple[Listed, ...], str]:
    """Return the groomer's stale escalations still waiting, longest first, and its line; both
    empty when it did not run in the window (`runtime/state/groomer.json`)."""
    report = groomed.read(config.paths.state_dir)
    ran = when(report.at) if report is not None else None
    if report is None or ran is None or ran < since:
        return (), ""
    waiting = {item.link for item in escalations}
    stale = tuple(
        Listed(s.repo, s.number, f"{s.days} days: {s.title}")
        for s in report.stale
        if f"{s.repo}#{s.number}" in waiting
    )
    return stale, grooming.summary(report)


def _filed(
    rows: Iterable[Mapping[str, Any]], repos: Mapping[str, str], since: datetime
) -> list[Listed]:
    """Return the incidents filed since `since`, oldest first, as links with kind and severity."""
    found = []
    for row in rows:
        filed = when(row.get("filed_at"))
        if filed is None or filed < since or not isinstance(row.get("issue"), int):
            continue
        if row.get("kind") == follow_ups.KIND:  # a discovered follow-up: no incident
            continue
        key = str(row.get("repo_key", ""))
        kind = str(row.get("kind") or "incident").replace("_", " ")
        severity = f" ({row['severity']})" if row.get("severity") else ""
        found.append((filed, Listed(repos.get(key, key), row["issue"], f"{kind}{severity}")))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def reply(config: Config, tracker: Tracker | None, switches: Switches, now: datetime) -> str:
    """Return `/report`'s reply: the digest as it would be sent now (nothing is marked sent)."""
    gathered = gather(config, tracker, switches, now)
    return digest(gathered.report, gathered.attention)

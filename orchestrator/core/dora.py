"""DORA's four measures from the outcome ledger's rows, for the fleet and for each repo.

- **Deployment frequency**: merges to a base branch per day of the window.
- **Lead time**: from the issue's first queueing (it was Ready) to its merge; the median.
- **Change failure rate**: the share of the window's merges that failed. A merge failed when it
  was reverted (a `reverts` row names its PR) within `failure_window_days` of it, or when an
  incident of its repo that a change can cause (`CHANGE_FAILURES`: a signal source's, or the same
  agent failure on several tasks) was first seen within `failure_window_days` after it and
  before the repo's next merge: the latest merge before an incident is the one blamed, as the
  change most likely to have caused it (an incident in a repo with no merge before it blames
  none; a merge is failed once however many incidents it is blamed for). The link to a revert
  is exact; the link to an incident is only in time, which is why the window bounds it.
- **Time to restore**: the median of the restorations completed in the window: a revert's time
  after the merge it undid, a fixed incident's fix after its first sighting (an incident reopened
  after its fix is not restored).

Pure: the rows come in as mappings (store.ledger's), times as the logs' ISO strings; a row whose
time cannot be read is left out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.core.evidence import as_int

Row = Mapping[str, Any]


@dataclass
class Dora:
    """One repo's or the fleet's DORA figures over a window of `days`."""

    days: float = 0.0
    merges: int = 0
    failed: int = 0  # of those merges: reverted, or blamed for an incident, in the failure window
    lead_hours: list[float] = field(default_factory=list)  # queued -> merged, per merge
    restore_hours: list[float] = field(default_factory=list)  # per restoration in the window

    @property
    def merges_per_day(self) -> float:
        return self.merges / self.days if self.days else 0.0

    @property
    def change_failure_rate(self) -> float | None:
        return self.failed / self.merges if self.merges else None

    @property
    def lead_time_hours(self) -> float | None:
        return statistics.median(self.lead_hours) if self.lead_hours else None

    @property
    def time_to_restore_hours(self) -> float | None:
        return statistics.median(self.restore_hours) if self.restore_hours else None

    def as_json(self) -> dict[str, Any]:
        return {
            "merges": self.merges,
            "merges_per_day": self.merges_per_day,
            "lead_time_hours": self.lead_time_hours,
            "failed_merges": self.failed,
            "change_failure_rate": self.change_failure_rate,
            "time_to_restore_hours": self.time_to_restore_hours,
        }


@dataclass(frozen=True, slots=True)
class Deployment:
    """One merge of the ledger, its repo as the repo key the tasks carry."""

    repo: str
    pr: int
    issue: int
    at: datetime


def when(stamp: object) -> datetime | None:
    """Return an ISO timestamp as an aware datetime (naive means UTC); None when unreadable."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        value = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def deployments(merges: Iterable[Row], repo_keys: Mapping[str, str]) -> list[Deployment]:
    """Return the merges of the configured repos that name their issue, oldest first.

    `repo_keys` maps "owner/name" to the repo key.
    """
    found = []
    for row in merges:
        key, at = repo_keys.get(str(row.get("repo", ""))), when(row.get("merged_at"))
        pr, issue = as_int(row.get("pr")), as_int(row.get("issue"))
        if key is not None and at is not None and pr is not None and issue is not None:
            found.append(Deployment(key, pr, issue, at))
    return sorted(found, key=lambda d: (d.at, d.repo, d.pr))


def reverted(
    reverts: Iterable[Row], repo_keys: Mapping[str, str]
) -> dict[tuple[str, int], datetime]:
    """Return (repo key, PR) -> when it was reverted (the first time)."""
    found: dict[tuple[str, int], datetime] = {}
    for row in reverts:
        key, pr = repo_keys.get(str(row.get("repo", ""))), as_int(row.get("pr"))
        at = when(row.get("reverted_at"))
        if key is not None and pr is not None and at is not None:
            found[(key, pr)] = min(found.get((key, pr), at), at)
    return found


def measure(
    history: Sequence[Deployment],
    start: datetime,
    days: float,
    *,
    reverts: Mapping[tuple[str, int], datetime],
    incidents: Iterable[Row],
    window: timedelta,
    first_queued: Mapping[tuple[str, int], datetime],
) -> tuple[Dora, dict[str, Dora]]:
    """Return the fleet's figures and each repo's for the merges since `start`.

    `history` is every merge the ledger holds (oldest first): an incident in the window may blame
    a merge before it, and a revert in it undo one.
    """
    fleet = Dora(days)
    repos: defaultdict[str, Dora] = defaultdict(lambda: Dora(days))
    rows = list(incidents)
    failed = _failed(history, reverts, rows, window)
    for merge in history:
        if merge.at < start:
            continue
        for board in (fleet, repos[merge.repo]):
            board.merges += 1
            board.failed += int((merge.repo, merge.pr) in failed)
            queued = first_queued.get((merge.repo, merge.issue))
            if queued is not None:
                board.lead_hours.append(hours(queued, merge.at))
    for repo, took in _restorations(history, reverts, rows, start):
        fleet.restore_hours.append(took)
        repos[repo].restore_hours.append(took)
    return fleet, dict(repos)


# The incidents a merge can cause: the software failing (a user's signal source) or every agent
# failing the same way on its base. A crashed job, GitHub's errors, a quota storm or a canary are
# Agent OS's own trouble, not a failed change, and blame no merge.
CHANGE_FAILURES = ("source", "task_failed")


def _failed(
    history: Sequence[Deployment],
    reverts: Mapping[tuple[str, int], datetime],
    incidents: Iterable[Row],
    window: timedelta,
) -> set[tuple[str, int]]:
    """Return (repo key, PR) of every merge that failed (see the module's docstring)."""
    failed = {
        (m.repo, m.pr)
        for m in history
        if (undone := reverts.get((m.repo, m.pr))) is not None and m.at <= undone <= m.at + window
    }
    by_repo: dict[str, list[Deployment]] = defaultdict(list)
    for merge in history:
        by_repo[merge.repo].append(merge)
    for row in incidents:
        repo, seen = str(row.get("repo_key", "")), when(row.get("first_seen"))
        if seen is None or str(row.get("kind", "")) not in CHANGE_FAILURES:
            continue
        before = [m for m in by_repo.get(repo, ()) if m.at < seen]
        if before and seen - before[-1].at <= window:  # the latest merge before it is blamed
            failed.add((repo, before[-1].pr))
    return failed


def _restorations(
    history: Sequence[Deployment],
    reverts: Mapping[tuple[str, int], datetime],
    incidents: Iterable[Row],
    start: datetime,
) -> list[tuple[str, float]]:
    """Return (repo key, hours) of each revert and each incident fix made since `start`."""
    merged = {(m.repo, m.pr): m.at for m in history}
    found = [
        (key[0], hours(merged[key], at))
        for key, at in sorted(reverts.items(), key=lambda item: item[1])
        if at >= start and key in merged
    ]
    for row in incidents:
        seen, fixed = when(row.get("first_seen")), when(row.get("fixed_at"))
        reopened = when(row.get("reopened_at"))
        if seen is None or fixed is None or fixed < start:
            continue
        if reopened is not None and reopened > fixed:
            continue  # fixed, then back: not restored
        found.append((str(row.get("repo_key", "")), hours(seen, fixed)))
    return found


def rate(value: float | None) -> str:
    """A share as the report shows it: `25%`, or `-` when there was nothing to measure."""
    return "-" if value is None else f"{value:.0%}"


def duration(value: float | None) -> str:
    """Hours as the report shows them: `40 min`, `2.5 h`, `3.0 d`, or `-`."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def table(fleet: Dora, repos: Mapping[str, Dora]) -> list[str]:
    """Return the DORA table's lines: the fleet first, then each repo."""
    lines = [f"{'DORA':<12} merges/day  lead time  change failure rate  time to restore"]
    for name, board in (("fleet", fleet), *sorted(repos.items())):
        failure = rate(board.change_failure_rate)
        if board.merges:
            failure += f" ({board.failed}/{board.merges})"
        lines.append(
            f"{name:<12} {board.merges_per_day:>10.1f}  {duration(board.lead_time_hours):>9}"
            f"  {failure:>19}  {duration(board.time_to_restore_hours):>15}"
        )
    return lines

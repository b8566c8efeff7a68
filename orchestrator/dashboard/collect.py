"""Gather what the dashboard's main page shows into plain values: the ledger's figures, the
mailbox's tasks by state, the running agents, the last day's events.

It reads and never writes (`refresh`, the ledger's own update, is the one exception, and is
separate; listing.py reads the mailbox, figures.py the ledger, events.py the logs). Each part
that cannot be read (a damaged ledger, a torn task file, an unreadable folder) becomes a note on
the page, and the other parts are shown all the same.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from orchestrator.config.model import Config
from orchestrator.core.tasks import MailboxState
from orchestrator.dashboard import events, figures, listing, series
from orchestrator.dashboard.events import EventLine
from orchestrator.dashboard.listing import RunningAgent, StateGroup
from orchestrator.dashboard.series import Series, Share
from orchestrator.store import ledger

DAYS, MAX_DAYS = 30, 731  # the window's days: by default, at most
EVENTS = 150  # events listed from the last day
NEWEST = 600  # task ids the ledger names, the last judged first, to find the newest ended
# What a part that cannot be read raises: it becomes a note, the rest of the page is shown.
UNREADABLE = (OSError, ValueError, LookupError, TypeError, sqlite3.Error)


@dataclass(frozen=True, slots=True)
class Totals:
    """The window's headline figures."""

    merges: int  # PRs merged
    attempts: int  # attempts judged
    merged: int  # of those, the ones whose PR was merged
    cost_usd: float  # what the attempts judged cost
    estimated: int  # attempts whose cost was estimated from tokens
    lead_hours: float | None  # median, Ready (queued) -> merged
    running: int
    waiting: int

    @property
    def merged_rate(self) -> float | None:
        return self.merged / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the main page shows."""

    generated_at: datetime
    days: int
    since: str
    totals: Totals
    groups: tuple[StateGroup, ...]
    running: tuple[RunningAgent, ...]
    events: tuple[EventLine, ...]
    routine: int  # routine tick lines of the last day, left out of `events`
    charts: tuple[Series, ...]  # throughput, lead time, cost, queue depth
    agents: tuple[Share, ...]
    notes: tuple[str, ...]

    def task_ids(self) -> tuple[str, ...]:
        """Every task the page links to, once each."""
        ids = [t.task_id for g in self.groups for t in g.tasks]
        ids += [e.task_id for e in self.events if e.task_id]
        return tuple(dict.fromkeys(ids))


def stamp(at: datetime) -> str:
    """The ledger's and the logs' form of a time: `2026-12-03T17:05:02.960Z`."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def window(now: datetime, days: int) -> datetime:
    """The start (UTC midnight) of a window of `days` days ending today."""
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(), UTC)


def refresh(config: Config) -> str | None:
    """Bring the ledger up to date from the logs; return a note when it could not be."""
    try:
        ledger.Ledger.of(config).update()
    except UNREADABLE as exc:
        return f"The outcome ledger could not be brought up to date: {say(exc)}"
    return None


def overview(config: Config, now: datetime, days: int = DAYS) -> Overview:
    """Gather the main page's values for the window of `days` days ending at `now`."""
    notes: list[str] = []
    start = window(now, days)
    since = stamp(start)
    path = config.paths.runtime_dir / ledger.FILE_NAME
    groups = _tasks(path, config.paths.mailbox_dir, notes)
    found = _Figures()
    try:
        found = _window_figures(path, config, since)
    except UNREADABLE as exc:
        notes.append(f"The outcome ledger could not be read: {say(exc)}")
    recent = events.Recent((), 0)
    try:
        recent = events.recent(config.paths.logs_dir, stamp(now - timedelta(days=1)), EVENTS)
    except UNREADABLE as exc:
        notes.append(f"The job logs could not be read: {say(exc)}")
    processing, inbox = groups[MailboxState.PROCESSING], groups[MailboxState.INBOX]
    end = start + timedelta(days=days)
    return Overview(
        generated_at=now,
        days=days,
        since=since,
        totals=Totals(
            merges=found.merges,
            attempts=sum(n for n, _ in found.agents.values()),
            merged=sum(won for _, won in found.agents.values()),
            cost_usd=sum(c.cost_usd for c in found.costs),
            estimated=sum(c.estimated for c in found.costs),
            lead_hours=series.median([h for _, h in found.leads]) if found.leads else None,
            running=processing.count,
            waiting=inbox.count,
        ),
        groups=tuple(groups[state] for state in listing.ORDER),
        running=listing.running(config.paths.rooms_dir, processing, now),
        events=recent.events,
        routine=recent.routine,
        charts=(
            series.throughput(found.per_day, start, end),
            series.lead_time(found.leads, start, end),
            series.cost(found.costs, start, end),
            series.queue(found.depth, start, end),
        ),
        agents=series.agents(found.agents),
        notes=tuple(dict.fromkeys(notes)),  # the ledger's problem is said once
    )


def _tasks(path: Path, mailbox_dir: Path, notes: list[str]) -> dict[MailboxState, StateGroup]:
    """The mailbox's tasks by state, each one listed with the ledger's outcome."""
    db, newest, outcomes = None, None, {}
    try:
        db = figures.connect(path)
        newest = figures.newest(db, NEWEST)
    except UNREADABLE as exc:
        notes.append(f"The outcome ledger could not be read: {say(exc)}")
    try:
        groups = listing.listing(mailbox_dir, newest)
    except UNREADABLE as exc:
        notes.append(f"The mailbox could not be read: {say(exc)}")
        groups = {state: StateGroup(state.value, 0, ()) for state in listing.ORDER}
    if db is not None:
        with closing(db):
            try:
                outcomes = figures.outcomes(
                    db, (t.task_id for g in groups.values() for t in g.tasks)
                )
            except UNREADABLE as exc:
                notes.append(f"The outcome ledger could not be read: {say(exc)}")
    return {state: listing.with_outcomes(g, outcomes) for state, g in groups.items()}


@dataclass(frozen=True, slots=True)
class _Figures:
    """What the ledger says of the window."""

    merges: int = 0
    per_day: tuple[figures.DayCount, ...] = ()
    costs: tuple[figures.DayCount, ...] = ()
    leads: tuple[tuple[str, float], ...] = ()
    depth: tuple[int, list[tuple[str, int]]] = (86400, [])
    agents: dict[str, tuple[int, int]] = field(default_factory=dict)


def _window_figures(path: Path, config: Config, since: str) -> _Figures:
    keys = {r.github: r.key for r in config.repos}
    with closing(figures.connect(path)) as db:
        return _Figures(
            merges=figures.merges_since(db, since),
            per_day=tuple(figures.merges_per_day(db, since)),
            costs=tuple(figures.cost_per_day(db, since)),
            leads=tuple(figures.lead_times(db, since, keys)),
            depth=figures.queue_depth(db, since),
            agents=figures.agents(db, keys, since),
        )


def say(exc: BaseException) -> str:
    """An exception as a note says it: its type and the first line of its message."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"[:300] if first else type(exc).__name__

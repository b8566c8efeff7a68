"""The charts' values: points over time and shares by category, built from the ledger's figures.

Plain values for charts.py to draw: each chart of a window (days, or a short history's seconds,
minutes or hours) is a `Series`; the merged rate per agent is a tuple of `Share`s. Also how the
pages write money, shares and durations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrator.dashboard.figures import DayCount


@dataclass(frozen=True, slots=True)
class Point:
    """One bar or dot of a chart over time: where it starts, its value, its hover text."""

    at: datetime
    value: float
    title: str


@dataclass(frozen=True, slots=True)
class Series:
    """A chart's points over [start, end), each `step` wide; `empty` says there are none."""

    key: str
    title: str
    unit: str
    start: datetime
    end: datetime
    step: timedelta
    points: tuple[Point, ...]
    empty: str


@dataclass(frozen=True, slots=True)
class Share:
    """One bar of a chart by category: an agent's merged rate."""

    label: str
    value: float  # 0 to 1
    title: str


def throughput(rows: Sequence[DayCount], start: datetime, end: datetime) -> Series:
    """PRs merged per day: a point per day that had any."""
    points = tuple(Point(_bucket(r.day), r.count, f"{r.day}: {r.count} merged") for r in rows)
    return Series(
        "throughput", "Throughput: PRs merged per day", "merged", start, end,
        timedelta(days=1), points, "No PR merged in this window",
    )  # fmt: skip


def lead_time(rows: Sequence[tuple[str, float]], start: datetime, end: datetime) -> Series:
    """The median lead time of each day's merges, in hours."""
    by_day: dict[str, list[float]] = {}
    for day, hours in rows:
        by_day.setdefault(day, []).append(hours)
    medians = {day: median(hours) for day, hours in by_day.items()}
    points = tuple(
        Point(_bucket(day), m, f"{day}: median {duration(m)} over {len(by_day[day])} merged")
        for day, m in medians.items()
    )
    return Series(
        "lead_time", "Lead time, Ready → merged (median per day)", "hours", start, end,
        timedelta(days=1), points, "No merged issue with a queue time in this window",
    )  # fmt: skip


def cost(rows: Sequence[DayCount], start: datetime, end: datetime) -> Series:
    """What each day's judged attempts cost, in dollars."""
    points = tuple(
        Point(
            _bucket(r.day),
            r.cost_usd,
            f"{r.day}: {money(r.cost_usd)} for {r.count} attempts"
            + (f" ({r.estimated} estimated from tokens)" if r.estimated else ""),
        )
        for r in rows
    )
    return Series(
        "cost", "Cost per day (attempts judged)", "USD", start, end, timedelta(days=1),
        points, "No attempt judged in this window",
    )  # fmt: skip


def queue(depth: tuple[int, list[tuple[str, int]]], start: datetime, end: datetime) -> Series:
    """The most tasks waiting in each bucket (figures.queue_depth's), over its own span when
    that is shorter than a day's buckets."""
    seconds, rows = depth
    step = timedelta(seconds=seconds)
    points = tuple(
        Point(_bucket(label), value, f"{label.replace('T', ' ')}: at most {value} waiting")
        for label, value in rows
    )
    if points and seconds < 86400:  # a short history: its own span, not the window's days
        start, end = points[0].at, points[-1].at + step
    return Series(
        "queue", "Queue depth: tasks waiting for a worker", "tasks", start, end, step,
        points, "Nothing queued in this window",
    )  # fmt: skip


def _bucket(label: str) -> datetime:
    """The start of a bucket named by a timestamp's first characters (a day, hour, minute…)."""
    return datetime.fromisoformat(label).replace(tzinfo=UTC)


def agents(per_agent: dict[str, tuple[int, int]]) -> tuple[Share, ...]:
    """Each agent's merged rate from its (attempts, merged), by name."""
    return tuple(
        Share(
            agent,
            won / tried if tried else 0.0,
            f"{agent}: {won} of {tried} attempts merged ({percent(won / tried if tried else 0)})",
        )
        for agent, (tried, won) in sorted(per_agent.items())
    )


def median(values: Sequence[float]) -> float:
    """The median of some values (statistics.median's, several times quicker for a few)."""
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def money(value: float | None) -> str:
    """Dollars as the page writes them: `$1,234.57`; `–` when unknown."""
    return "–" if value is None else f"${value:,.2f}"


def percent(value: float | None) -> str:
    """A share as the page writes it: `67%`; `–` when unknown."""
    return "–" if value is None else f"{value * 100:.0f}%"


def duration(hours: float | None) -> str:
    """Hours as the page writes them: `42 s`, `12 min`, `3.5 h`, `2.1 d`."""
    if hours is None:
        return "–"
    seconds = hours * 3600
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"

"""The fleet's scores from the outcome ledger: per agent and per repo, and the DORA measures.

Success is *merged*, never "the agent said complete": an attempt counts as merged when the pull
request it opened (or its issue's, for a fix) was merged. Pure: the rows come in as mappings
(store.ledger's), the window's start as a timestamp string in the logs' own format (UTC ISO).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]


@dataclass
class Score:
    """One agent's or one repo's figures over the window."""

    attempts: int = 0
    merged: int = 0  # attempts whose work was merged
    escalated: int = 0  # attempts that ended handing the issue to a person
    cost_usd: float = 0.0  # what the attempts cost, where the backend reported it
    tokens: int = 0
    lead_hours: list[float] = field(default_factory=list)  # queued -> merged, per merged issue

    @property
    def merged_rate(self) -> float | None:
        return self.merged / self.attempts if self.attempts else None

    @property
    def attempts_per_merge(self) -> float | None:
        return self.attempts / self.merged if self.merged else None

    @property
    def cost_per_merge(self) -> float | None:
        return self.cost_usd / self.merged if self.merged else None

    @property
    def lead_time_hours(self) -> float | None:
        return statistics.median(self.lead_hours) if self.lead_hours else None


@dataclass
class Report:
    since: str
    days: float
    agents: dict[str, Score]
    repos: dict[str, Score]
    merges: int

    @property
    def merges_per_day(self) -> float:
        """DORA's deployment frequency: merges to a base branch per day."""
        return self.merges / self.days if self.days else 0.0


def score(
    tasks: Iterable[Row],
    merges: Iterable[Row],
    repo_keys: Mapping[str, str],
    since: str,
    days: float,
) -> Report:
    """Score the attempts ended since `since` (ISO UTC) and the merges made since then.

    `repo_keys` maps "owner/name" to the repo key the tasks carry.
    """
    merged_at: dict[tuple[str, int], str] = {}
    count = 0
    for merge in merges:
        key = repo_keys.get(str(merge.get("repo", "")))
        if key is None or merge.get("issue") is None or str(merge["merged_at"]) < since:
            continue
        merged_at[(key, int(merge["issue"]))] = str(merge["merged_at"])
        count += 1
    agents: dict[str, Score] = defaultdict(Score)
    repos: dict[str, Score] = defaultdict(Score)
    first_queued: dict[tuple[str, int], str] = {}
    for task in tasks:
        issue = (str(task["repo_key"]), int(task["issue"]))
        if task.get("queued_at"):
            first_queued[issue] = min(first_queued.get(issue, "~"), str(task["queued_at"]))
        judged = task.get("judged_at")
        if not task.get("next") or not judged or str(judged) < since:
            continue  # still running, or judged before the window
        agent = (str(task.get("agents") or "-").split(",") or ["-"])[-1]
        won = task.get("next") == "open_pr" and issue in merged_at
        for board in (agents[agent], repos[issue[0]]):
            board.attempts += 1
            board.merged += int(won)
            board.escalated += int(task.get("state") == "failed")
            board.cost_usd += float(task.get("cost_usd") or 0.0)
            board.tokens += int(task.get("input_tokens") or 0) + int(task.get("output_tokens") or 0)
    for issue, when in merged_at.items():
        start = first_queued.get(issue)
        if start:
            repos[issue[0]].lead_hours.append(_hours(start, when))
    return Report(since, days, dict(agents), dict(repos), count)


def _hours(start: str, end: str) -> float:
    begun, done = _when(start), _when(end)
    return max(0.0, (done - begun).total_seconds() / 3600)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def render(report: Report) -> str:
    """Return the report as the text `agentos report` prints."""
    lines = [
        f"Since {report.since} ({report.days:g} days): {report.merges} merged, "
        f"{report.merges_per_day:.1f} a day",
        "",
    ]
    for title, boards in (("agent", report.agents), ("repo", report.repos)):
        lines.append(
            f"{title:<12} attempts  merged  rate   tries/merge  cost/merge  escalated  lead time"
        )
        for name, board in sorted(boards.items()):
            lines.append(
                f"{name:<12} {board.attempts:>8}  {board.merged:>6}  {_pct(board.merged_rate):>5}"
                f"  {_num(board.attempts_per_merge):>11}  {_money(board.cost_per_merge):>10}"
                f"  {board.escalated:>9}  {_lead(board.lead_time_hours):>9}"
            )
        if not boards:
            lines.append("(no attempt ended in this window)")
        lines.append("")
    lines.append(
        "change failure rate and time to restore: not measured yet (reverts and incidents are "
        "not tracked yet)"
    )
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    """Return the report as plain data (`agentos report --json`)."""

    def one(board: Score) -> dict[str, Any]:
        return {
            "attempts": board.attempts,
            "merged": board.merged,
            "merged_rate": board.merged_rate,
            "attempts_per_merge": board.attempts_per_merge,
            "cost_usd": round(board.cost_usd, 4),
            "cost_per_merge_usd": board.cost_per_merge,
            "tokens": board.tokens,
            "escalated": board.escalated,
            "lead_time_hours": board.lead_time_hours,
        }

    return {
        "since": report.since,
        "days": report.days,
        "merges": report.merges,
        "merges_per_day": report.merges_per_day,
        "agents": {name: one(b) for name, b in sorted(report.agents.items())},
        "repos": {name: one(b) for name, b in sorted(report.repos.items())},
        "change_failure_rate": None,
        "time_to_restore_hours": None,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:.2f}"


def _lead(hours: float | None) -> str:
    if hours is None:
        return "-"
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"

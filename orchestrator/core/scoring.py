"""The fleet's scores from the outcome ledger: per agent and per repo, and the DORA measures.

Success is *merged and not reverted*, never "the agent said complete": an attempt counts as
merged when it is the implementation attempt that opened the pull request that was merged (its
PR number when the ledger has it, else its issue), and that merge was never reverted. A fixing
attempt (`task_type` `fixing`) is an attempt, so it counts in attempts and cost, but never as the
merge: it is one of the merged PR's *fix rounds*, counted for the agent that opened the PR. The
DORA measures are `core.dora`'s. Pure: the rows come in as mappings (store.ledger's), the
window's start as a timestamp string in the logs' own format (UTC ISO).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orchestrator.core.dora import (
    Deployment,
    Dora,
    deployments,
    duration,
    hours,
    measure,
    rate,
    reverted,
    table,
    when,
)

Row = Mapping[str, Any]
FIXING = "fixing"  # core.tasks.TaskType.FIXING's value, as the ledger's task_type column holds it


@dataclass
class Score:
    """One agent's or one repo's figures over the window."""

    attempts: int = 0
    merged: int = 0  # attempts whose work was merged and not reverted
    escalated: int = 0  # attempts that ended handing the issue to a person
    fix_rounds: int = 0  # fixing attempts the merged PRs needed
    cost_usd: float = 0.0  # what the attempts cost, where the backend reported it
    estimated: int = 0  # attempts whose cost was estimated from tokens, not reported
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
    def fix_rounds_per_merge(self) -> float | None:
        return self.fix_rounds / self.merged if self.merged else None

    @property
    def escalated_share(self) -> float | None:
        return self.escalated / self.attempts if self.attempts else None

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
    fleet: Dora = field(default_factory=Dora)  # DORA's measures for every repo together
    dora: dict[str, Dora] = field(default_factory=dict)  # and for each repo (key)

    @property
    def merges_per_day(self) -> float:
        """DORA's deployment frequency: merges to a base branch per day."""
        return self.merges / self.days if self.days else 0.0

    @property
    def overall(self) -> Score:
        """Every attempt of the window on one board (each attempt has one agent)."""
        total = Score(lead_hours=list(self.fleet.lead_hours))
        for board in self.agents.values():
            total.attempts += board.attempts
            total.merged += board.merged
            total.escalated += board.escalated
            total.fix_rounds += board.fix_rounds
            total.cost_usd += board.cost_usd
            total.estimated += board.estimated
            total.tokens += board.tokens
        return total


def score(
    tasks: Iterable[Row],
    merges: Iterable[Row],
    repo_keys: Mapping[str, str],
    since: str,
    days: float,
    *,
    reverts: Iterable[Row] = (),
    incidents: Iterable[Row] = (),
    failure_window_days: float = 7,
) -> Report:
    """Score the attempts ended since `since` (ISO UTC) and the merges made since then.

    `repo_keys` maps "owner/name" to the repo key the tasks carry; `reverts` and `incidents` are
    the ledger's rows, for the change failure rate and the time to restore (`core.dora`).
    """
    start = when(since)
    if start is None:
        raise ValueError(f"since {since!r}: expected an ISO timestamp")
    history = deployments(merges, repo_keys)
    undone = reverted(reverts, repo_keys)
    recent = [m for m in history if m.at >= start]
    by_pr = {(m.repo, m.pr): m for m in recent}
    by_issue = {(m.repo, m.issue): m for m in recent}
    rows = list(tasks)
    queued = _first_queued(rows)
    fixes = Counter(_generation(t) for t in rows if t.get("task_type") == FIXING)
    agents: dict[str, Score] = defaultdict(Score)
    repos: dict[str, Score] = defaultdict(Score)
    for task in rows:
        judged = task.get("judged_at")
        if not task.get("next") or not judged or str(judged) < since:
            continue  # still running, or judged before the window
        agent = str(task.get("agents") or "-").split(",")[-1] or "-"
        merge = _merge_of(task, by_pr, by_issue)
        won = merge is not None and (merge.repo, merge.pr) not in undone
        for board in (agents[agent], repos[str(task["repo_key"])]):
            board.attempts += 1
            board.merged += int(won)
            board.escalated += int(task.get("state") == "failed")
            board.cost_usd += float(task.get("cost_usd") or 0.0)
            board.estimated += int(bool(task.get("cost_estimated")))
            board.tokens += int(task.get("input_tokens") or 0) + int(task.get("output_tokens") or 0)
        if won and merge is not None:
            agents[agent].fix_rounds += fixes[_generation(task)]
            repos[merge.repo].fix_rounds += fixes[_generation(task)]
            start_at = queued.get((merge.repo, merge.issue))
            if start_at is not None:
                agents[agent].lead_hours.append(hours(start_at, merge.at))
    fleet, dora = measure(
        history,
        start,
        days,
        reverts=undone,
        incidents=incidents,
        window=timedelta(days=failure_window_days),
        first_queued=queued,
    )
    for key, figures in dora.items():
        if figures.lead_hours:
            repos[key].lead_hours = list(figures.lead_hours)
    return Report(since, days, dict(agents), dict(repos), fleet.merges, fleet, dora)


def _first_queued(rows: Iterable[Row]) -> dict[tuple[str, int], datetime]:
    """Return (repo key, issue) -> when its first attempt was queued (lead time's start)."""
    found: dict[tuple[str, int], datetime] = {}
    for task in rows:
        at = when(task.get("queued_at"))
        if at is not None:
            issue = (str(task["repo_key"]), int(task["issue"]))
            found[issue] = min(found.get(issue, at), at)
    return found


def _generation(task: Row) -> tuple[str, int, int]:
    return str(task["repo_key"]), int(task["issue"]), int(task.get("generation") or 0)


def _merge_of(
    task: Row,
    by_pr: Mapping[tuple[str, int], Deployment],
    by_issue: Mapping[tuple[str, int], Deployment],
) -> Deployment | None:
    """Return the window's merge of the PR this implementation attempt opened, if any."""
    if task.get("next") != "open_pr" or task.get("task_type") == FIXING:
        return None
    key, pr = str(task["repo_key"]), task.get("pr")
    if isinstance(pr, int) and not isinstance(pr, bool):
        return by_pr.get((key, pr))
    return by_issue.get((key, int(task["issue"])))


def render(report: Report) -> str:
    """Return the report as the text `agentos report` prints."""
    lines = [
        f"Since {report.since} ({report.days:g} days): {report.merges} merged, "
        f"{report.merges_per_day:.1f} a day",
        "",
    ]
    for title, boards in (("agent", report.agents), ("repo", report.repos)):
        lines.append(
            f"{title:<12} attempts  merged  rate   tries/merge  cost/merge  fixes/merge"
            "  escalated  lead time"
        )
        for name, board in sorted(boards.items()):
            escalated = f"{board.escalated} ({rate(board.escalated_share)})"
            lines.append(
                f"{name:<12} {board.attempts:>8}  {board.merged:>6}  {rate(board.merged_rate):>5}"
                f"  {_num(board.attempts_per_merge):>11}  {_money(board.cost_per_merge):>10}"
                f"  {_num(board.fix_rounds_per_merge):>11}  {escalated:>9}"
                f"  {duration(board.lead_time_hours):>9}"
            )
        if not boards:
            lines.append("(no attempt ended in this window)")
        lines.append("")
    lines += table(report.fleet, report.dora)
    if any(b.estimated for b in report.agents.values()):
        lines += ["", "Cost includes estimates (from tokens) where a backend reported none."]
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
            "cost_estimated_attempts": board.estimated,
            "tokens": board.tokens,
            "fix_rounds": board.fix_rounds,
            "fix_rounds_per_merge": board.fix_rounds_per_merge,
            "escalated": board.escalated,
            "escalated_share": board.escalated_share,
            "lead_time_hours": board.lead_time_hours,
        }

    return {
        "since": report.since,
        "days": report.days,
        "merges": report.merges,
        "merges_per_day": report.merges_per_day,
        "agents": {name: one(b) for name, b in sorted(report.agents.items())},
        "repos": {name: one(b) for name, b in sorted(report.repos.items())},
        "lead_time_hours": report.fleet.lead_time_hours,
        "failed_merges": report.fleet.failed,
        "change_failure_rate": report.fleet.change_failure_rate,
        "time_to_restore_hours": report.fleet.time_to_restore_hours,
        "dora": {name: d.as_json() for name, d in sorted(report.dora.items())},
    }


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:.2f}"

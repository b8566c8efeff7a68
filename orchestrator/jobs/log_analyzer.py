"""Weekly: what keeps going wrong. Chronic signatures, an agent whose merged rate fell, flaky tests.

No quota to fill: `core.chronic` finds nothing in a quiet week, and then nothing is filed. No
model is asked, ever: the findings are counts. Each finding goes through the same noise control
as the scanner's (`improve.filing`): its signature stays the same week over week, so a problem
still there next week updates its issue instead of filing another. The run is recorded (its
events) whether or not it found anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from orchestrator.config.model import Config
from orchestrator.core import chronic
from orchestrator.core.chronic import FlakyEvidence
from orchestrator.core.tasks import parse_id
from orchestrator.deps import Deps
from orchestrator.improve.filing import Filer, incident_filing
from orchestrator.store.ledger import Ledger

NAME = "log_analyzer"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One analysis of the last `improve.window_days`; returns what it found and did."""
    settings = config.improve
    ledger = Ledger.of(config)  # its prices, models and repo keys
    ledger.update()
    window = timedelta(days=settings.window_days)
    start, before = _stamp(now - window), _stamp(now - 2 * window)
    totals = ledger.signal_totals(start)
    tasks = ledger.tasks(since_ts=before)  # the two windows compared, not all history
    merged = _merged_issues(ledger.merges(), {r.github: r.key for r in config.repos})
    findings = chronic.analyse(
        totals,
        _runs(tasks, start),
        _agents(tasks, merged, start, _stamp(now)),
        _agents(tasks, merged, before, start),
        _flaky(totals, merged),
        min_count=settings.chronic_count,
        min_share=settings.chronic_share,
        drop=settings.rate_drop,
        window_days=settings.window_days,
    )
    memo = deps.memo(NAME)
    filer = Filer(deps, config, now, producer=NAME, memo=memo, dry_run=dry_run)
    counts = {
        "signals": sum(g.count for g in totals),
        "findings": len(findings),
        "filed": 0,
        "updated": 0,
        "reopened": 0,
        "skipped": 0,
    }
    for item in findings:
        filing = incident_filing(config, item)
        if filing is None or not deps.switches.repo_on(filing.repo.key):
            continue
        action = filer.file(filing).action
        counts[
            {"file": "filed", "update": "updated", "reopen": "reopened"}.get(action, "skipped")
        ] += 1
    if not dry_run:
        memo.save()
    return counts


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _runs(tasks: Iterable[Mapping[str, Any]], start: str) -> dict[str, int]:
    """Judged attempts per repo since `start`."""
    runs: dict[str, int] = defaultdict(int)
    for task in tasks:
        if task.get("judged_at") and str(task["judged_at"]) >= start:
            runs[str(task["repo_key"])] += 1
    return dict(runs)


def _merged_issues(
    merges: Iterable[Mapping[str, Any]], keys: Mapping[str, str]
) -> set[tuple[str, int]]:
    return {
        (keys[str(m["repo"])], int(m["issue"]))
        for m in merges
        if m.get("issue") is not None and str(m.get("repo")) in keys
    }


def _agents(
    tasks: Iterable[Mapping[str, Any]], merged: set[tuple[str, int]], start: str, end: str
) -> dict[str, tuple[int, int]]:
    """(attempts, merged) per agent for the attempts judged from `start` to `end`."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for task in tasks:
        judged = str(task.get("judged_at") or "")
        if not judged or not start <= judged < end:
            continue
        agent = (str(task.get("agents") or "-").split(",") or ["-"])[-1]
        won = (
            task.get("next") == "open_pr" and (str(task["repo_key"]), int(task["issue"])) in merged
        )
        counts[agent][0] += 1
        counts[agent][1] += int(won)
    return {name: (a, m) for name, (a, m) in counts.items()}


def _flaky(totals: Iterable[Any], merged: set[tuple[str, int]]) -> list[FlakyEvidence]:
    """Each task failure's distinct issues (from its example tasks) and which of them merged."""
    found = []
    for group in totals:
        if group.kind != "task_failed":
            continue
        issues = sorted({parsed[1] for t in group.task_ids if (parsed := parse_id(t)) is not None})
        found.append(
            FlakyEvidence(
                repo_key=group.repo_key,
                signature=group.signature,
                detail=group.details[0] if group.details else "",
                issues=tuple(issues),
                merged=tuple(i for i in issues if (group.repo_key, i) in merged),
            )
        )
    return found

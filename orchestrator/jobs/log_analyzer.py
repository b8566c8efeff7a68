"""Weekly: what keeps going wrong. Chronic signatures, an agent whose merged rate fell, flaky tests.

No quota to fill: `core.chronic` finds nothing in a quiet week, and then nothing is filed. No
model decides what is found: the findings are counts (the noise control may ask one whether a
finding duplicates a borderline issue). Each finding goes through the same noise control as the
scanner's (`improve.filing`): its signature stays the same week over week, so a problem
still there next week updates its issue instead of filing another. The run is recorded (its
events) whether or not it found anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from orchestrator.config.model import Config
from orchestrator.core import chronic
from orchestrator.core.chronic import FlakyEvidence
from orchestrator.core.evidence import SignalGroup
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
    findings = chronic.analyse(  # the ledger counts in SQL: no attempt's row comes here
        totals,
        ledger.runs(start),
        ledger.agents(start, _stamp(now)),
        ledger.agents(before, start),
        _flaky(totals, ledger),
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


def _flaky(totals: Iterable[SignalGroup], ledger: Ledger) -> list[FlakyEvidence]:
    """Each task failure's distinct issues (from its example tasks) and which of them merged."""
    failures = [
        (group, sorted({p[1] for t in group.task_ids if (p := parse_id(t)) is not None}))
        for group in totals
        if group.kind == "task_failed"
    ]
    merged = ledger.merged_issues((g.repo_key, i) for g, issues in failures for i in issues)
    return [
        FlakyEvidence(
            repo_key=group.repo_key,
            signature=group.signature,
            detail=group.details[0] if group.details else "",
            issues=tuple(issues),
            merged=tuple(i for i in issues if (group.repo_key, i) in merged),
        )
        for group, issues in failures
    ]

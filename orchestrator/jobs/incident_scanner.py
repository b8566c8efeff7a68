"""Turn runtime signals into incident issues: rules first, a model only for what no rule knows.

One tick: read the user's signal sources (their new lines, a command's exit, a health URL) into
`runtime/logs/signals.jsonl`; bring the outcome ledger up to date; take the signals past this
job's mark, grouped by (repo, kind, signature); judge each group on its totals over its rule's
window (`core.incidents`), so a failure arriving two now and one next tick still counts three;
send the clusters no rule knows to the triage model when one is configured (its failure leaves
them to the rules); and file each incident through the noise control (`improve.filing`): a new
signature files one issue, a recurring one edits its evidence comment, one back after its fix
reopens the issue. Each tick it also notes incidents a merged PR closed (time to
restore, and the watch for recurrence). The mark moves only after the filing, so a tick killed at
any line files nothing twice: the signature marker finds what it filed before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import incidents, labels
from orchestrator.core.evidence import SignalGroup
from orchestrator.core.incidents import Incident
from orchestrator.core.tasks import parse_id
from orchestrator.core.triage import untriaged
from orchestrator.deps import Deps
from orchestrator.improve import sources, triage
from orchestrator.improve.filing import Filer, incident_filing
from orchestrator.store.ledger import Ledger, record_signal
from orchestrator.store.memo import Memo

NAME = "incident_scanner"
MARK = "incident_scanner"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One scan; returns what it read and did."""
    counts = {
        "signals": 0,
        "incidents": 0,
        "filed": 0,
        "updated": 0,
        "reopened": 0,
        "skipped": 0,
        "fixed": 0,
    }
    ledger = Ledger.of(config)  # its prices, models and repo keys
    counts["source_signals"] = _read_sources(deps, config, now, dry_run)
    ledger.update()
    memo = deps.memo(NAME)
    after, last = _position(ledger, memo), ledger.last_signal_id()
    filer = Filer(deps, config, now, producer=NAME, memo=memo, dry_run=dry_run)
    if last > after:
        new = ledger.signal_groups(after, last)
        counts["signals"] = sum(g.count for g in new)
        found = _assess(deps, config, ledger, new, now)
        counts["incidents"] = len(found)
        for item in found:
            filing = incident_filing(config, item)
            if filing is None or not deps.switches.repo_on(filing.repo.key):
                continue
            action = filer.file(filing).action
            key = {"file": "filed", "update": "updated", "reopen": "reopened"}.get(
                action, "skipped"
            )
            counts[key] += 1
    for repo in _incident_repos(config):  # two conditional reads each: 304s while unchanged
        if deps.switches.repo_on(repo.key):
            counts["fixed"] += filer.watch_fixes(repo, labels.INCIDENT)
    if not dry_run:
        if last > after:
            mark = f"{last} {ledger.signal_ts(last)}"
            ledger.set_mark(MARK, mark)
            memo.changed("mark", MARK, mark, digest=False)  # a copy outside the ledger
        memo.save()
    return counts


def _position(ledger: Ledger, memo: Memo) -> int:
    """Return the last signal id this job has judged.

    A rebuilt ledger numbers its signals anew: a mark past the last id, or on a signal of
    another time, is found again by its time. A ledger set aside as damaged loses its marks;
    the memo's copy finds the place again, so the signals judged before are not judged twice.
    """
    value = ledger.mark(MARK) or memo.get("mark", MARK)
    if not value:
        return 0
    number, _, stamp = value.partition(" ")
    try:
        mark = int(number)
    except ValueError:
        return 0
    if mark <= ledger.last_signal_id() and ledger.signal_ts(mark) == stamp:
        return mark
    return ledger.signal_id_at(stamp) if stamp else 0


def _read_sources(deps: Deps, config: Config, now: datetime, dry_run: bool) -> int:
    """Record each source's new signals in the signals log; return how many."""
    count = 0
    for source in config.improve.sources:
        if not deps.switches.repo_on(source.repo):
            continue
        reading = sources.read(
            source, config.paths.state_dir, now, cwd=sources.workdir(config, source)
        )
        if reading.problem:
            deps.log.warning(
                "source.unreadable", extra={"source": source.name, "error": reading.problem}
            )
        if dry_run:
            for signal in reading.signals:
                print(f"{source.name}: {signal.detail}")
            continue
        for signal in reading.signals:
            record_signal(
                config.paths.runtime_dir,
                ts=signal.ts,
                repo_key=source.repo,
                kind="source",
                signature=signal.signature,
                detail=signal.detail,  # the ledger reads it as "<source>: <detail>"
                source=source.name,
                key=signal.key,
            )
        sources.commit(source, config.paths.state_dir, reading)
        count += len(reading.signals)
    return count


def _assess(
    deps: Deps, config: Config, ledger: Ledger, new: list[SignalGroup], now: datetime
) -> list[Incident]:
    # each kind's totals over its rule's window: one grouped query per distinct window
    totals: dict[float, dict[tuple[str, str, str], SignalGroup]] = {}
    for hours in {incidents.window_hours(g.kind) for g in new}:
        since = (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        totals[hours] = {(g.repo_key, g.kind, g.signature): g for g in ledger.signal_totals(since)}
    recent = {}
    for g in new:
        key = (g.repo_key, g.kind, g.signature)
        if key in totals[incidents.window_hours(g.kind)]:
            recent[key] = totals[incidents.window_hours(g.kind)][key]
    assessment = incidents.assess(
        new,
        recent,
        thresholds={"task_failed": config.improve.repeats},
        source_severity={s.name: s.severity for s in config.improve.sources},
    )
    found = list(assessment.incidents)
    outcome = triage.TriageOutcome()
    if assessment.unknown and config.improve.triage_with:
        outcome = triage.triage(deps.llm_for(config.improve.triage_with), assessment.unknown)
        if outcome.problem:
            deps.log.warning(
                "triage.failed",
                extra={"clusters": len(assessment.unknown), "error": outcome.problem[:200]},
            )
    # the model's verdict where it gave one; the generic rule where none was asked or usable
    found += outcome.findings if outcome.triaged else untriaged(assessment.unknown)
    return _fold(found)


def _fold(found: list[Incident]) -> list[Incident]:
    """Leave out escalations of issues whose failure is an incident already: one cause, one.

    The groups carry example task ids only (the first five), so escalations sharing an issue with
    a failure incident of this tick are taken as its consequence.
    """
    failed = {
        (item.repo_key, parsed[1])
        for item in found
        if item.kind == "task_failed"
        for t in item.task_ids
        if (parsed := parse_id(t)) is not None
    }

    def covered(item: Incident) -> bool:
        issues = {(item.repo_key, p[1]) for t in item.task_ids if (p := parse_id(t)) is not None}
        return item.kind == "escalated" and bool(issues & failed)

    return [item for item in found if not covered(item)]


def _incident_repos(config: Config) -> list[RepoConfig]:
    """The repos incidents are filed in: the incidents repo and those with signal sources."""
    if not config.improve.incidents_repo:
        return list(config.repos)
    keys = {config.improve.incidents_repo} | {s.repo for s in config.improve.sources}
    return [r for r in config.repos if r.key in keys]

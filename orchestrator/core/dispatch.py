"""Decide which Ready issues enter the queue this tick, and why each other one does not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.core.awaiting import ReviewBudget
from orchestrator.core.dag import Graph
from orchestrator.core.footprint import Footprint, overlap
from orchestrator.core.model import IssueRef


@dataclass(frozen=True, slots=True)
class Candidate:
    """A Ready issue, with what the dispatcher learned about it this tick."""

    ref: IssueRef
    repo_key: str
    title: str
    created_at: datetime
    trusted: bool  # author can write, is trusted, or a writer approved it
    trust_reason: str  # "write_access" | "trusted_user" | "approved_by:<login>" | "untrusted"
    is_epic: bool = False  # has sub-issues: its children are the tasks
    held_by: str = ""  # a label of labels.HOLDING it carries: a person decides first
    footprint: Footprint = Footprint()  # the files it is predicted to touch (core.footprint)


@dataclass(frozen=True, slots=True)
class Capacity:
    total: int  # limits.max_parallel_workers
    per_repo: Mapping[str, int]  # repo key -> max_parallel_tasks
    active_total: int = 0  # tasks in inbox/ or processing/
    active_per_repo: Mapping[str, int] = field(default_factory=dict)
    review: Mapping[str, ReviewBudget] = field(default_factory=dict)  # repos with a review budget


@dataclass(frozen=True, slots=True)
class Enqueue:
    ref: IssueRef
    repo_key: str
    reason: str  # "blockers_done" | "no_blockers"


@dataclass(frozen=True, slots=True)
class Skip:
    ref: IssueRef
    reason: str  # the word logs and tests share
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    enqueue: tuple[Enqueue, ...]
    skipped: tuple[Skip, ...]


def plan(
    candidates: Sequence[Candidate],
    graph: Graph,
    *,
    active: Mapping[IssueRef, str],
    repo_on: Mapping[str, bool],
    capacity: Capacity,
    blockers: Mapping[IssueRef, tuple[IssueRef, ...]],
    running: Mapping[IssueRef, Footprint] | None = None,
    serialize: Mapping[str, bool] | None = None,
) -> Plan:
    """Return what to queue (most important first, within capacity) and why the rest waits.

    `running` holds the footprints of the issues in flight (core.footprint.in_flight); a
    candidate predicted to edit the files of one of them, or of a candidate queued before it
    this tick, waits (`overlaps`) unless its repo's `serialize` is off (repo key -> on).
    """
    by_ref = {c.ref: c for c in candidates}
    in_cycle = {ref for cycle in graph.cycles for ref in cycle}
    skipped = [
        s for c in candidates if (s := _skip(c, graph, active, repo_on, in_cycle)) is not None
    ]
    eligible = {c.ref for c in candidates} - {s.ref for s in skipped}
    total = capacity.active_total
    per_repo = dict(capacity.active_per_repo)
    queued: dict[str, int] = {}  # this tick's, per repo
    enqueue: list[Enqueue] = []
    chosen: dict[IssueRef, Footprint] = {}
    for ref in graph.free:  # already in priority / critical-path / age order
        if ref not in eligible:
            continue
        candidate = by_ref[ref]
        if (serialize or {}).get(candidate.repo_key, True):
            wait = waits_for(ref, candidate.footprint, running or {}, chosen)
            if wait:
                skipped.append(Skip(ref, "overlaps", wait))
                continue
        budget = capacity.review.get(candidate.repo_key)
        spent = queued.get(candidate.repo_key, 0)
        if budget is not None and budget.exhausted(spent):
            skipped.append(Skip(ref, "review_budget", budget.detail(spent)))
            continue
        repo_full = per_repo.get(candidate.repo_key, 0) >= capacity.per_repo.get(
            candidate.repo_key, 1
        )
        if total >= capacity.total or repo_full:
            skipped.append(Skip(ref, "no_capacity"))
            continue
        enqueue.append(
            Enqueue(
                ref, candidate.repo_key, "blockers_done" if blockers.get(ref) else "no_blockers"
            )
        )
        total += 1
        per_repo[candidate.repo_key] = per_repo.get(candidate.repo_key, 0) + 1
        queued[candidate.repo_key] = spent + 1
        chosen[ref] = candidate.footprint
    return Plan(tuple(enqueue), tuple(skipped))


def waits_for(
    ref: IssueRef,
    mine: Footprint,
    running: Mapping[IssueRef, Footprint],
    chosen: Mapping[IssueRef, Footprint] | None = None,
) -> str:
    """Return which issue of the same repo `ref` waits for, and why ("waits for #12: both name
    calc/sub.py"): the lowest-numbered in flight it overlaps, else the first chosen this tick;
    "" when it overlaps none."""
    if not mine:
        return ""
    pool = [(r, running[r]) for r in sorted(running, key=lambda r: r.number)]
    pool += [(r, f) for r, f in (chosen or {}).items() if r not in running]
    for other, theirs in pool:
        if other.repo != ref.repo or other == ref:
            continue
        why = overlap(mine, theirs, f"#{other.number}")
        if why:
            return f"waits for #{other.number}: {why}"
    return ""


def _skip(
    c: Candidate,
    graph: Graph,
    active: Mapping[IssueRef, str],
    repo_on: Mapping[str, bool],
    in_cycle: set[IssueRef],
) -> Skip | None:
    if not repo_on.get(c.repo_key, True):
        return Skip(c.ref, "repo_disabled")
    if not c.trusted:
        return Skip(
            c.ref,
            "untrusted_author",
            "needs the agentos:approved label from a user with write access",
        )
    if c.ref in active:
        return Skip(c.ref, "already_queued", active[c.ref])
    if c.held_by:
        return Skip(c.ref, "held_by_label", f"{c.held_by}: a person removes the label to run it")
    if c.is_epic:
        return Skip(c.ref, "epic", "its sub-issues are dispatched instead")
    if c.ref in in_cycle:
        return Skip(c.ref, "in_cycle")
    if c.ref in graph.waiting:
        return Skip(c.ref, "waiting", ", ".join(str(r) for r in graph.waiting[c.ref]))
    return None

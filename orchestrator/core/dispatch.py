"""Decide which Ready issues enter the queue this tick, and why each other one does not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.core.awaiting import ReviewBudget
from orchestrator.core.dag import Graph
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
) -> Plan:
    """Return what to queue (most important first, within capacity) and why the rest waits."""
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
    for ref in graph.free:  # already in priority / critical-path / age order
        if ref not in eligible:
            continue
        candidate = by_ref[ref]
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
    return Plan(tuple(enqueue), tuple(skipped))


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

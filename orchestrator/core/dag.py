"""The issue graph: which work is free, what waits on what, which issues form a cycle.

An issue is free when every blocker is closed. Free work is ordered by priority, then by how
much open work waits on it downstream (the critical path), then by age. A cycle is reported
once, and none of its members runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from orchestrator.core.labels import NORMAL_PRIORITY, PRIORITIES
from orchestrator.core.model import IssueRef


def priority(labels: Iterable[str]) -> int:
    """Return 0 (high), 1 (normal) or 2 (low) from an issue's labels; the most urgent wins."""
    return min(
        (PRIORITIES[label] for label in labels if label in PRIORITIES), default=NORMAL_PRIORITY
    )


@dataclass(frozen=True, slots=True)
class Node:
    ref: IssueRef
    is_open: bool
    blockers: tuple[IssueRef, ...] = ()
    priority: int = NORMAL_PRIORITY
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Graph:
    free: tuple[IssueRef, ...]  # runnable, most important first
    waiting: Mapping[IssueRef, tuple[IssueRef, ...]]  # open issue -> its open (or unknown) blockers
    cycles: tuple[tuple[IssueRef, ...], ...]  # each sorted; members never run
    downstream: Mapping[IssueRef, int]  # open issues transitively waiting on each


def analyse(nodes: Mapping[IssueRef, Node]) -> Graph:
    """Analyse the open part of the graph. A blocker missing from `nodes` counts as open."""
    open_nodes = {ref: node for ref, node in nodes.items() if node.is_open}
    edges = {
        ref: tuple(b for b in node.blockers if _is_open(nodes, b))
        for ref, node in open_nodes.items()
    }
    cycles = _cycles(edges)
    in_cycle = {ref for cycle in cycles for ref in cycle}
    downstream = _downstream(edges)
    free = [ref for ref, blocking in edges.items() if not blocking and ref not in in_cycle]
    free.sort(key=lambda r: _order(open_nodes[r], downstream[r]))
    waiting = {ref: blocking for ref, blocking in edges.items() if blocking}
    return Graph(tuple(free), waiting, cycles, downstream)


def _is_open(nodes: Mapping[IssueRef, Node], ref: IssueRef) -> bool:
    node = nodes.get(ref)
    return node is None or node.is_open


def _order(node: Node, downstream: int) -> tuple[int, int, datetime, IssueRef]:
    created = node.created_at or datetime.max
    return (node.priority, -downstream, created, node.ref)


def _downstream(edges: Mapping[IssueRef, tuple[IssueRef, ...]]) -> dict[IssueRef, int]:
    """Count, for each issue, the open issues that transitively wait on it."""
    dependents: dict[IssueRef, list[IssueRef]] = {}
    for ref, blocking in edges.items():
        for blocker in blocking:
            dependents.setdefault(blocker, []).append(ref)
    counts = {}
    for ref in edges:
        seen: set[IssueRef] = set()
        stack = list(dependents.get(ref, ()))
        while stack:
            current = stack.pop()
            if current not in seen and current != ref:
                seen.add(current)
                stack.extend(dependents.get(current, ()))
        counts[ref] = len(seen)
    return counts


def _cycles(edges: Mapping[IssueRef, tuple[IssueRef, ...]]) -> tuple[tuple[IssueRef, ...], ...]:
    """Return the strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[IssueRef, int] = {}
    low: dict[IssueRef, int] = {}
    stack: list[IssueRef] = []
    on_stack: set[IssueRef] = set()
    found: list[tuple[IssueRef, ...]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            ref, children = work[-1]
            child = next((c for c in children if c in edges), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[ref] = min(low[ref], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[ref])
            if low[ref] == index[ref]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == ref:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return tuple(sorted(found))


def cycle_key(cycle: tuple[IssueRef, ...]) -> str:
    """Return a stable name for a cycle, for its one comment's marker."""
    return "+".join(str(ref) for ref in cycle)

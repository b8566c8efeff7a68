"""The issue graph: free work, ordering by priority then critical path then age, cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.core.dag import Node, analyse, cycle_key, priority
from orchestrator.core.model import IssueRef

T0 = datetime(2026, 11, 1)


def ref(n: int, repo: str = "acme/app") -> IssueRef:
    return IssueRef(repo, n)


def graph(*specs: tuple[int, bool, tuple[int, ...]], **kw: dict[int, int]) -> dict[IssueRef, Node]:
    prios = kw.get("prio", {})
    return {
        ref(n): Node(
            ref(n),
            is_open,
            tuple(ref(b) for b in blockers),
            prios.get(n, 1),
            T0 + timedelta(days=n),
        )
        for n, is_open, blockers in specs
    }


@pytest.mark.parametrize("blocker_open, free", [(True, False), (False, True)])
def test_an_issue_is_free_only_when_every_blocker_is_closed(blocker_open: bool, free: bool) -> None:
    g = analyse(graph((1, blocker_open, ()), (2, True, (1,))))
    assert (ref(2) in g.free) is free
    assert (ref(2) in g.waiting) is not free


def test_a_blocker_we_know_nothing_about_counts_as_open() -> None:
    g = analyse(graph((2, True, (99,))))
    assert g.free == () and g.waiting[ref(2)] == (ref(99),)


def test_a_chain_runs_head_first() -> None:
    g = analyse(graph((1, True, ()), (2, True, (1,)), (3, True, (2,))))
    assert g.free == (ref(1),)
    assert g.downstream[ref(1)] == 2 and g.downstream[ref(3)] == 0


def test_fan_in_waits_for_every_branch() -> None:
    g = analyse(graph((1, True, ()), (2, False, ()), (3, True, (1, 2))))
    assert g.free == (ref(1),) and g.waiting[ref(3)] == (ref(1),)


def test_priority_beats_critical_path_which_beats_age() -> None:
    nodes = graph(
        (1, True, ()), (2, True, ()), (3, True, ()), (4, True, (2,)), (5, True, (4,)), prio={3: 0}
    )
    g = analyse(nodes)
    # 3 is urgent; 2 unblocks two issues; 1 is older than none
    assert g.free == (ref(3), ref(2), ref(1))


def test_age_orders_equals() -> None:
    assert analyse(graph((2, True, ()), (1, True, ()))).free == (ref(1), ref(2))


def test_a_cycle_is_found_once_and_none_of_it_runs() -> None:
    g = analyse(
        graph((1, True, (3,)), (2, True, (1,)), (3, True, (2,)), (4, True, (3,)), (5, True, ()))
    )
    assert g.cycles == ((ref(1), ref(2), ref(3)),)
    assert g.free == (ref(5),)
    assert ref(4) in g.waiting
    assert cycle_key(g.cycles[0]) == "acme/app#1+acme/app#2+acme/app#3"


def test_a_cycle_through_a_closed_issue_is_no_cycle() -> None:
    g = analyse(graph((1, True, (2,)), (2, False, (1,))))
    assert g.cycles == () and g.free == (ref(1),)


def test_two_separate_cycles_across_repos() -> None:
    nodes = graph((1, True, (2,)), (2, True, (1,)))
    a, b = IssueRef("acme/api", 7), IssueRef("acme/api", 8)
    nodes[a] = Node(a, True, (b,))
    nodes[b] = Node(b, True, (a,))
    assert analyse(nodes).cycles == ((a, b), (ref(1), ref(2)))


def test_a_long_chain_does_not_recurse() -> None:
    specs = [(1, True, ())] + [(n, True, (n - 1,)) for n in range(2, 3000)]
    g = analyse(graph(*specs))
    assert g.free == (ref(1),) and g.downstream[ref(1)] == 2998


@pytest.mark.parametrize(
    "labels, expected",
    [((), 1), (("prio:high",), 0), (("bug", "prio:low"), 2), (("prio:low", "prio:high"), 0)],
)
def test_priority_comes_from_labels(labels: tuple[str, ...], expected: int) -> None:
    assert priority(labels) == expected

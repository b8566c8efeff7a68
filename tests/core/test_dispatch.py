"""Dispatch decisions: what enters the queue, in what order, and the reason for every skip."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.core.awaiting import ReviewBudget
from orchestrator.core.dag import Node, analyse
from orchestrator.core.dispatch import Candidate, Capacity, plan
from orchestrator.core.footprint import predict
from orchestrator.core.model import IssueRef

T0 = datetime(2026, 11, 1)


def ref(n: int, repo: str = "acme/app") -> IssueRef:
    return IssueRef(repo, n)


def cand(n: int, repo_key: str = "app", **kw: object) -> Candidate:
    values: dict = dict(
        ref=ref(n, "acme/" + repo_key),
        repo_key=repo_key,
        title=f"#{n}",
        created_at=T0 + timedelta(days=n),
        trusted=True,
        trust_reason="write_access",
    )
    values.update(kw)
    return Candidate(**values)


def run(
    cands: list[Candidate],
    nodes: list[Node] = (),
    *,
    active: dict | None = None,
    repo_on: dict | None = None,
    capacity: Capacity | None = None,
    running: dict | None = None,
    serialize: dict | None = None,
):
    graph_nodes = {c.ref: Node(c.ref, True, (), 1, c.created_at) for c in cands}
    graph_nodes.update({n.ref: n for n in nodes})
    graph = analyse(graph_nodes)
    return plan(
        cands,
        graph,
        active=active or {},
        repo_on=repo_on or {},
        capacity=capacity or Capacity(10, {"app": 10, "api": 10}),
        blockers={r: n.blockers for r, n in graph_nodes.items()},
        running=running,
        serialize=serialize,
    )


def reasons(result) -> dict[int, str]:
    return {s.ref.number: s.reason for s in result.skipped}


def test_free_trusted_issues_are_queued_oldest_first_with_their_reason() -> None:
    nodes = [Node(ref(1), True, (ref(9),), 1, T0 + timedelta(days=1)), Node(ref(9), False)]
    result = run([cand(2), cand(1)], nodes)
    assert [(e.ref.number, e.reason) for e in result.enqueue] == [
        (1, "blockers_done"),
        (2, "no_blockers"),
    ]


def test_every_skip_has_a_reason() -> None:
    cands = [
        cand(1, trusted=False, trust_reason="untrusted"),
        cand(2),
        cand(3, is_epic=True),
        cand(4),
        cand(5),
        cand(6),
        cand(7, repo_key="api"),
    ]
    nodes = [
        Node(ref(4), True, (ref(5),)),
        Node(ref(5), True, (ref(4),)),
        Node(ref(6), True, (ref(30),)),
    ]
    result = run(cands, nodes, active={ref(2): "processing"}, repo_on={"api": False})
    assert reasons(result) == {
        1: "untrusted_author",
        2: "already_queued",
        3: "epic",
        4: "in_cycle",
        5: "in_cycle",
        6: "waiting",
        7: "repo_disabled",
    }
    assert result.enqueue == ()
    waiting = next(s for s in result.skipped if s.reason == "waiting")
    assert waiting.detail == "acme/app#30"


def test_capacity_is_global_and_per_repo() -> None:
    cands = [cand(1), cand(2), cand(3), cand(4, repo_key="api")]
    result = run(cands, capacity=Capacity(3, {"app": 2, "api": 2}, 0, {}))
    assert [e.ref.number for e in result.enqueue] == [1, 2, 4]
    assert reasons(result) == {3: "no_capacity"}
    result = run(cands, capacity=Capacity(3, {"app": 5, "api": 5}, 2, {"app": 2}))
    assert [e.ref.number for e in result.enqueue] == [1]


def test_a_spent_review_budget_queues_nothing_more_for_its_repo_and_says_why() -> None:
    cands = [cand(1), cand(2), cand(3, repo_key="api")]
    spent = ReviewBudget(2, prs=(14, 12))
    result = run(cands, capacity=Capacity(10, {"app": 10, "api": 10}, review={"app": spent}))
    assert [e.ref.number for e in result.enqueue] == [3]
    assert reasons(result) == {1: "review_budget", 2: "review_budget"}
    assert result.skipped[0].detail == "2 PRs await review (max_awaiting_review 2): #12, #14"


def test_in_dispatcher_only_mode_what_is_queued_now_spends_the_budget_too() -> None:
    """Every task of a dispatcher_only repo ends as a PR for a person: queue only what fits."""
    budget = ReviewBudget(3, prs=(12,), coming=(20,), new_work_waits=True)
    result = run(
        [cand(1), cand(2), cand(3)], capacity=Capacity(10, {"app": 10}, review={"app": budget})
    )
    assert [e.ref.number for e in result.enqueue] == [1]
    assert reasons(result) == {2: "review_budget", 3: "review_budget"}
    assert result.skipped[0].detail == (
        "1 PR awaits review, 2 more on the way (max_awaiting_review 3): #12, issue #20 in progress"
    )


def test_a_review_budget_left_queues_within_capacity_as_before() -> None:
    budget = ReviewBudget(2, prs=(12,))  # full mode: what is queued may well merge by itself
    result = run([cand(1), cand(2)], capacity=Capacity(10, {"app": 10}, review={"app": budget}))
    assert [e.ref.number for e in result.enqueue] == [1, 2]


def test_an_issue_the_groomer_held_is_not_queued_until_a_person_removes_the_label() -> None:
    result = run([cand(1, held_by="agentos:duplicate"), cand(2)])
    assert [e.ref.number for e in result.enqueue] == [2]
    (skip,) = result.skipped
    assert (skip.reason, skip.detail) == (
        "held_by_label",
        "agentos:duplicate: a person removes the label to run it",
    )


def test_two_issues_naming_the_same_file_queue_one_and_the_other_waits_for_it() -> None:
    sub = predict("Add sub", "Put it in calc/sub.py")
    result = run([cand(1, footprint=sub), cand(2, footprint=predict("Fix sub", "`calc/sub.py`"))])
    assert [e.ref.number for e in result.enqueue] == [1]
    (skip,) = result.skipped
    assert (skip.ref.number, skip.reason, skip.detail) == (
        2,
        "overlaps",
        "waits for #1: both name calc/sub.py",
    )


def test_unrelated_issues_and_issues_that_name_nothing_are_queued_together() -> None:
    cands = [
        cand(1, footprint=predict("a", "calc/sub.py")),
        cand(2, footprint=predict("b", "docs/guide.md")),
        cand(3),  # nothing predicted: never serialised blindly
        cand(4),
        cand(5, repo_key="api", footprint=predict("c", "calc/sub.py")),  # another repo's file
    ]
    assert [e.ref.number for e in run(cands).enqueue] == [1, 2, 3, 4, 5]


def test_an_issue_waits_for_the_lowest_numbered_issue_in_flight_it_overlaps() -> None:
    running = {
        ref(12): predict("x", "docs/"),
        ref(9): predict("y", "calc/ops.py"),
        ref(3, "acme/api"): predict("z", "calc/sub.py"),  # another repo's
        ref(7): predict("w", "web/"),
    }
    cands = [cand(1, footprint=predict("a", "docs/intro.md and calc/")), cand(2)]
    result = run(cands, running=running)
    assert [e.ref.number for e in result.enqueue] == [2]
    assert result.skipped[0].detail == "waits for #9: it names calc/ and #9 names calc/ops.py"


def test_a_waiting_issue_leaves_capacity_to_the_next_one() -> None:
    same = predict("a", "calc/sub.py")
    cands = [cand(1, footprint=same), cand(2, footprint=same), cand(3)]
    result = run(cands, capacity=Capacity(10, {"app": 2}))
    assert [e.ref.number for e in result.enqueue] == [1, 3]
    assert reasons(result) == {2: "overlaps"}


def test_serialize_overlaps_off_queues_both() -> None:
    same = predict("a", "calc/sub.py")
    result = run(
        [cand(1, footprint=same), cand(2, footprint=same)],
        running={ref(9): same},
        serialize={"app": False},
    )
    assert [e.ref.number for e in result.enqueue] == [1, 2] and result.skipped == ()

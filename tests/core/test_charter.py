"""core.charter: what makes a usable draft, and the order seeds can run in."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.core.charter import Seed, first, from_draft, order, to_draft


def draft(*issues: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"north_star": "# North star", "plan": "# Plan", "issues": list(issues), **top}


def issue(title: str, *depends: int, priority: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "title": title,
        "body": f"## Goal\n\n{title}",
        "depends_on": list(depends),
    }
    if priority:
        found["priority"] = priority
    return found


GOOD = draft(issue("Skeleton"), issue("Core", 1), issue("Docs", 2), issue("Errors", 2))


def test_a_good_draft_becomes_seeds_with_zero_based_blockers() -> None:
    charter = from_draft(GOOD, "model")
    assert [s.blocked_by for s in charter.seeds] == [(), (0,), (1,), (1,)]
    assert charter.source == "model" and charter.seeds[0].label == "prio:normal"
    assert from_draft(to_draft(charter), "model") == charter


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("prose", "expected an object with north_star, plan and issues, got str"),
        (draft(issue("A"), issue("B"), north_star=""), "north_star: expected non-empty text"),
        (draft(issue("A"), issue("B")), "issues: expected 3 to 5 issues, got 2"),
        (draft(*(issue(f"I{n}") for n in range(6))), "issues: expected 3 to 5 issues, got 6"),
        (
            draft(issue("A"), issue("B", 4), issue("C")),
            "issues[2].depends_on: 4 is not an issue number from 1 to 3",
        ),
        (
            draft(issue("A"), issue("B", 2), issue("C")),
            "issues[2].depends_on: an issue cannot depend on itself",
        ),
        (
            draft(issue("A", 3), issue("B", 1), issue("C", 2)),
            "issues: 1, 2, 3 depend on each other in a cycle",
        ),
        (draft(issue("A"), issue("a"), issue("C")), "issues: two issues have the same title"),
        (
            draft(issue("A"), issue("B", priority="urgent"), issue("C")),
            "issues[2].priority: expected one of high, normal, low, got 'urgent'",
        ),
        (draft(issue("A"), {"title": "B"}, issue("C")), "issues[2].body: expected non-empty text"),
        (
            draft(issue("A"), issue("B", True), issue("C")),
            "issues[2].depends_on: True is not an issue number",
        ),
    ],
)
def test_a_bad_draft_is_refused_naming_the_problem(bad: object, problem: str) -> None:
    with pytest.raises(ValueError) as refused:
        from_draft(bad, "model")
    assert str(refused.value).startswith(problem)


def test_order_puts_blockers_first_then_priority_then_position() -> None:
    seeds = [
        Seed("A", "a"),
        Seed("B", "b", (0,)),
        Seed("C", "c", priority="high"),
        Seed("D", "d", (0,), "low"),
    ]
    assert order(seeds) == (2, 0, 1, 3)
    assert first(seeds) == 2

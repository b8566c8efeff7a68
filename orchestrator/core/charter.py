"""A new project's charter: the north star, a short plan and 3-5 interdependent seed issues.

`from_draft` checks what a model (or a template) proposed and says exactly what is wrong with
it; `order` puts the seeds in the order they can run, so init can say which one goes first.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MIN_SEEDS, MAX_SEEDS = 3, 5
PRIORITIES = ("high", "normal", "low")


@dataclass(frozen=True, slots=True)
class Seed:
    """One first issue; `blocked_by` holds the indexes (0-based) of the seeds it waits for."""

    title: str
    body: str
    blocked_by: tuple[int, ...] = ()
    priority: str = "normal"

    @property
    def label(self) -> str:
        """Return the priority label the dispatcher reads (`prio:normal`)."""
        return f"prio:{self.priority}"


@dataclass(frozen=True, slots=True)
class Charter:
    north_star: str  # NORTH_STAR.md
    plan: str  # PLAN.md
    seeds: tuple[Seed, ...]
    source: str  # "model" | "template"


def from_draft(draft: object, source: str) -> Charter:
    """Return the charter a draft describes, or raise ValueError naming the first problem.

    A draft is
    `{north_star, plan, issues: [{title, body, depends_on: [1-based numbers], priority}]}`.
    """
    if not isinstance(draft, Mapping):
        raise ValueError(
            f"expected an object with north_star, plan and issues, got {type(draft).__name__}"
        )
    north_star, plan = _text(draft, "north_star"), _text(draft, "plan")
    issues = draft.get("issues")
    if not isinstance(issues, Sequence) or isinstance(issues, str):
        raise ValueError("issues: expected a list")
    if not MIN_SEEDS <= len(issues) <= MAX_SEEDS:
        raise ValueError(f"issues: expected {MIN_SEEDS} to {MAX_SEEDS} issues, got {len(issues)}")
    seeds = tuple(_seed(item, i, len(issues)) for i, item in enumerate(issues))
    titles = [seed.title.casefold() for seed in seeds]
    if len(set(titles)) != len(titles):
        raise ValueError("issues: two issues have the same title")
    charter = Charter(north_star, plan, seeds, source)
    order(charter.seeds)  # raises on a cycle
    return charter


def to_draft(charter: Charter) -> dict[str, object]:
    """Return the draft `from_draft` reads back as this charter."""
    issues = [
        {
            "title": s.title,
            "body": s.body,
            "depends_on": [b + 1 for b in s.blocked_by],
            "priority": s.priority,
        }
        for s in charter.seeds
    ]
    return {"north_star": charter.north_star, "plan": charter.plan, "issues": issues}


def _text(node: Mapping[str, object], key: str, where: str = "") -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key}: expected non-empty text")
    return value.strip()


def _seed(item: object, index: int, count: int) -> Seed:
    where = f"issues[{index + 1}]."
    if not isinstance(item, Mapping):
        raise ValueError(f"{where[:-1]}: expected an object with title and body")
    depends = item.get("depends_on") or []
    if not isinstance(depends, Sequence) or isinstance(depends, str):
        raise ValueError(f"{where}depends_on: expected a list of issue numbers")
    blocked_by: list[int] = []
    for number in depends:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise ValueError(
                f"{where}depends_on: {number!r} is not an issue number from 1 to {count}"
            )
        if number == index + 1:
            raise ValueError(f"{where}depends_on: an issue cannot depend on itself")
        blocked_by.append(number - 1)
    priority = item.get("priority") or "normal"
    if priority not in PRIORITIES:
        raise ValueError(
            f"{where}priority: expected one of {', '.join(PRIORITIES)}, got {priority!r}"
        )
    title = _text(item, "title", where)
    if len(title) > 200:
        raise ValueError(f"{where}title: longer than 200 characters")
    return Seed(title, _text(item, "body", where), tuple(dict.fromkeys(blocked_by)), str(priority))


def order(seeds: Sequence[Seed]) -> tuple[int, ...]:
    """Return seed indexes in an order where each comes after its blockers.

    Ties go by priority, then position.

    Raises ValueError naming the seeds of a cycle.
    """
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter(
        {i: seed.blocked_by for i, seed in enumerate(seeds)}
    )
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        members = sorted({i + 1 for i in error.args[1]})
        raise ValueError(
            f"issues: {', '.join(map(str, members))} depend on each other in a cycle"
        ) from None
    result: list[int] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda i: (PRIORITIES.index(seeds[i].priority), i))
        result.extend(ready)
        sorter.done(*ready)
    return tuple(result)


def first(seeds: Sequence[Seed]) -> int:
    """Return the index of the seed that can run first: unblocked, most urgent, earliest."""
    free = [i for i, seed in enumerate(seeds) if not seed.blocked_by]
    return min(free, key=lambda i: (PRIORITIES.index(seeds[i].priority), i))

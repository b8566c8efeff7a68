"""The demo's end: whether it is over, and the summary.

The summary tells issues, PRs, merges, GitHub requests, time, and where to look.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.demo.views import IssueView
from orchestrator.sandbox.github import RequestRecord


def settled(views: Mapping[int, IssueView], blockers: Mapping[int, tuple[int, ...]]) -> bool:
    """Tell whether nothing more can happen.

    That is when every issue is closed, escalated, or waiting on one that is stuck so.
    """
    return all(_over(n, views, blockers, frozenset()) for n in views)


def _over(
    number: int,
    views: Mapping[int, IssueView],
    blockers: Mapping[int, tuple[int, ...]],
    seen: frozenset[int],
) -> bool:
    """Closed, escalated, or open behind an open blocker that is itself over (so it never runs)."""
    view = views[number]
    if not view.is_open or view.escalated:
        return True
    return any(
        b in views
        and b not in seen
        and views[b].is_open
        and _over(b, views, blockers, seen | {number})
        for b in blockers.get(number, ())
    )


@dataclass(frozen=True, slots=True)
class Requests:
    """The sandbox's request log, counted by kind."""

    rest: int
    graphql: int
    git: int

    @property
    def total(self) -> int:
        return self.rest + self.graphql + self.git


def count(records: Sequence[RequestRecord]) -> Requests:
    """Count REST, GraphQL and git requests (the sandbox's control endpoints are not GitHub's)."""
    rest = sum(1 for r in records if r.path.startswith("/api/v3"))
    graphql = sum(1 for r in records if r.path.startswith("/api/graphql"))
    git = sum(1 for r in records if ".git/" in r.path)
    return Requests(rest, graphql, git)


@dataclass(frozen=True, slots=True)
class Ending:
    """What the summary reports."""

    views: Mapping[int, IssueView]
    elapsed_s: float
    setup: Requests
    loop: Requests
    violations: int
    model_requests: int | None  # None: a real model, not counted here
    timed_out: bool
    to_pr: int = 0  # GitHub requests of the dispatcher's and queue's ticks: Ready → PR opened
    to_merge: int = 0  # ... of the PR monitor's ticks: PR → merged


def render(ending: Ending, data: Path, port: int, root: Path, cwd: Path) -> str:
    """Return the summary and how to look around."""
    views = ending.views.values()
    merged = [v for v in views if v.merged]
    escalated = [v for v in views if v.escalated and v.is_open]
    prs = {v.pr for v in views if v.pr}
    total = ending.setup.total + ending.loop.total
    head = (
        f"Demo {'stopped at its time limit' if ending.timed_out else 'finished'} "
        f"in {ending.elapsed_s:.1f} s: "
        f"{len(merged)} of {len(ending.views)} issues closed by merged PRs"
        + (f", {len(escalated)} escalated" if escalated else "")
        + "."
    )
    lines = ["", head, ""]
    lines += [
        f"  #{v.number:<3} {v.title:<40} {_end_of(v)}"
        for v in sorted(views, key=lambda v: v.number)
    ]
    lines += [
        "",
        f"  PRs opened {len(prs)}, merged {len(merged)}.",
        f"  GitHub requests: {total} "
        f"({_kinds(ending.setup)} to set up; {_kinds(ending.loop)} for the loop)",
        f"  requests outside GitHub's published API description: {ending.violations}",
    ]
    if merged:
        lines.append(
            f"  per merged task: {ending.to_pr / len(merged):.1f} requests Ready → PR opened, "
            f"{ending.to_merge / len(merged):.1f} PR → merged"
        )
    if ending.model_requests is not None:
        lines.append(f"  scripted model: {ending.model_requests} Messages API requests")
    lines += ["", "Look around:", *_pointers(data, port, root, cwd)]
    return "\n".join(lines)


def _end_of(view: IssueView) -> str:
    if view.merged:
        return f"closed by PR #{view.pr} (merged)"
    if view.escalated:
        return "escalated" + (f" (PR #{view.pr} {view.pr_state})" if view.pr else "")
    return ("open" if view.is_open else "closed") + (
        f", PR #{view.pr} {view.pr_state}" if view.pr else ""
    )


def _kinds(requests: Requests) -> str:
    return f"{requests.total}: REST {requests.rest}, GraphQL {requests.graphql}, git {requests.git}"


def _pointers(data: Path, port: int, root: Path, cwd: Path) -> list[str]:
    where, agentos = shown(data, cwd), shown(root / "bin" / "agentos", cwd)
    return [
        f"  {agentos} sandbox serve --data {where} --port {port}",
        "      the sandbox as the demo left it (REST, GraphQL, git); "
        "the port keeps the demo's config valid",
        f"  {agentos} --config {where}/config.yaml status",
        f"  {where}/runtime/rooms/<task>/    "
        "war-room records: prompt.md, channel.jsonl, lifecycle.json, result.md",
        f"  {where}/runtime/logs/*.jsonl     "
        "the event log of each job (dispatcher, queue, pr_monitor, demo)",
    ]


def shown(path: Path, cwd: Path) -> str:
    """Return a path as the user types it in `cwd`: relative when inside, quoted for the shell."""
    try:
        return shlex.quote(str(path.relative_to(cwd)))
    except ValueError:
        return shlex.quote(str(path))

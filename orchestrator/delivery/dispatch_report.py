"""Tell people what the dispatcher decided.

A waiting issue's and a cycle's comment are posted once; skips are told when they change.

Comments are edited in place (a hidden marker finds them) and only when their text changes,
so a Ready issue that waits for a week gets one comment, not ten thousand.
"""

from __future__ import annotations

from orchestrator.core import dag, dispatch, markdown
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.delivery.backlog import Backlog, ReadyIssue
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError
from orchestrator.store.memo import Memo

WAITING = "<!-- agentos:waiting -->"
EPIC_DONE = "<!-- agentos:epic-done -->"


def cycle_marker(cycle: tuple[IssueRef, ...]) -> str:
    return f"<!-- agentos:cycle {dag.cycle_key(cycle)} -->"


def describe(plan: dispatch.Plan) -> str:
    """Return the plan as lines a person reads (for --dry-run)."""
    lines = [f"would queue {e.ref} ({e.reason})" for e in plan.enqueue] or ["would queue nothing"]
    lines += [
        f"skip {s.ref}: {s.reason}" + (f" ({s.detail})" if s.detail else "") for s in plan.skipped
    ]
    return "\n".join(lines)


def report(deps: Deps, backlog: Backlog, graph: dag.Graph, plan: dispatch.Plan) -> None:
    """Log changed skips, keep the waiting and cycle comments current, and repair stale cards."""
    memo = deps.memo("dispatcher")
    ready = {r.ref: r for r in backlog.ready}
    for skip in plan.skipped:
        if memo.changed("skips", str(skip.ref), f"{skip.reason} {skip.detail}"):
            deps.log.info(
                "task.skipped",
                extra={
                    "issue": skip.ref.number,
                    "repo": skip.ref.repo,
                    "reason": skip.reason,
                    "detail": skip.detail[:200],
                },
            )
        if skip.reason == "waiting":
            _comment(deps, memo, skip.ref, WAITING, _waiting_text(backlog, graph.waiting[skip.ref]))
        elif skip.reason == "already_queued" and ready[skip.ref].item.status is BoardStatus.READY:
            _repair(deps, ready[skip.ref])
    for entry in plan.enqueue:
        if memo.get("comments", f"{entry.ref} {WAITING}") is not None:
            _comment(
                deps,
                memo,
                entry.ref,
                WAITING,
                "Agent OS: every blocker is closed; this issue is queued.",
            )
    for cycle in graph.cycles:
        if any(ref in ready for ref in cycle):
            _comment(deps, memo, cycle[0], cycle_marker(cycle), _cycle_text(cycle))
    memo.keep_only("skips", {str(s.ref) for s in plan.skipped})
    memo.save()


def _comment(deps: Deps, memo: Memo, ref: IssueRef, marker: str, text: str) -> None:
    if not memo.changed("comments", f"{ref} {marker}", text):
        return
    try:
        deps.tracker.upsert_comment(ref, marker, text)
    except TrackerError as error:  # said again next tick: forget that it was said
        memo.changed("comments", f"{ref} {marker}", "")
        deps.log.warning("comment.failed", extra={"issue": ref.number, "error": str(error)[:200]})


def _waiting_text(backlog: Backlog, blockers: tuple[IssueRef, ...]) -> str:
    lines = ["Agent OS: this issue is Ready and waits for its blockers to close:", ""]
    for ref in blockers:
        issue = backlog.issues.get(ref)
        if issue is not None:
            lines.append(f"- {ref}: {markdown.defuse(issue.title)}")
        else:
            lines.append(
                f"- {ref} (cannot be read: {backlog.unreadable.get(ref, 'unknown')[:120]})"
            )
    lines += [
        "",
        "It starts by itself once they are closed; this comment is updated, not repeated.",
    ]
    return "\n".join(lines)


def _cycle_text(cycle: tuple[IssueRef, ...]) -> str:
    chain = " → ".join(str(ref) for ref in (*cycle, cycle[0]))
    return (
        f"Agent OS: these issues block each other in a cycle: {chain}.\n\n"
        "None of them will run until one of the dependencies is removed."
    )


def _repair(deps: Deps, ready: ReadyIssue) -> None:
    """A task exists but the card still says Ready (a tick died between the two writes): move it."""
    try:
        deps.board_for(ready.repo).set_status(ready.item, BoardStatus.IN_PROGRESS)
        deps.log.info("board.repaired", extra={"issue": ready.ref.number, "status": "In Progress"})
    except TrackerError as error:
        deps.log.warning(
            "board.update_failed", extra={"issue": ready.ref.number, "error": str(error)[:200]}
        )

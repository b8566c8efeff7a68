"""What follows an attempt on GitHub: the PR opened (or updated), the follow-up task, escalation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from orchestrator.config.model import RepoConfig
from orchestrator.core import contract, failure, lifecycle, markdown, notify
from orchestrator.core.model import BoardStatus, Check, CheckState, Issue, IssueRef, Review
from orchestrator.core.tasks import Task, TaskType, parse_id, task_id
from orchestrator.core.workspace import Conflict, ConflictHunk
from orchestrator.delivery import acceptance, cards, escalation, texts
from orchestrator.delivery.prompt import Fixing
from orchestrator.deps import Deps
from orchestrator.store import rooms
from orchestrator.store.files import atomic_write

FIXING_FILE = "fixing.json"  # in a fixing task's room: why it exists, written by the PR monitor


def started(task: Task, issue: Issue) -> notify.Notification:
    return notify.task_started(issue.ref, task.id, issue.title, agent=" → ".join(task.chain))


def deliver(
    deps: Deps,
    repo: RepoConfig,
    task: Task,
    issue: Issue,
    outcome: contract.AgentResult,
    agent: str,
    files: Sequence[str],
    room: rooms.Room,
) -> None:
    """Open the PR of a finished implementation (or find it open), or send a fixed PR to review."""
    body = texts.render(
        "pr_body.md.j2",
        issue=task.issue,
        summary=outcome.summary,
        done=outcome.items("DONE"),
        tests=outcome.items("TESTS_RUN"),
        files=list(files),
        risks=outcome.items("RISKS"),
        task_id=task.id,
        agent=agent,
    )
    # The title lands in a squash commit's message on the base branch, where GitHub also reads
    # closing keywords: quoted, like the agent's words in the body (texts.py).
    title = markdown.defuse(issue.title)
    pr = deps.tracker.open_pull(repo.github, task.branch, task.base, title, body)
    room.record("pr.opened", number=pr.number, url=pr.url)
    room.transition(
        lifecycle.State.REVIEW,
        "pr_opened" if task.task_type is TaskType.IMPLEMENTATION else "fix_pushed",
    )
    if task.task_type is TaskType.FIXING:
        origin = origin_room(deps, task)
        if origin is not None and origin.lifecycle() is not None:
            origin.transition(lifecycle.State.REVIEW, f"fixed by {task.id}")
        deps.log.info("pr.fixed", extra={"issue": task.issue, "pr": pr.number, "task_id": task.id})
    else:
        deps.notifier.notify(notify.pr_opened(issue.ref, task.id, issue.title, pr.number, pr.url))
        deps.log.info(
            "pr.opened",
            extra={"issue": task.issue, "pr": pr.number, "task_id": task.id, "url": pr.url},
        )
    cards.move(deps, repo, issue.ref, BoardStatus.IN_REVIEW)
    acceptance.attach(deps, pr, room)  # the proof's table, kept in the room before the push


def follow_up(task: Task, outcome: contract.AgentResult, now: datetime) -> Task:
    """Return the next attempt at the same issue, on the same branch.

    This attempt's result goes into its history.
    """
    return replace(
        task,
        id=task_id(task.repo_key, task.issue, task.generation, task.attempt + 1),
        attempt=task.attempt + 1,
        created_at=now,
        not_before=None,
        reason=f"retry after {outcome.status.value}",
        history=(*task.history, contract.render(outcome)),
    )


def not_before(task: Task, at: datetime) -> Task:
    return replace(task, not_before=at)


def escalate_task(
    deps: Deps, repo: RepoConfig, task: Task, reason: str, steps: Sequence[str]
) -> None:
    """Escalate the issue with every attempt of this generation listed."""
    earlier = rooms.earlier_results(
        deps.config.paths.rooms_dir, task.id, limit=task.attempt, same_generation=True
    )
    attempts = [_summary(tid, text) for tid, text in earlier]
    own = rooms.read(deps.config.paths.rooms_dir, task.id).result
    if own is not None:
        attempts.append(_summary(task.id, own))
    escalation.escalate(
        deps, repo, IssueRef(task.repo, task.issue), task.id, task.title, reason, attempts, steps
    )


def _summary(tid: str, text: str) -> escalation.AttemptSummary:
    parsed = contract.parse(text)
    return escalation.AttemptSummary(
        tid,
        "agent",
        parsed.status.value,
        parsed.blocker.value if parsed.blocker else "",
        parsed.summary.splitlines()[0][:200] if parsed.summary else "",
    )


def origin_room(deps: Deps, task: Task) -> rooms.Room | None:
    """Return the room of the task that opened this fixing task's PR (named in its fixing.json)."""
    data = _fixing_data(deps, task)
    origin = data.get("origin") if data else None
    return (
        rooms.Room(deps.config.paths.rooms_dir, origin)
        if isinstance(origin, str) and parse_id(origin)
        else None
    )


def write_fixing(
    deps: Deps,
    task: Task,
    origin: str,
    checks: Sequence[failure.Failure],
    reviews: Sequence[Review],
    conflicts: Sequence[Conflict],
    stopped_at: str = "",
) -> None:
    """Record why a fixing task exists, for its prompt.

    The PR monitor calls this before queueing it.
    """
    data = {
        "origin": origin,
        "stopped_at": stopped_at,
        "checks": [
            {
                "name": f.check.name,
                "state": f.check.state.value,
                "summary": f.check.summary,
                "url": f.check.url,
                "context": f.text,
            }
            for f in checks
        ],
        "reviews": [{"author": r.author, "state": r.state, "body": r.body} for r in reviews],
        "conflicts": [
            {
                "path": c.path,
                "kind": c.kind,
                "hunks": [
                    {"ours": h.ours, "theirs": h.theirs, "ancestor": h.ancestor} for h in c.hunks
                ],
            }
            for c in conflicts
        ],
    }
    atomic_write(
        deps.config.paths.rooms_dir / task.id / FIXING_FILE, json.dumps(data, indent=1) + "\n"
    )


def fixing_of(deps: Deps, task: Task) -> Fixing | None:
    """Return what a fixing task must fix, as its prompt shows it; None for an implementation."""
    data = _fixing_data(deps, task) if task.task_type is TaskType.FIXING else None
    if not data:
        return None
    checks = tuple(_failure(c) for c in data.get("checks", []))
    reviews = tuple(
        Review(r["author"], r["state"], r.get("body", ""), None) for r in data.get("reviews", [])
    )
    conflicts = tuple(
        Conflict(
            c["path"],
            c["kind"],
            tuple(
                ConflictHunk(h["ours"], h["theirs"], h.get("ancestor", ""))
                for h in c.get("hunks", [])
            ),
        )
        for c in data.get("conflicts", [])
    )
    return Fixing(checks, reviews, conflicts, str(data.get("stopped_at", "")))


def _failure(data: dict[str, Any]) -> failure.Failure:
    """Return a failed check as fixing.json has it (one written before contexts: its summary)."""
    check = Check(data["name"], CheckState(data["state"]), data.get("summary", ""), data.get("url"))
    context = data.get("context")
    return failure.Failure(check, context) if context else failure.describe(check)


def _fixing_data(deps: Deps, task: Task) -> dict[str, Any] | None:
    path = deps.config.paths.rooms_dir / task.id / FIXING_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None

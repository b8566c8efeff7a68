"""Hand an issue to a person: a label, the card, a notification, and one comment.

The comment says what was tried and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.config.model import RepoConfig
from orchestrator.core import labels, notify
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.delivery import cards, texts
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError

MARKER = "<!-- agentos:escalated -->"

# What a person can do about each reason, when the agent itself gave no manual steps.
ADVICE = {
    "same_failure_twice": (
        "The same failure happened twice in a row; read the attempts below and clarify the issue."
    ),
    "attempts_exhausted": (
        "Every attempt ran out; narrow the issue down or split it into smaller ones."
    ),
    "no_diff_produced": (
        "The agent changed nothing; check whether the work is already done, or say what is missing."
    ),
    "fallback_exhausted": (
        "Every agent in the chain failed or is cooling down; "
        "check the agents' credentials and quotas."
    ),
    "recovered_too_often": (
        "The worker died repeatedly on this task; look at the room's channel.jsonl for why."
    ),
    "approval_stale": (
        "Read what changed in the issue; to go on, a user with write access removes the "
        "agentos:approved label and adds it again, then removes agentos:blocked."
    ),
    "quota_windows_exhausted": (
        "The agent hit its quota again after each wait for the reset (limits.max_deferrals); "
        "check the agent's plan and quota, then remove agentos:blocked to go on."
    ),
    "untrusted": (
        "The issue's author cannot write to the repo and no writer's agentos:approved label "
        "stands; add it if the issue should run, then remove agentos:blocked."
    ),
}


@dataclass(frozen=True, slots=True)
class AttemptSummary:
    """One attempt as the escalation comment lists it."""

    task_id: str
    agent: str
    status: str
    blocker: str = ""
    summary: str = ""


def escalate(
    deps: Deps,
    repo: RepoConfig,
    ref: IssueRef,
    task_id: str,
    title: str,
    reason: str,
    attempts: Sequence[AttemptSummary] = (),
    steps: Sequence[str] = (),
    url: str | None = None,
) -> None:
    """Escalate one issue; each write is idempotent, so a tick killed half-way can just redo it."""
    advice = list(steps) or [
        ADVICE.get(reason.split(":", 1)[0], "Read the attempts below and decide how to go on.")
    ]
    body = texts.render(
        "escalation.md.j2", reason_text=_reason_text(reason), attempts=attempts, advice=advice
    )
    try:
        deps.tracker.upsert_comment(ref, MARKER, body)
        deps.tracker.add_labels(ref, [labels.BLOCKED])
    except TrackerError as error:
        deps.log.warning(
            "escalation.comment_failed", extra={"issue": ref.number, "error": str(error)[:200]}
        )
    cards.move(deps, repo, ref, BoardStatus.BLOCKED)
    deps.notifier.notify(notify.escalated(ref, task_id, title, reason, url))
    deps.log.warning(
        "task.escalated",
        extra={"issue": ref.number, "repo": ref.repo, "task_id": task_id, "reason": reason},
    )


def _reason_text(reason: str) -> str:
    word, _, detail = reason.partition(":")
    if word == "blocked":
        return f"The agent reported it is blocked: `{detail}`."
    if word == "cost_cap":
        return f"The task reached its cost cap: {detail.strip()}."
    return {
        "same_failure_twice": "Two attempts in a row failed the same way.",
        "attempts_exhausted": "Every allowed attempt was used.",
        "no_diff_produced": "The agent reported success but changed nothing.",
        "fallback_exhausted": "No agent in the chain could take the task.",
        "recovered_too_often": "The worker running this task kept dying.",
        "approval_stale": "The issue was edited after a writer approved it.",
        "untrusted": "The issue's author may not run work here without a writer's approval.",
        "quota_windows_exhausted": "The agent kept hitting its quota; the task waited enough.",
    }.get(word, f"Reason: `{reason}`.")

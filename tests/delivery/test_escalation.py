"""Escalation, and what it leaves.

One comment with what was tried, the blocked label, the card in Blocked, one notification.
"""

from __future__ import annotations

from orchestrator.adapters.memory_chat import MemoryNotifier
from orchestrator.core.model import BoardStatus
from orchestrator.core.notify import Kind
from orchestrator.delivery import escalation, texts
from tests.jobs.conftest import World

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_escalating_twice_leaves_one_comment_one_label_and_the_card_blocked(world: World) -> None:
    world.deps.notifier = notifier = MemoryNotifier()
    issue = world.issue("app", "Hard one", status=BoardStatus.IN_PROGRESS)
    attempts = [
        escalation.AttemptSummary("app-1-g1-a1", "claude", "partial", "test_failure", "half done"),
        escalation.AttemptSummary(
            "app-1-g1-a2", "codex", "partial", "test_failure", f"token {SECRET} leaked"
        ),
    ]
    for _ in range(2):
        escalation.escalate(
            world.deps,
            world.config.repo("app"),
            issue.ref,
            "app-1-g1-a2",
            issue.title,
            "same_failure_twice",
            attempts,
        )
    comments = world.tracker.comments(issue.ref)
    assert len(comments) == 1
    body = comments[0].body
    assert (
        "Two attempts in a row failed the same way." in body
        and "app-1-g1-a1" in body
        and "half done" in body
    )
    assert SECRET not in body and "[REDACTED:github-token]" in body
    assert "agentos:blocked" in world.tracker.issue(issue.ref).labels
    assert world.boards["app"].items()[0].status is BoardStatus.BLOCKED
    assert [n.kind for n in notifier.notes] == [Kind.ESCALATED, Kind.ESCALATED]
    assert world.events("task.escalated")[-1]["reason"] == "same_failure_twice"


def test_the_agents_own_manual_steps_replace_the_generic_advice(world: World) -> None:
    world.deps.notifier = MemoryNotifier()
    issue = world.issue("app", "Needs a key")
    escalation.escalate(
        world.deps,
        world.config.repo("app"),
        issue.ref,
        "app-1-g1-a1",
        issue.title,
        "blocked:missing_credentials",
        steps=["Add STRIPE_KEY to the CI secrets"],
    )
    body = world.tracker.comments(issue.ref)[0].body
    assert "blocked: `missing_credentials`" in body and "- Add STRIPE_KEY to the CI secrets" in body


def test_a_pr_body_closes_the_issue_and_lists_tests_and_files() -> None:
    body = texts.render(
        "pr_body.md.j2",
        issue=12,
        summary="Added it.",
        done=[],
        tests=["make test: passed"],
        files=["app.py"],
        risks=[],
        task_id="app-12-g1-a1",
        agent="claude",
    )
    assert body.startswith("Closes #12\n\nAdded it.\n")
    assert "- make test: passed" in body and "- `app.py`" in body and "### Risks" not in body

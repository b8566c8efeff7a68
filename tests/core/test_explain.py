"""core.explain: the verdicts /why gives, and /queue's reasons, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.explain import Facts, TaskFact, Waiting, explain, queue_report, verdict
from orchestrator.core.tasks import MailboxState

ON = {"Agent OS": True, "repo app": True, "dispatcher": True, "queue": True}
NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)


def task(
    state: str, generation: int = 1, attempt: int = 1, not_before: datetime | None = None
) -> TaskFact:
    return TaskFact(
        f"app-12-g{generation}-a{attempt}",
        MailboxState(state),
        generation,
        attempt,
        3,
        not_before=not_before,
    )


def facts(**kw: object) -> Facts:
    values: dict = dict(
        label="app#12",
        title="Add login",
        is_open=True,
        board_status="Ready",
        open_blockers=(),
        switches=ON,
    )
    values.update(kw)
    return Facts(**values)


@pytest.mark.parametrize(
    "given, says",
    [
        (dict(is_open=False, state_reason="not_planned"), "closed (not_planned): nothing to run"),
        (
            dict(tasks=(task("processing", attempt=2),)),
            "running: task app-12-g1-a2, attempt 2 of 3",
        ),
        (dict(pull="PR #40 (agent/12-add-login)"), "in review: PR #40 (agent/12-add-login)"),
        (dict(tasks=(task("inbox"),)), "queued: task app-12-g1-a1, waiting for its turn"),
        (
            dict(tasks=(task("inbox"),), switches={**ON, "queue": False}),
            "queued: task app-12-g1-a1, waiting for queue off",
        ),
        (
            dict(tasks=(task("inbox"),), capacity="all 4 workers busy"),
            "waiting for all 4 workers busy",
        ),
        (
            dict(tasks=(task("escalated", attempt=3),)),
            "escalated after 3 of 3 attempts; /retry app#12 re-queues it",
        ),
        (
            dict(tasks=(task("escalated", attempt=3), task("inbox", generation=2))),
            "queued: task app-12-g2-a1",
        ),
        (dict(tasks=(task("retried", attempt=3),)), "retried after 3 of 3 attempts"),
        (dict(switches={**ON, "Agent OS": False}), "not started: Agent OS off"),
        (
            dict(switches={**ON, "repo app": False, "dispatcher": False}),
            "not started: repo app, dispatcher off",
        ),
        (dict(open_blockers=("#10", "acme/lib#3")), "waiting for blockers: #10, acme/lib#3"),
        (dict(is_epic=True), "an epic: its sub-issues are the tasks"),
        (
            dict(held_by="agentos:needs-decision"),
            "held: labelled agentos:needs-decision (the groomer's); a person removes the label",
        ),
        (dict(board_status=""), "not on the board: add it and move it to Ready"),
        (dict(board_status="Backlog"), "not Ready on the board (status Backlog): move it to Ready"),
        (
            dict(is_open=None, unknown=("GitHub (acme/app#12 not found)",)),
            "not known: GitHub (acme/app#12 not found)",
        ),
        (
            dict(capacity="repo app has 2 of 2 running"),
            "Ready, waiting for a free worker (repo app has 2 of 2 running)",
        ),
        (
            dict(
                review_budget="2 PRs await review (max_awaiting_review 2): #12, #14",
                capacity="repo app has 2 of 2 running",
            ),
            "waits: 2 PRs await review (max_awaiting_review 2): #12, #14",
        ),
        (
            dict(
                overlaps="waits for #9: both name calc/sub.py",
                review_budget="2 PRs await review (max_awaiting_review 2): #12, #14",
            ),
            "Ready, but waits for #9: both name calc/sub.py (it starts once that issue's PR "
            "merges, or that issue is closed or escalated)",
        ),
        (
            dict(overlaps="waits for #9: both name calc/sub.py", is_epic=True),
            "an epic: its sub-issues are the tasks",
        ),
        (
            dict(pull="PR #40 (agent/12-add-login), waiting for a person: no check reported"),
            "in review: PR #40 (agent/12-add-login), waiting for a person: no check reported",
        ),
        (dict(), "Ready with no open blockers: the dispatcher queues it on its next tick"),
        # trust and approval, as the dispatcher decides them (core.trust's reasons)
        (
            dict(author="mallory", trust="untrusted"),
            "waits for approval: its author mallory cannot write to the repo; a user with write "
            "access adds the agentos:approved label",
        ),
        (
            dict(author="mallory", trust="approval_stale"),
            "waits for a new approval: its title or body changed after a user with write access "
            "approved it; one removes the agentos:approved label and adds it again",
        ),
        (
            dict(author="mallory", trust="trust_unreadable", unknown=("the author's standing",)),
            "not started: its author's standing could not be read",
        ),
        (dict(author="mallory", trust="approved_by:bob"), "the dispatcher queues it"),
        (dict(author="trudy", trust="trusted_user"), "the dispatcher queues it"),
        (dict(author="mallory", trust="untrusted", board_status="Backlog"), "not Ready"),
        (dict(author="mallory", trust="untrusted", open_blockers=("#3",)), "waiting for blockers"),
        # dependency cycles (core.dag)
        (
            dict(cycle=("#10", "#12"), in_cycle=True, open_blockers=("#10",)),
            "in a dependency cycle (#10, #12): none of them runs until one of those dependencies "
            "is removed",
        ),
        (
            dict(cycle=("#10", "#11"), open_blockers=("#10",)),
            "waiting for blockers: #10; a dependency cycle (#10, #11) holds them until one of its "
            "dependencies is removed",
        ),
        # cooldowns: a deferred task, a chain that rests
        (
            dict(tasks=(task("inbox", not_before=LATER),), now=NOW),
            "queued: task app-12-g1-a1, deferred until 2026-05-01 10:30 UTC: every agent of its "
            "chain is resting",
        ),
        (
            dict(tasks=(task("inbox", not_before=NOW - timedelta(minutes=1)),), now=NOW),
            "queued: task app-12-g1-a1, waiting for its turn",
        ),
        (
            dict(
                tasks=(task("inbox", not_before=LATER),), now=NOW, switches={**ON, "queue": False}
            ),
            "queued: task app-12-g1-a1, waiting for queue off",
        ),
        (
            dict(resting=("claude until 2026-05-01 10:30 UTC",), chain_resting=True),
            "Ready with no open blockers: the dispatcher queues it on its next tick, and it starts "
            "once an agent of its chain is back (claude until 2026-05-01 10:30 UTC)",
        ),
        (
            dict(resting=("claude until 2026-05-01 10:30 UTC",)),
            "Ready with no open blockers: the dispatcher queues it on its next tick",
        ),
        (  # why it was queued is no reason it waits
            dict(tasks=(TaskFact("app-12-g1-a1", MailboxState.INBOX, 1, 1, 3, "blockers_done"),)),
            "queued: task app-12-g1-a1, waiting for its turn",
        ),
        # switches: a queued task is past the dispatcher
        (
            dict(tasks=(task("inbox"),), switches={**ON, "dispatcher": False}),
            "queued: task app-12-g1-a1, waiting for its turn",
        ),
        (dict(switches={**ON, "dispatcher": False}), "not started: dispatcher off"),
        # Ready however the board spells it
        (dict(board_status="Todo", board_ready=True), "the dispatcher queues it"),
        (dict(board_status="Ready", board_ready=False), "not Ready on the board (status Ready)"),
        (dict(board_status="status:ready", board_ready=True), "the dispatcher queues it"),
    ],
)
def test_why_names_what_the_issue_is_doing_or_the_first_thing_stopping_it(
    given: dict, says: str
) -> None:
    assert says in verdict(facts(**given))


def test_why_lists_the_facts_it_rests_on() -> None:
    text = explain(
        facts(
            tasks=(task("retried", attempt=3), task("inbox", generation=2)),
            open_blockers=("#10",),
            unknown=("board (timeout)",),
        )
    )
    assert text.splitlines() == [
        "app#12 Add login: queued: task app-12-g2-a1, waiting for its turn",
        "- GitHub: open",
        "- board: Ready",
        "- blockers open: #10",
        "- switches: Agent OS on, repo app on, dispatcher on, queue on",
        "- task app-12-g1-a3: retried, attempt 3 of 3",
        "- task app-12-g2-a1: inbox, attempt 1 of 3",
        "- unknown: board (timeout)",
    ]


def waiting(n: int, state: str = "inbox", repo: str = "app", priority: int = 1) -> Waiting:
    return Waiting(
        f"{repo}#{n}",
        f"Issue {n}",
        TaskFact(f"{repo}-{n}-g1-a1", MailboxState(state), 1, 1, 3),
        repo,
        priority,
    )


def test_queue_orders_by_priority_and_says_why_each_waits() -> None:
    text = queue_report(
        [waiting(1), waiting(2, priority=0), waiting(3, repo="web"), waiting(4, "escalated")],
        running=2,
        limit=4,
        per_repo={"app": (2, 2), "web": (0, 1)},
        switches={"Agent OS": True, "job queue": True},
        repo_on={"app": True, "web": False},
    )
    assert text.splitlines() == [
        "Queue: 3 waiting, 2 running (limit 4)",
        "1. app#2 Issue 2 (app-2-g1-a1): repo app has 2 of 2 running",
        "2. app#1 Issue 1 (app-1-g1-a1): repo app has 2 of 2 running",
        "3. web#3 Issue 3 (web-3-g1-a1): repo web is off",
        "Escalated (/retry N): app#4 (app-4-g1-a1)",
    ]


def test_an_empty_queue_says_so_and_a_switch_off_is_named() -> None:
    assert queue_report([], 0, 4, {}, {"Agent OS": True}, {}).endswith("Nothing waits.")
    off = queue_report([], 0, 4, {}, {"Agent OS": False, "job queue": False}, {})
    assert "Nothing starts while Agent OS, job queue are off." in off


def test_why_names_the_issue_in_flight_a_ready_issue_waits_for() -> None:
    text = explain(facts(overlaps="waits for #9: it names calc/ and #9 names calc/ops.py"))
    assert text.splitlines() == [
        "app#12 Add login: Ready, but waits for #9: it names calc/ and #9 names calc/ops.py "
        "(it starts once that issue's PR merges, or that issue is closed or escalated)",
        "- GitHub: open",
        "- board: Ready",
        "- blockers open: none",
        "- switches: Agent OS on, repo app on, dispatcher on, queue on",
        "- tasks: none yet",
        "- would edit the same files as an issue in flight: waits for #9: it names calc/ and "
        "#9 names calc/ops.py",
    ]


def test_why_lists_the_new_facts_it_rests_on() -> None:
    text = explain(
        facts(
            tasks=(task("inbox", not_before=LATER),),
            now=NOW,
            author="mallory",
            trust="approved_by:bob",
            cycle=("#20", "#21"),
            resting=("claude until 2026-05-01 10:30 UTC (quota)",),
            capacity="all 4 workers busy (max_parallel_workers)",
        )
    )
    assert text.splitlines() == [
        "app#12 Add login: queued: task app-12-g1-a1, deferred until 2026-05-01 10:30 UTC: every "
        "agent of its chain is resting",
        "- GitHub: open",
        "- board: Ready",
        "- blockers open: none",
        "- dependency cycle: #20, #21",
        "- author: mallory (cannot write; approved by bob)",
        "- switches: Agent OS on, repo app on, dispatcher on, queue on",
        "- task app-12-g1-a1: inbox, attempt 1 of 3, deferred until 2026-05-01 10:30 UTC",
        "- agents resting: claude until 2026-05-01 10:30 UTC (quota)",
        "- capacity: all 4 workers busy (max_parallel_workers)",
    ]


@pytest.mark.parametrize(
    "reason, says",
    [
        ("write_access", "- author: alice (can write to the repo)"),
        ("trusted_user", "- author: alice (in github.trusted_users)"),
        ("approved_by:bob", "- author: alice (cannot write; approved by bob)"),
        ("approval_stale", "- author: alice (cannot write; approved, then the title or body "),
        ("untrusted", "- author: alice (cannot write; not approved)"),
        ("trust_unreadable", "- author: alice (standing not read)"),
    ],
)
def test_the_authors_standing_is_said_in_words(reason: str, says: str) -> None:
    assert says in explain(facts(author="alice", trust=reason))

"""What the demo's progress lines and its end say, from an issue's view: table tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.core.tasks import MailboxState, TaskType
from orchestrator.demo.progress import line
from orchestrator.demo.summary import settled
from orchestrator.demo.views import IssueView, state_of

OPEN = IssueView(1, "Add stats.mean", is_open=True, escalated=False, column="Ready")


def view(**changes: object) -> IssueView:
    return replace(OPEN, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "issue, waiting, said",
    [
        (view(), (), "ready"),
        (view(), (3, 2), "waiting for #2, #3"),
        (view(task=MailboxState.INBOX, attempt=1, task_type=TaskType.IMPLEMENTATION), (), "queued"),
        (
            view(task=MailboxState.PROCESSING, attempt=2, task_type=TaskType.IMPLEMENTATION),
            (),
            "agent at work (attempt 2)",
        ),
        (
            view(task=MailboxState.DELIVERED, pr=6, pr_state="open", ci="queued"),
            (),
            "PR #6 open, sandbox-ci queued",
        ),
        (
            view(task=MailboxState.DELIVERED, pr=6, pr_state="open", ci="in_progress"),
            (),
            "PR #6 open, sandbox-ci running",
        ),
        (
            view(task=MailboxState.DELIVERED, pr=6, pr_state="open", ci="failure"),
            (),
            "PR #6 open, sandbox-ci failed",
        ),
        (
            view(task=MailboxState.DELIVERED, pr=6, pr_state="open"),
            (),
            "PR #6 open, sandbox-ci not started",
        ),
        (
            view(task=MailboxState.INBOX, pr=6, pr_state="open", task_type=TaskType.FIXING),
            (),
            "fixing task for PR #6 queued",
        ),
        (
            view(
                task=MailboxState.PROCESSING,
                attempt=1,
                pr=6,
                pr_state="open",
                task_type=TaskType.FIXING,
            ),
            (),
            "agent fixing PR #6 (attempt 1)",
        ),
        (
            view(is_open=False, pr=6, pr_state="merged", task=MailboxState.DELIVERED),
            (),
            "PR #6 merged, issue closed",
        ),
        (view(is_open=False), (), "closed"),
        (
            view(escalated=True, task=MailboxState.ESCALATED),
            (),
            "escalated: a person must look (see the issue's comment)",
        ),
    ],
)
def test_a_progress_line_says_where_the_issue_is(
    issue: IssueView, waiting: tuple[int, ...], said: str
) -> None:
    assert state_of(issue, waiting) == said


def test_a_line_carries_the_number_a_trimmed_title_and_the_board_column() -> None:
    text = line(view(title="A title far too long to fit in the progress table's column"), ())
    assert text.startswith("#1   A title far too long to fit in the … [Ready]")
    assert text.endswith("ready")


MERGED = view(is_open=False, pr=6, pr_state="merged")
STUCK = view(escalated=True)


@pytest.mark.parametrize(
    "views, blockers, over",
    [
        ({1: MERGED, 2: view(number=2, is_open=False, pr_state="merged")}, {}, True),
        ({1: MERGED, 2: view(number=2)}, {2: (1,)}, False),  # 2 can run now
        ({1: STUCK}, {}, True),  # escalated: a person's turn
        ({1: STUCK, 2: view(number=2)}, {2: (1,)}, True),  # waits on an escalated issue
        # ... through another
        ({1: STUCK, 2: view(number=2), 3: view(number=3)}, {2: (1,), 3: (2,)}, True),
        ({1: view(), 2: view(number=2)}, {2: (1,)}, False),  # 1 still to do
        ({1: view(), 2: view(number=2)}, {1: (2,), 2: (1,)}, False),  # a cycle never ends by itself
    ],
)
def test_the_demo_is_over_when_every_issue_is_closed_escalated_or_stuck_behind_one(
    views: dict[int, IssueView], blockers: dict[int, tuple[int, ...]], over: bool
) -> None:
    assert settled(views, blockers) is over

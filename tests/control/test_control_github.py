"""The GitHub-side commands with the real GitHubTracker against the strict GitHub sandbox.

/why reads GitHub's native dependencies and `Depends on` lines, /status lists the open agent
PRs, and the Close button closes the issue as not planned, as GitHub itself records them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.control.plane import Control
from orchestrator.core import notify
from orchestrator.core.chat import IssueCommand, Simple, Target
from orchestrator.core.model import IssueRef
from orchestrator.jobs import JOBS
from tests.contract.worlds import SandboxWorld
from tests.control.conftest import make_task
from tests.helpers import minimal_config, write_config
from tests.support.github_sandbox import running_sandbox

REPO = "agentos/app"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[SandboxWorld]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.create_repo(REPO)
        world = SandboxWorld(sandbox, tmp_path / "git")
        yield world
        world.tracker.close()  # type: ignore[attr-defined]


@pytest.fixture
def control(tmp_path: Path, github: SandboxWorld) -> Control:
    repos = [{"key": "app", "github": REPO}]
    config = load_config(
        write_config(tmp_path, minimal_config(repos=repos)), {"GITHUB_TOKEN": "unused"}
    )
    return Control(config, JOBS, logging.getLogger("test.control"), tracker=lambda: github.tracker)


def test_why_reads_native_and_body_blockers_from_github(
    control: Control, github: SandboxWorld
) -> None:
    tracker = github.tracker
    schema = tracker.create_issue(REPO, "Schema", "")
    api = tracker.create_issue(REPO, "API", "")
    login = tracker.create_issue(REPO, "Login", "Depends on #2")
    tracker.add_blocker(login.ref, schema)
    why = control.command(IssueCommand("why", Target(3)), "alice")
    assert why.splitlines()[0] == "app#3 Login: waiting for blockers: #1, #2"
    tracker.close_issue(schema.ref)
    tracker.close_issue(api.ref)
    why = control.command(IssueCommand("why", Target(3)), "alice")
    assert "Ready with no open blockers" in why.splitlines()[0] and "- blockers open: none" in why


def test_status_lists_open_agent_prs_and_why_sees_the_pr(
    control: Control, github: SandboxWorld
) -> None:
    issue = github.tracker.create_issue(REPO, "Add greeting", "")
    github.push(REPO, "agent/1-add-greeting")
    github.push(REPO, "feature/human")
    pr = github.tracker.open_pull(REPO, "agent/1-add-greeting", "main", "Add greeting", "Closes #1")
    github.tracker.open_pull(REPO, "feature/human", "main", "A human's PR", "")
    status = control.command(Simple("status"), "alice")
    assert (
        f"Open agent PRs (1):\n  {REPO}#{pr.number} Add greeting" in status
        and "human" not in status
    )
    why = control.command(IssueCommand("why", Target(issue.number)), "alice")
    assert f"in review: PR #{pr.number} (agent/1-add-greeting)" in why


def test_close_as_not_planned_is_what_github_records(
    control: Control, github: SandboxWorld
) -> None:
    issue = github.tracker.create_issue(REPO, "Doomed", "")
    control.mailbox.create(make_task(issue.number, repo=REPO), "escalated")
    note = notify.escalated(
        IssueRef(REPO, issue.number), f"app-{issue.number}-g1-a3", "Doomed", "stuck"
    )
    control.actions.record(note, control.clock())
    pressed = control.press(notify.action_token(note.task_id or ""), "close", "alice")
    assert pressed.toast == f"app#{issue.number} closed as not planned (by alice)."
    closed = github.tracker.issue(issue.ref)
    assert not closed.is_open and closed.state_reason == "not_planned"

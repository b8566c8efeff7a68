"""Opening the PR of a finished attempt: our `Closes #N`, the agent's words quoted as data."""

from __future__ import annotations

from orchestrator.core import contract, lifecycle
from orchestrator.core.markdown import ZERO_WIDTH_SPACE as ZW
from orchestrator.core.model import BoardStatus
from orchestrator.core.tasks import Task, TaskType
from orchestrator.delivery import handoff
from orchestrator.store import rooms
from tests.jobs.conftest import T0, World

RESULT = """STATUS: complete
BLOCKER_CODE: none
SUMMARY: Did it. Closes #3. cc @someone
DONE:
- Fixes acme/app#2
BLOCKERS:
- None
NEXT_STEP: None
"""


def test_the_pr_title_and_body_quote_the_issue_title_and_the_agent_as_data(world: World) -> None:
    issue = world.issue("app", "Fixes #3 for @bob", status=BoardStatus.IN_PROGRESS)
    task = Task(
        id="app-1-g1-a1",
        repo_key="app",
        repo="acme/app",
        issue=1,
        title=issue.title,
        branch="agent/1-fixes-3-for-bob",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=1,
        max_attempts=3,
        generation=1,
        priority=1,
        created_at=T0,
    )
    world.tracker.push("acme/app", task.branch)
    room = rooms.Room(world.config.paths.rooms_dir, task.id)
    room.transition(lifecycle.State.DEVELOPING, "claimed")
    outcome = contract.parse(RESULT)
    handoff.deliver(
        world.deps, world.config.repo("app"), task, issue, outcome, "script", ["a.py"], room
    )
    [pr] = world.tracker.open_pulls("acme/app")
    # the title lands in a squash commit on main, where GitHub reads closing keywords too
    assert pr.title == f"F{ZW}ixes #3 for @{ZW}bob"
    assert pr.body.startswith(f"Closes #1\n\nDid it. C{ZW}loses #3. cc @{ZW}someone\n")
    assert f"- F{ZW}ixes acme/app#2" in pr.body

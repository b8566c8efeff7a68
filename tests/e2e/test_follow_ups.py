"""Discovered follow-ups end to end: the playbook agent notes two, the real PR monitor merges its
PR on the GitHub sandbox and files them as Backlog issues that name the issue, once, however often
it runs and when the same follow-ups are noted again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orchestrator.core.labels import DISCOVERED
from orchestrator.core.model import BoardStatus
from orchestrator.store.discoveries import Discoveries, Discovery
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_pr_monitor import SUB, deliver

NOTES = (
    "Add retries to the HTTP client — it gives up after the first timeout",
    "Cover the parser's error paths — no test reaches them",
)


def result(notes: tuple[str, ...], files: str) -> str:
    return (
        "STATUS: complete\nBLOCKER_CODE: none\nSUMMARY: Added it.\nDONE:\n- it\nBLOCKERS:\n- None\n"
        f"NEXT_STEP: None\nFILES_CHANGED:\n- {files}\nTESTS_RUN:\n- None\nDECISIONS:\n- None\n"
        "RISKS:\n- None\nATTEMPTED_APPROACHES:\n- None\nMANUAL_STEPS:\n- None\n"
        "FOLLOW_UPS:\n" + "".join(f"- {n}\n" for n in notes)
    )


def discovered(world: World) -> list[Any]:
    since = datetime(2000, 1, 1, tzinfo=UTC)
    return sorted(world.tracker.filed_issues("acme/app", DISCOVERED, since), key=lambda i: i.number)


def test_two_follow_ups_become_two_backlog_issues_linked_to_the_parent_and_never_twice(
    world: World,
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    step = {"files": SUB, "result_text": result(NOTES, "calc/sub.py")}
    number = deliver(world, "Add subtraction", [step])
    assert world.run("pr_monitor") == 0
    parent = world.tracker.issue(world.issue_ref(number))
    assert not parent.is_open  # merged
    first, second = discovered(world)
    assert (first.title, second.title) == (
        "Add retries to the HTTP client",
        "Cover the parser's error paths",
    )
    for filed, note in zip((first, second), NOTES, strict=True):
        issue = world.tracker.issue(world.issue_ref(filed.number))
        assert DISCOVERED in issue.labels and world.status(issue.ref) is BoardStatus.BACKLOG
        assert f"Discovered while working on #{number}" in issue.body
        assert "written by an agent" in issue.body and note in issue.body
    # linked by reference, not as sub-issues: a parent with sub-issues would be an epic to the
    # dispatcher, and one reopened after a revert would never run again
    assert world.tracker.dependencies(parent).sub_issues == ()
    (finished,) = world.events("pr_monitor", "run.finished")
    assert finished["follow_ups_filed"] == 2

    writes = world.github_writes()
    assert world.run("pr_monitor") == 0  # again: nothing new to file, nothing written
    assert len(discovered(world)) == 2 and world.github_writes() == writes

    # the same follow-ups noted again, as a tick killed after filing them would leave them
    note = Discovery("app", number, 2, (NOTES[1].upper(), NOTES[0]), merged=True)
    Discoveries(world.root / "runtime" / "state").put(note)
    assert world.run("pr_monitor") == 0
    assert len(discovered(world)) == 2
    assert world.tracker.dependencies(parent).sub_issues == ()
    assert len(world.events("pr_monitor", "incident.filed")) == 2
    assert len(world.events("pr_monitor", "incident.updated")) == 2
    assert Discoveries(world.root / "runtime" / "state").pending() == []

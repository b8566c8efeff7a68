"""The improvement loop end to end: failures become one incident, a fix is watched, a quiet week
files nothing, and the user's own signals become issues.

The real dispatcher, queue and incident scanner run against the GitHub sandbox; the playbook
agent breaks the sample's tests the same way on every issue.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.core.labels import INCIDENT
from tests.e2e.conftest import World, repo_entry

BROKEN = {"calc/ops.py": "import calc.no_such_helper\n\n\ndef add(a, b):\n    return a + b\n"}


def _incidents(world: World, state: str = "all") -> list[Any]:
    return [
        i
        for i in world.tracker.filed_issues("acme/app", INCIDENT, _long_ago())
        if state == "all" or i.is_open == (state == "open")
    ]


def _long_ago() -> Any:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


def _fail_on(world: World, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        world.issue("acme/app", f"Add feature number {n}")
    world.set_playbook({"*": [{"files": BROKEN}]})
    assert world.run("dispatcher") == 0
    assert world.run("queue") == 0


def _merge_a_fix(world: World, issue: int) -> int:
    """Someone "fixes" it: a PR that says `Fixes #N`, merged, that adds the wrong module."""
    work = world.root / "fix"
    world.git("clone", "-q", world.sandbox.clone_url("acme/app"), str(work), cwd=world.root)
    world.git("checkout", "-q", "-b", "fix-helper", cwd=work)
    (work / "calc" / "helpers.py").write_text("")
    world.git("add", "-A", cwd=work)
    world.git("-c", "user.name=Dev", "-c", "user.email=d@x", "commit", "-qm", "helper", cwd=work)
    world.git("push", "-q", "origin", "fix-helper", cwd=work)
    pr = world.tracker.open_pull(
        "acme/app", "fix-helper", "main", "Add the helper", f"Fixes #{issue}"
    )
    world.tracker.merge_pull(pr)
    return pr.number


def test_one_failure_on_several_issues_is_one_incident_watched_after_its_fix(world: World) -> None:
    world.configure([repo_entry("app", "acme/app")], improve={"repeats": 3})
    _fail_on(world, 3)
    assert len(world.mailbox("escalated")) == 3
    assert world.run("incident_scanner") == 0
    (incident,) = _incidents(world)
    assert "<!-- agentos:signature=" in incident.body
    assert "no_such_helper" in incident.body  # the evidence: the failure's own words
    assert "app-1-g1-a1" in incident.body or "app-2-g1-a1" in incident.body
    issue = world.tracker.issue(world.issue_ref(incident.number))
    assert {INCIDENT, "severity:medium"} <= set(issue.labels)
    assert world.status(issue.ref) is None or world.status(issue.ref).value == "Backlog"
    writes = world.github_writes()
    assert world.run("incident_scanner") == 0  # nothing new: nothing filed, nothing written
    assert len(_incidents(world)) == 1 and world.github_writes() == writes
    (finished,) = world.events("incident_scanner", "run.finished")[-1:]
    assert finished["signals"] == 0

    pr = _merge_a_fix(world, incident.number)
    assert _incidents(world, "open") == []
    assert world.run("incident_scanner") == 0
    (fixed,) = world.events("incident_scanner", "incident.fixed")
    assert (fixed["issue"], fixed["pr"]) == (incident.number, pr)

    _fail_on(world, 1, first=3)  # the fix did not hold: the same failure on a new issue
    assert world.run("incident_scanner") == 0
    (back,) = _incidents(world)
    assert back.number == incident.number and back.is_open
    (comment,) = world.tracker.comments(world.issue_ref(incident.number))
    assert f"#{pr}" in comment.body
    (reopened,) = world.events("incident_scanner", "incident.reopened")
    assert reopened["pr"] == pr


def test_a_damaged_ledger_is_rebuilt_and_the_scanner_judges_nothing_twice(world: World) -> None:
    world.configure([repo_entry("app", "acme/app")], improve={"repeats": 3})
    _fail_on(world, 3)
    assert world.run("incident_scanner") == 0
    (incident,) = _incidents(world)
    runtime = world.root / "runtime"
    for leftover in runtime.glob("ledger.sqlite-*"):
        leftover.unlink()
    (runtime / "ledger.sqlite").write_bytes(b"\x00garbage, not a database" * 100)
    writes = world.github_writes()
    assert world.run("incident_scanner") == 0
    assert list((runtime / "quarantine").rglob("*ledger*"))  # set aside, not crashed on
    (finished,) = world.events("incident_scanner", "run.finished")[-1:]
    assert finished["signals"] == 0  # the memo's mark found its place in the rebuilt ledger
    assert world.github_writes() == writes and _incidents(world) == [incident]


def test_a_signal_from_the_users_app_becomes_an_issue(world: World) -> None:
    errors = world.root / "app-errors.jsonl"
    world.configure(
        [repo_entry("app", "acme/app")],
        improve={"sources": [{"name": "errors", "repo": "app", "jsonl": str(errors)}]},
    )
    errors.write_text(
        json.dumps({"level": "error", "message": "payment webhook timed out after 30s"}) + "\n"
    )
    assert world.run("incident_scanner") == 0  # the first read of a file starts at its end?
    lines = [
        json.dumps({"level": "error", "message": f"payment webhook timed out after {n}s"})
        for n in (31, 32)
    ]
    with errors.open("a") as f:
        f.write("\n".join(lines) + "\n")
    assert world.run("incident_scanner") == 0
    (incident,) = _incidents(world)
    assert "payment webhook timed out" in incident.body
    assert "errors: errors:" not in incident.body and "errors: payment webhook" in incident.body
    assert "severity:high" in world.tracker.issue(world.issue_ref(incident.number)).labels


def test_a_quiet_week_files_nothing_and_asks_no_model(world: World) -> None:
    world.env["ANTHROPIC_API_KEY"] = "sk-ant-test"
    world.configure(
        [repo_entry("app", "acme/app")],
        agents={
            "backends": {
                "api": {
                    "type": "anthropic",
                    "api_key": "$ANTHROPIC_API_KEY",
                    "model": "claude-sonnet-4-5",
                    "base_url": "http://127.0.0.1:9",  # nobody there: a call would fail loudly
                }
            },
            "chains": {"default": ["api"]},
            "isolation": "none",
        },
        improve={"triage_with": "api"},
    )
    for job in ("log_analyzer", "incident_scanner", "log_analyzer"):
        assert world.run(job) == 0
    assert _incidents(world) == []
    assert world.events("incident_scanner", "triage.failed") == []
    assert world.events("log_analyzer", "run.finished")[-1]["filed"] == 0

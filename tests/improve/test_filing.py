"""The filer: one issue per signature, updated in place, reopened when a fix did not hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.improve.filing import Filer, Filing
from orchestrator.store.filings import Filings
from tests.jobs.conftest import T0, World, make_world

LABEL = "agentos:incident"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, improve={"daily_cap": 3})


def _filer(world: World, now: Any = None, *, dry_run: bool = False) -> Filer:
    return Filer(
        world.deps,
        world.config,
        now or T0 + timedelta(hours=1),
        producer="incident_scanner",
        memo=world.deps.memo("incident_scanner"),
        dry_run=dry_run,
    )


def _filing(world: World, signature: str = "a1b2c3d4e5f60718", **kw: Any) -> Filing:
    values: dict[str, Any] = {
        "repo": world.config.repo("app"),
        "signature": signature,
        "title": "Agents fail the same way on 3 tasks: ModuleNotFoundError",
        "body": "The test command fails before any test runs.",
        "labels": (LABEL, "severity:medium"),
        "colours": {LABEL: "b60205", "severity:medium": "fbca04"},
        "evidence": "Seen 3 times, last at 10:00.",
        "fields": {"kind": "task_failed", "severity": "medium", "count": 3},
    }
    return Filing(**{**values, **kw})


def _issues(world: World) -> list[Any]:
    return [i for i in world.tracker._repo("acme/app").issues.values() if LABEL in i.labels]


def test_a_new_signature_is_filed_once_labelled_marked_and_on_the_board(world: World) -> None:
    filed = _filer(world).file(_filing(world))
    assert (filed.action, filed.why) == ("file", "new")
    (issue,) = _issues(world)
    assert issue.labels == (LABEL, "severity:medium")
    assert "<!-- agentos:signature=a1b2c3d4e5f60718 -->" in issue.body
    assert world.boards["app"]._item(issue.ref).status is BoardStatus.BACKLOG
    assert Filings(world.config.paths.runtime_dir).count("app", "2026-05-01") == 1
    (event,) = world.events("incident.filed")
    assert (event["issue"], event["signature"], event["kind"]) == (
        issue.number,
        "a1b2c3d4e5f60718",
        "task_failed",
    )


def test_the_same_signature_updates_one_comment_in_place(world: World) -> None:
    _filer(world).file(_filing(world))
    again = _filer(world).file(_filing(world, evidence="Seen 5 times."))
    third = _filer(world).file(_filing(world, evidence="Seen 9 times."))
    assert (again.action, third.action) == ("update", "update")
    (issue,) = _issues(world)
    (comment,) = world.tracker.comments(issue.ref)
    assert "Seen 9 times." in comment.body and "Seen 5" not in comment.body
    assert len(world.events("incident.updated")) == 2


def test_an_issue_a_person_filed_in_other_words_is_not_filed_again(world: World) -> None:
    world.tracker.add_issue("acme/app", "Agents fail the same way on 3 tasks ModuleNotFoundError!")
    filer = _filer(world)
    filed = filer.file(_filing(world))
    filer.memo.save()  # as the job does at the end of its run
    assert filed.action == "skip" and filed.why.startswith("duplicate")
    assert _issues(world) == []
    assert len(world.events("incident.skipped")) == 1
    _filer(world).file(_filing(world))  # the same verdict again: logged once
    assert len(world.events("incident.skipped")) == 1


def test_the_daily_cap_stops_a_burst_and_the_next_day_files_again(world: World) -> None:
    titles = ["Job queue crashed", "GitHub refuses the board", "Quota storm on codex", "Canary"]
    results = [
        _filer(world).file(_filing(world, signature=f"{i:016x}", title=t, body=t))
        for i, t in enumerate(titles)
    ]
    assert [r.action for r in results] == ["file", "file", "file", "skip"]
    assert results[-1].why == "daily_cap"
    tomorrow = _filer(world, T0 + timedelta(days=1)).file(
        _filing(world, signature=f"{3:016x}", title=titles[3], body=titles[3])
    )
    assert tomorrow.action == "file"


def test_a_fix_that_did_not_hold_reopens_the_issue_naming_its_pr(world: World) -> None:
    _filer(world).file(_filing(world))
    (issue,) = _issues(world)
    world.tracker.push("acme/app", "agent/fix")
    pr = world.tracker.open_pull(
        "acme/app", "agent/fix", "main", "Fix it", f"Closes #{issue.number}"
    )
    world.tracker.merge_pull(pr)
    assert not world.tracker.issue(issue.ref).is_open
    filer = _filer(world, T0 + timedelta(days=2))
    assert filer.watch_fixes(world.config.repo("app"), LABEL) == 1
    assert filer.watch_fixes(world.config.repo("app"), LABEL) == 0  # once per closing
    (fixed,) = world.events("incident.fixed")
    assert (fixed["issue"], fixed["pr"]) == (issue.number, pr.number)
    back = _filer(world, T0 + timedelta(days=3)).file(_filing(world, evidence="Seen again."))
    assert (back.action, back.issue, back.fixed_by) == ("reopen", issue.number, pr.number)
    assert world.tracker.issue(issue.ref).is_open
    (comment,) = world.tracker.comments(issue.ref)
    assert f"#{pr.number}" in comment.body and "Seen again." in comment.body
    assert world.events("incident.reopened")[0]["pr"] == pr.number
    assert len(_issues(world)) == 1


def test_closed_as_not_planned_is_respected(world: World) -> None:
    _filer(world).file(_filing(world))
    (issue,) = _issues(world)
    world.tracker.close_issue(issue.ref, "not_planned")
    again = _filer(world).file(_filing(world))
    assert (again.action, again.why) == ("skip", "closed_as_not_planned")


def test_a_filing_that_may_not_reopen_leaves_a_closed_issue_closed(world: World) -> None:
    _filer(world).file(_filing(world, reopen=False))
    (issue,) = _issues(world)
    world.tracker.close_issue(issue.ref, "completed")
    again = _filer(world, T0 + timedelta(days=2)).file(_filing(world, reopen=False))
    assert (again.action, again.issue, again.why) == ("skip", issue.number, "closed")
    assert not world.tracker.issue(issue.ref).is_open and len(_issues(world)) == 1
    assert not world.tracker.issue(issue.ref).is_open


def test_a_signature_back_long_after_its_fix_is_news_again(world: World) -> None:
    _filer(world).file(_filing(world))
    (issue,) = _issues(world)
    world.tracker.close_issue(issue.ref)  # closed at T0
    later = _filer(world, T0 + timedelta(days=45)).file(_filing(world))  # watch_days is 30
    assert later.action == "file" and later.issue != issue.number


def test_ready_severities_go_straight_to_ready(world: World) -> None:
    _filer(world).file(_filing(world, ready=True))
    (issue,) = _issues(world)
    assert world.boards["app"]._item(issue.ref).status is BoardStatus.READY


def test_a_dry_run_writes_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(world.tracker.writes)
    filed = _filer(world, dry_run=True).file(_filing(world))
    assert filed.action == "file" and len(world.tracker.writes) == before
    assert "app: file" in capsys.readouterr().out


def test_a_github_error_is_logged_and_the_run_goes_on(world: World) -> None:
    from orchestrator.errors import TrackerError

    def broken(*_: Any) -> Any:
        raise TrackerError("502 Bad Gateway")

    world.tracker.filed_issues = broken  # type: ignore[method-assign]
    filed = _filer(world).file(_filing(world))
    assert (filed.action, filed.why) == ("skip", "github_error")
    assert world.events("incident.failed")[0]["error"] == "502 Bad Gateway"
    assert IssueRef("acme/app", 1) not in [i.ref for i in _issues(world)]

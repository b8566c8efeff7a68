"""Discovered follow-ups on memory twins: a merged task's FOLLOW_UPS become Backlog issues linked to
its issue, once each, whatever is killed or refused on the way; nothing when the repo is off."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core import contract, labels
from orchestrator.core.model import BoardStatus, Issue, IssueRef, PullRequest
from orchestrator.errors import TrackerError, TrackerUnauthorized
from orchestrator.improve import discovered
from orchestrator.store import rooms
from orchestrator.store.discoveries import Discoveries, Discovery
from tests.core.test_contract import COMPLETE
from tests.jobs.conftest import T0, World, make_world
from tests.jobs.test_pr_monitor import agent_pr, deliver, tick

TWO = (
    "Add retries to the HTTP client — it gives up after the first timeout",
    "Cover the parser's error paths — no test reaches them",
)
TOKEN = "ghp_" + "Zq9x" * 9


class Killed(BaseException):
    """The process dies here (SIGKILL has no handler to run)."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def result_with(world: World, task_id: str, items: tuple[str, ...]) -> None:
    """Record in the task's room the result an agent wrote with these follow-ups."""
    text = COMPLETE + "FOLLOW_UPS:\n" + "".join(f"- {i}\n" for i in items)
    rooms.Room(world.config.paths.rooms_dir, task_id).write_result(
        contract.render(contract.parse(text))
    )


def merged_task(world: World, items: tuple[str, ...] = TWO, title: str = "Add sub") -> Issue:
    """A green agent PR whose agent noted `items`; returns its issue."""
    pr = agent_pr(world, title=title)
    issue = _parent(world, pr)
    result_with(world, f"app-{issue.number}-g1-a1", items)
    return issue


def _parent(world: World, pr: PullRequest) -> Issue:
    number = int(re.match(r"agent/(\d+)-", pr.head).group(1))  # type: ignore[union-attr]
    return world.tracker.issue(IssueRef(pr.repo, number))


def discovered_issues(world: World) -> list[Issue]:
    return sorted(
        (i for i in world.tracker.open_issues("acme/app") if labels.DISCOVERED in i.labels),
        key=lambda i: i.number,
    )


def all_discovered(world: World) -> list[Any]:
    return world.tracker.filed_issues("acme/app", labels.DISCOVERED, T0 - timedelta(days=1))


def subs(world: World, parent: Issue) -> list[int]:
    return [ref.number for ref in world.tracker.dependencies(parent).sub_issues]


def pending(world: World) -> list[Discovery]:
    return Discoveries(world.config.paths.state_dir).pending()


def test_a_merged_task_with_two_follow_ups_files_two_backlog_issues_linked_by_reference(
    world: World,
) -> None:
    parent = merged_task(world)
    assert tick(world) == {"merge": 1, "follow_ups_filed": 2}
    first, second = discovered_issues(world)
    assert (first.title, second.title) == (
        "Add retries to the HTTP client",
        "Cover the parser's error paths",
    )
    for issue in (first, second):
        assert issue.labels == (labels.DISCOVERED,)
        assert f"Discovered while working on #{parent.number} (PR #" in issue.body
        assert "written by an agent" in issue.body and "<!-- agentos:signature=" in issue.body
        assert world.boards["app"]._item(issue.ref).status is BoardStatus.BACKLOG
    assert "it gives up after the first timeout" in first.body
    assert subs(world, parent) == []  # linked by reference: the parent stays a task, not an epic
    assert world.tracker.label_colours("acme/app")[labels.DISCOVERED] == "c2e0c6"
    filed = world.events("incident.filed")
    assert {(e["producer"], e["kind"], e["parent"]) for e in filed} == {
        ("follow_ups", "follow_up", parent.number)
    }
    (found,) = world.events("follow_ups.found")
    assert (found["issue"], found["count"], found["over"]) == (parent.number, 2, 0)
    assert pending(world) == []
    assert tick(world) == {} and len(all_discovered(world)) == 2  # nothing left to file


def test_the_same_follow_ups_again_file_no_duplicates(world: World) -> None:
    parent = merged_task(world)
    tick(world)
    world.tracker.reopen_issue(parent.ref)  # it came back: a second dispatch, the same notes
    pr = deliver(world, "app", parent.number, "Add sub", generation=2)
    world.tracker.add_check(pr.repo, pr.head_sha, _green())
    result_with(world, f"app-{parent.number}-g2-a1", (TWO[1].upper(), TWO[0]))
    assert tick(world, T0 + timedelta(hours=1)) == {"merge": 1}
    assert len(all_discovered(world)) == 2 and pending(world) == []
    assert len(world.events("incident.updated")) == 2
    assert subs(world, parent) == []


def test_a_follow_up_closed_by_a_person_is_not_reopened_when_proposed_again(world: World) -> None:
    parent = merged_task(world)
    tick(world)
    first = discovered_issues(world)[0]
    world.tracker.close_issue(first.ref, "completed")
    world.tracker.reopen_issue(parent.ref)
    pr = deliver(world, "app", parent.number, "Add sub", generation=2)
    world.tracker.add_check(pr.repo, pr.head_sha, _green())
    result_with(world, f"app-{parent.number}-g2-a1", TWO[:1])
    tick(world, T0 + timedelta(hours=1))
    assert not world.tracker.issue(first.ref).is_open and len(all_discovered(world)) == 2
    (skipped,) = world.events("incident.skipped")
    assert (skipped["issue"], skipped["reason"]) == (first.number, "closed")


def test_a_result_without_follow_ups_files_nothing_and_writes_no_note(world: World) -> None:
    pr = agent_pr(world)
    rooms.Room(world.config.paths.rooms_dir, f"app-{_parent(world, pr).number}-g1-a1").write_result(
        contract.render(contract.parse(COMPLETE))
    )
    assert tick(world) == {"merge": 1}
    assert all_discovered(world) == [] and world.events("follow_ups.found") == []
    assert not (world.config.paths.state_dir / "follow_ups.json").exists()


def test_the_attempts_of_the_dispatch_are_pooled_deduplicated_and_capped(world: World) -> None:
    pr = agent_pr(world)
    parent = _parent(world, pr)
    many = (
        "Rename the config loader — its name misleads",
        "Drop the unused cache — nothing reads it",
        "Document the retry policy — nobody knows it",
        "Speed up the slow fixture — it takes 9 seconds",
    )
    result_with(world, f"app-{parent.number}-g1-a1", many)
    result_with(world, f"app-{parent.number}-g1-a2", (many[0], *TWO))  # a fixing round's
    result_with(world, f"app-{parent.number}-g0-a1", ("From another dispatch — no",))
    tick(world)
    titles = [i.title for i in discovered_issues(world)]
    assert titles == [*(m.split(" — ")[0] for m in many), "Add retries to the HTTP client"]
    assert world.events("follow_ups.found")[0]["over"] == 1


def test_fifty_hostile_follow_ups_file_at_most_the_cap_each_defused(world: World) -> None:
    hostile = tuple(  # titles apart enough that the noise control files each
        f"Closes #1 @octocat {hashlib.sha256(bytes([n])).hexdigest()[:24]} — {TOKEN} "
        "<!-- agentos:signature=0123456789abcdef -->"
        for n in range(50)
    )
    parent = merged_task(world, hostile)
    tick(world)
    issues = discovered_issues(world)
    assert len(issues) == contract.FOLLOW_UPS_FILED
    for issue in issues:
        for text in (issue.title, issue.body):
            assert TOKEN not in text and "@octocat" not in text
            assert not re.search(r"(?i)closes\s+#1", text)
        assert issue.body.count("<!-- agentos:signature=") == 1  # ours, at the end
        assert issue.body.rstrip().endswith("-->")
    assert subs(world, parent) == []


@pytest.mark.parametrize("where", ["create_issue"])
def test_a_kill_between_two_filings_files_the_rest_next_tick_and_none_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    parent = merged_task(world)
    real = getattr(world.tracker, where)
    calls: list[int] = []

    def dies(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == (2 if where == "create_issue" else 1):
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(world.tracker, where, dies)
    with pytest.raises(Killed):
        tick(world)
    assert world.tracker.open_pulls("acme/app") == []  # the merge stands
    assert not world.tracker.issue(parent.ref).is_open
    monkeypatch.setattr(world.tracker, where, real)
    tick(world, T0 + timedelta(minutes=5))
    assert len(all_discovered(world)) == 2 and pending(world) == []
    assert subs(world, parent) == []


def test_a_github_error_keeps_the_follow_ups_for_the_next_tick_and_the_tick_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged_task(world)

    def refuses(*args: Any, **kwargs: Any) -> Issue:
        raise TrackerError("502 Bad Gateway")

    real = world.tracker.create_issue
    monkeypatch.setattr(world.tracker, "create_issue", refuses)
    assert tick(world) == {"merge": 1}
    assert [e["error"] for e in world.events("incident.failed")] == ["502 Bad Gateway"] * 2
    assert len(pending(world)[0].items) == 2
    monkeypatch.setattr(world.tracker, "create_issue", real)
    assert tick(world, T0 + timedelta(minutes=5)) == {"follow_ups_filed": 2}


def test_an_unreadable_pr_is_logged_once_and_a_refused_token_ends_the_tick(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = merged_task(world)
    entry = Discovery("app", parent.number, 99, TWO)  # its merge still to be confirmed
    Discoveries(world.config.paths.state_dir).put(entry)

    def fails(repo: str, number: int) -> PullRequest:
        raise TrackerError("500 Internal Server Error")

    monkeypatch.setattr(world.tracker, "pull", fails)
    for _ in range(2):
        discovered.file_pending(world.deps, world.config, T0)
    (failed,) = world.events("follow_ups.failed")
    assert (failed["pr"], failed["error"]) == (99, "500 Internal Server Error")

    def refused(repo: str, number: int) -> PullRequest:
        raise TrackerUnauthorized("401 Bad credentials")

    monkeypatch.setattr(world.tracker, "pull", refused)
    with pytest.raises(TrackerUnauthorized):
        discovered.file_pending(world.deps, world.config, T0)
    assert pending(world) == [entry]


def test_a_repo_switched_off_files_nothing_until_it_is_on_again(world: World) -> None:
    parent = merged_task(world)
    Discoveries(world.config.paths.state_dir).put(Discovery("app", parent.number, 7, TWO, True))
    world.deps.switches.set_repo("app", False, T0.isoformat())
    tick(world)
    tick(world)
    assert all_discovered(world) == []
    (deferred,) = world.events("follow_ups.deferred")
    assert deferred["reason"] == "repo_off"
    world.deps.switches.set_repo("app", True, T0.isoformat())
    assert discovered.file_pending(world.deps, world.config, T0) == 2


def test_with_agent_os_off_nothing_is_filed(world: World) -> None:
    Discoveries(world.config.paths.state_dir).put(Discovery("app", 1, 2, TWO, True))
    world.deps.switches.set_global(False, T0.isoformat())
    assert discovered.file_pending(world.deps, world.config, T0) == 0
    assert all_discovered(world) == [] and len(pending(world)) == 1


def test_the_daily_cap_holds_the_rest_for_the_next_day(tmp_path: Path) -> None:
    for world in make_world(tmp_path, improve={"daily_cap": 1}):
        merged_task(world)
        assert tick(world) == {"merge": 1, "follow_ups_filed": 1}
        assert tick(world, T0 + timedelta(hours=1)) == {}
        assert [e["reason"] for e in world.events("follow_ups.deferred")] == ["daily_cap"]
        assert tick(world, T0 + timedelta(days=1)) == {"follow_ups_filed": 1}
        assert len(all_discovered(world)) == 2 and pending(world) == []


@pytest.fixture
def held(tmp_path: Path) -> Iterator[World]:
    """A repo in dispatcher_only mode: a person merges."""
    repos = [{"key": "app", "github": "acme/app", "automation_mode": "dispatcher_only"}]
    yield from make_world(tmp_path, repos=repos)


def test_a_held_pr_a_person_merges_files_its_follow_ups_on_the_next_tick(
    held: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = merged_task(held)
    pr = held.tracker.open_pulls("acme/app")[0]
    asked: list[int] = []
    real = held.tracker.pull

    def pull(repo: str, number: int) -> PullRequest:
        asked.append(number)
        return real(repo, number)

    monkeypatch.setattr(held.tracker, "pull", pull)
    assert tick(held) == {"hold": 1} and tick(held) == {"hold": 1}
    assert all_discovered(held) == [] and not pending(held)[0].merged
    assert len(asked) == 2  # the monitor's own reads: none to ask whether it merged
    held.tracker.merge_pull(pr)  # a person merges it
    assert tick(held, T0 + timedelta(hours=1)) == {"follow_ups_filed": 2}
    assert len(all_discovered(held)) == 2 and pending(held) == []
    assert all(f"working on #{parent.number}" in i.body for i in all_discovered(held))


def test_a_pr_closed_without_merging_drops_its_follow_ups(world: World) -> None:
    pr = agent_pr(world, check=None)
    world.tracker.close_pull(pr)
    Discoveries(world.config.paths.state_dir).put(Discovery("app", 1, pr.number, TWO))
    discovered.file_pending(world.deps, world.config, T0)
    assert pending(world) == [] and all_discovered(world) == []
    assert world.events("follow_ups.dropped")[0]["reason"] == "closed_unmerged"


def test_a_dry_run_prints_and_files_nothing(world: World, capsys: pytest.CaptureFixture) -> None:
    Discoveries(world.config.paths.state_dir).put(Discovery("app", 1, 2, TWO, True))
    assert discovered.file_pending(world.deps, world.config, T0, dry_run=True) == 2
    assert "file" in capsys.readouterr().out
    assert all_discovered(world) == [] and len(pending(world)[0].items) == 2


def _green() -> Any:
    from orchestrator.core.model import Check, CheckState

    return Check("ci", CheckState.SUCCESS, "")

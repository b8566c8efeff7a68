"""The groomer on the memory twins: notes said once, cards repaired, a second run writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.control import scoreboard
from orchestrator.core import grooming
from orchestrator.core.labels import BLOCKED, DUPLICATE, NEEDS_DECISION
from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.tasks import MailboxState, Task, TaskType, task_id
from orchestrator.errors import AgentOSError, TrackerUnauthorized, TrackerUnavailable
from orchestrator.jobs import JOBS, groomer
from orchestrator.store import groomed
from tests.jobs.conftest import T0, World, make_world

S = BoardStatus
CRITERIA = "## Success criteria\n\n- it works\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _run(world: World, *, now: datetime = T0, dry_run: bool = False) -> dict[str, int]:
    return groomer.run(world.deps, world.config, now, dry_run=dry_run)


def _writes(world: World) -> int:
    return len(world.tracker.writes) + sum(len(b.writes) for b in world.boards.values())


def _notes(world: World, issue: Issue, marker: str) -> list[str]:
    return [c.body for c in world.tracker.comments(issue.ref) if marker in c.body]


def _status(world: World, issue: Issue, repo: str = "app") -> S | None:
    return next(i.status for i in world.boards[repo].items(detail=()) if i.issue == issue.ref)


def _task(issue: Issue) -> Task:
    return Task(
        id=task_id("app", issue.number, 1, 1),
        repo_key="app",
        repo="acme/app",
        issue=issue.number,
        title=issue.title,
        branch=f"agent/{issue.number}-t",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=1,
        max_attempts=3,
        generation=1,
        priority=1,
        created_at=T0,
    )


def _pull(world: World, head: str, body: str) -> Issue:
    """Open a PR and return it as the issue it also is."""
    world.tracker.push("acme/app", head)
    pr = world.tracker.open_pull("acme/app", head, "main", "Work", body)
    return world.tracker.issue(IssueRef("acme/app", pr.number))


def test_near_identical_issues_are_linked_and_labelled_and_neither_is_closed(world: World) -> None:
    first = world.issue(
        "app", "Login page crashes on empty password", "Submit it empty.", S.BACKLOG
    )
    world.issue("app", "Add a dark mode to the settings", CRITERIA, S.BACKLOG)
    second = world.issue("app", "Login page crashes on an empty password", "Boom.", S.BACKLOG)

    counts = _run(world)

    assert counts["duplicates"] == 1 and counts["issues"] == 3
    newer, older = world.tracker.issue(second.ref), world.tracker.issue(first.ref)
    assert newer.is_open and older.is_open
    assert DUPLICATE in newer.labels and DUPLICATE not in older.labels
    [note] = _notes(world, second, grooming.DUPLICATE_NOTE)
    assert note.startswith("Agent OS: possible duplicate of #1 (their words read alike: title")
    assert world.tracker.label_colours("acme/app")[DUPLICATE] == "cfd3d7"
    [event] = world.events("duplicate.marked")
    assert (event["repo"], event["issue"], event["duplicate_of"]) == ("app", 3, 1)

    before = _writes(world)
    assert _run(world)["duplicates"] == 0
    assert _writes(world) == before  # converged: nothing written, nothing repeated


def test_a_label_a_person_took_off_stays_off_even_when_the_memo_is_lost(world: World) -> None:
    world.issue("app", "Export the report as CSV", "", S.BACKLOG)
    second = world.issue("app", "Export the report as a CSV", "", S.BACKLOG)
    _run(world)
    world.tracker.remove_label(second.ref, DUPLICATE)  # "it is no duplicate"
    (world.config.paths.state_dir / "groomer.memo.json").unlink()
    before = _writes(world)

    _run(world)

    assert _writes(world) == before
    assert DUPLICATE not in world.tracker.issue(second.ref).labels
    assert len(_notes(world, second, grooming.DUPLICATE_NOTE)) == 1


def test_cards_that_disagree_with_the_facts_are_repaired_once(world: World) -> None:
    lost = world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    running = world.issue("app", "Still running", CRITERIA, S.IN_PROGRESS)
    world.deps.mailbox.create(_task(running))
    opened = world.issue("app", "Pull request opened", CRITERIA, S.IN_PROGRESS)
    _pull(world, f"agent/{opened.number}-pull-request-opened", f"Closes #{opened.number}")
    handed = world.issue("app", "Handed to a person", CRITERIA, S.IN_PROGRESS, labels=[BLOCKED])
    merged = world.issue("app", "Merged already", CRITERIA, S.IN_REVIEW)
    world.tracker.close_issue(merged.ref)
    gone = world.issue("app", "Review vanished", CRITERIA, S.IN_REVIEW)
    human = world.issue("app", "Fixed by hand", CRITERIA, S.IN_REVIEW)
    pr = _pull(world, "fix-by-hand", f"This fixes #{human.number}.")
    world.boards["app"].place(pr, S.IN_REVIEW)  # a PR's own card is left to the PR monitor

    counts = _run(world)

    assert counts["repaired"] == 5
    assert _status(world, lost) is S.BACKLOG
    assert _status(world, running) is S.IN_PROGRESS
    assert _status(world, opened) is S.IN_REVIEW
    assert _status(world, handed) is S.BLOCKED
    assert _status(world, merged) is S.DONE
    assert _status(world, gone) is S.BACKLOG
    assert _status(world, human) is S.IN_REVIEW
    assert _status(world, pr) is S.IN_REVIEW
    [note] = _notes(world, lost, grooming.CARD_NOTE)
    assert "from In Progress to Backlog" in note and "Move it to Ready" in note
    assert not _notes(world, handed, grooming.CARD_NOTE)  # only a move to Backlog is explained
    repaired = {e["issue"]: (e["was"], e["status"]) for e in world.events("card.repaired")}
    assert repaired[lost.number] == ("In Progress", "Backlog")
    assert repaired[merged.number] == ("In Review", "Done")
    assert all(world.tracker.issue(i.ref).is_open for i in (lost, gone, human))

    before = _writes(world)
    assert _run(world)["repaired"] == 0
    assert _writes(world) == before


def test_a_card_a_person_puts_back_is_theirs_until_its_issue_moves_on(world: World) -> None:
    lost = world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    _run(world)
    world.boards["app"].place(lost, S.IN_PROGRESS)  # "I am working on it"
    before = _writes(world)
    assert _run(world)["repaired"] == 0 and _writes(world) == before
    assert _status(world, lost) is S.IN_PROGRESS

    world.deps.mailbox.create(_task(lost))  # dispatched again: the move is forgotten
    assert _run(world)["repaired"] == 0
    world.deps.mailbox.move(_task(lost).id, MailboxState.INBOX, MailboxState.DROPPED)  # lost
    assert _run(world)["repaired"] == 1 and _status(world, lost) is S.BACKLOG


def test_free_issues_are_noted_and_abandoned_blockers_flagged(world: World) -> None:
    done = world.issue("app", "Schema migration", CRITERIA, S.DONE)
    world.tracker.close_issue(done.ref)
    dropped = world.issue("app", "Old payments API", CRITERIA, S.DONE)
    world.tracker.close_issue(dropped.ref, "not_planned")
    open_one = world.issue("app", "Design the tokens", CRITERIA, S.BACKLOG)
    free = world.issue("app", "Build the report page", CRITERIA, S.BACKLOG)
    world.tracker.add_blocker(free.ref, done)
    waiting = world.issue(
        "app", "Port the mobile client", f"{CRITERIA}\nDepends on #{dropped.number}\n", S.BACKLOG
    )
    still = world.issue("app", "Theme switcher", CRITERIA, S.BACKLOG)
    world.tracker.add_blocker(still.ref, open_one)
    queued = world.issue("app", "Queued by the dispatcher", CRITERIA, S.READY)
    world.tracker.add_blocker(queued.ref, done)

    counts = _run(world)

    assert (counts["free"], counts["needs_decision"]) == (1, 1)
    [note] = _notes(world, free, grooming.FREE_NOTE)
    assert f"all blockers are closed: free to start (it waited for #{done.number})" in note
    [flag] = _notes(world, waiting, grooming.DECISION_NOTE)
    assert f"#{dropped.number}, closed as not planned" in flag
    assert NEEDS_DECISION in world.tracker.issue(waiting.ref).labels
    for quiet in (still, queued, open_one):
        assert not _notes(world, quiet, grooming.FREE_NOTE)
    assert _status(world, free) is S.BACKLOG  # noted, not moved: Ready is a person's word
    [cleared] = world.events("blockers.cleared")
    assert cleared["blockers"] == [f"acme/app#{done.number}"]
    before = _writes(world)
    assert _run(world)["free"] == 0 and _writes(world) == before


class Drafts:
    """A model that structures a vague issue, counting how often it was asked."""

    def __init__(self, reply: str = "", error: bool = False) -> None:
        self.reply, self.error, self.asked = reply, error, 0

    def complete(self, system: str, prompt: str, max_tokens: int = 1024) -> str:
        self.asked += 1
        if self.error:
            raise AgentOSError("overloaded")
        return self.reply


def test_ready_issues_without_success_criteria_are_asked_for_them(world: World) -> None:
    vague = world.issue("app", "Make search faster", "It is slow.", S.READY)
    clear = world.issue("app", "Add a CSV export", CRITERIA, S.READY)
    parked = world.issue("app", "Tidy the docs", "Someday.", S.BACKLOG)

    assert _run(world)["briefs"] == 1

    [note] = _notes(world, vague, grooming.BRIEF_NOTE)
    assert "names no success criteria" in note and "## Success criteria" in note
    assert not _notes(world, clear, grooming.BRIEF_NOTE)
    assert not _notes(world, parked, grooming.BRIEF_NOTE)
    [event] = world.events("brief.requested")
    assert (event["issue"], event["drafted"]) == (vague.number, False)


def test_a_model_drafts_the_brief_once_quoted_as_data(world: World) -> None:
    model = Drafts(
        "GOAL: Search answers fast.\nCRITERIA:\n- p95 under 200 ms, ask @bob; fixes #2\n"
        "CONSTRAINTS:\n- none\n"
    )
    world.deps.llm = model
    vague = world.issue("app", "Make search faster", "It is slow.", S.READY)

    assert _run(world)["briefs"] == 1
    [note] = _notes(world, vague, grooming.BRIEF_NOTE)
    assert "A model drafted the brief" in note and "p95 under 200 ms" in note
    assert "@bob" not in note and "fixes #2" not in note  # defused: no mention, no closing
    before = _writes(world)
    assert _run(world)["briefs"] == 0 and model.asked == 1 and _writes(world) == before

    world.tracker.edit_issue(vague.ref, body="It is slow, really.")  # a new text: asked again
    assert _run(world)["briefs"] == 1 and model.asked == 2


def test_a_failing_model_leaves_the_deterministic_note(world: World) -> None:
    world.deps.llm = Drafts(error=True)
    vague = world.issue("app", "Make search faster", "It is slow.", S.READY)
    assert _run(world)["briefs"] == 1
    [note] = _notes(world, vague, grooming.BRIEF_NOTE)
    assert "names no success criteria" in note and "A model" not in note


def test_stale_escalations_go_to_the_report_and_the_digest(world: World) -> None:
    stuck = world.issue("app", "Stuck for long", CRITERIA, S.BLOCKED, labels=[BLOCKED])
    world.issue("app", "Keep calm", CRITERIA, S.BACKLOG)
    now = T0 + timedelta(days=9)

    counts = _run(world, now=now)

    assert counts["stale"] == 1
    report = groomed.read(world.config.paths.state_dir)
    assert report is not None
    assert [(s.repo, s.number, s.days) for s in report.stale] == [("acme/app", stuck.number, 9)]
    text = scoreboard.reply(world.config, world.tracker, world.deps.switches, now)
    assert "Escalations waiting longest (1):" in text
    assert f"acme/app#{stuck.number} 9 days: Stuck for long" in text
    assert "Groomer: nothing to tidy." in text
    assert _run(world, now=T0 + timedelta(days=3))["stale"] == 0  # younger than improve.stale_days


def test_the_digest_says_what_the_groomer_did_in_the_window(world: World) -> None:
    world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    _run(world)
    _run(world)  # the same day: counts add up, and this run did nothing
    text = scoreboard.reply(world.config, world.tracker, world.deps.switches, T0)
    assert "Groomer: 1 card repaired." in text
    later = scoreboard.reply(world.config, world.tracker, world.deps.switches, T0 + timedelta(2))
    assert "Groomer" not in later  # it did not run in the window


def test_a_dry_run_prints_what_it_would_do_and_writes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.issue("app", "Login page crashes on empty password", "", S.BACKLOG)
    world.issue("app", "Login page crashes on an empty password", "", S.BACKLOG)
    world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)

    counts = _run(world, dry_run=True)

    assert (counts["duplicates"], counts["repaired"]) == (1, 1)
    assert _writes(world) == 0
    out = capsys.readouterr().out
    assert "acme/app#2: would write a note: Agent OS: possible duplicate of #1" in out
    assert "acme/app#3: would move the card from In Progress to Backlog" in out
    assert not (world.config.paths.state_dir / "groomer.json").exists()
    assert not world.events("card.repaired")
    assert _run(world)["repaired"] == 1  # the real run still acts


class Broken:
    """A tracker whose reads of one repo fail."""

    def __init__(self, inner: Any, repo: str, error: Exception) -> None:
        self.inner, self.repo, self.error = inner, repo, error

    def open_issues(self, repo: str, labels: Any = ()) -> list[Issue]:
        if repo == self.repo:
            raise self.error
        result: list[Issue] = self.inner.open_issues(repo, labels)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_one_repo_github_cannot_read_is_logged_and_the_others_go_on(world: World) -> None:
    world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    other = world.issue("lib", "Lost in lib", CRITERIA, S.IN_PROGRESS)
    world.deps.tracker = Broken(world.tracker, "acme/app", TrackerUnavailable("502"))

    counts = _run(world)

    assert counts["unreadable"] == 1 and counts["repaired"] == 1
    assert _status(world, other, "lib") is S.BACKLOG
    [failed] = world.events("grooming.failed")
    assert failed["repo"] == "app" and "502" in failed["error"]


def test_a_refused_token_ends_the_tick(world: World) -> None:
    world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    world.deps.tracker = Broken(world.tracker, "acme/app", TrackerUnauthorized("401"))
    with pytest.raises(TrackerUnauthorized):
        _run(world)


def test_a_repo_switched_off_is_not_read(world: World) -> None:
    lost = world.issue("app", "Lost in progress", CRITERIA, S.IN_PROGRESS)
    world.deps.switches.set_repo("app", False, T0.isoformat())
    assert _run(world)["repaired"] == 0 and _status(world, lost) is S.IN_PROGRESS


def test_the_groomer_is_a_registered_daily_job() -> None:
    spec = JOBS["groomer"]
    assert spec.schedule == "20 7 * * *" and spec.module == "orchestrator.jobs.groomer"
    assert groomer.NAME == spec.name

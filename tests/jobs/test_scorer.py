"""The scorer: one digest a day from the ledger and GitHub, dry runs, a repo GitHub cannot read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.memory_chat import MemoryNotifier
from orchestrator.core import labels
from orchestrator.core.notify import Kind
from orchestrator.core.workspace import BaseCommit
from orchestrator.errors import TrackerUnauthorized, TrackerUnavailable, WorktreeError
from orchestrator.jobs import JOBS, scorer
from orchestrator.store.ledger import Ledger
from tests.jobs.conftest import T0, World, make_world

MERGE_SHA = "7" * 40


class History:
    """The base branches as `Worktrees.history` reads them: commits per repo key, or an error."""

    def __init__(self) -> None:
        self.commits: dict[str, list[BaseCommit]] = {}
        self.broken: set[str] = set()
        self.asked: list[tuple[str, str, datetime]] = []

    def history(self, repo_key: str, base: str, since: datetime) -> tuple[BaseCommit, ...]:
        self.asked.append((repo_key, base, since))
        if repo_key in self.broken:
            raise WorktreeError(f"git fetch failed for {repo_key}: connection refused")
        return tuple(c for c in self.commits.get(repo_key, []) if c.committed_at >= since)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    for world in make_world(
        tmp_path,
        repos=[
            {"key": "app", "github": "acme/app"},
            {"key": "lib", "github": "acme/lib", "automation_mode": "dispatcher_only"},
        ],
    ):
        world.deps.worktrees = History()  # type: ignore[assignment]  # no clone, no network
        yield world


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _lines(path: Path, *events: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for event in events:
            f.write(json.dumps(event) + "\n")


def seed(world: World) -> MemoryNotifier:
    """A day's work: issue 1 queued, judged, its PR merged; an incident filed; waiting work."""
    runtime = world.config.paths.runtime_dir
    hour = timedelta(hours=1)
    _lines(
        runtime / "logs" / "queue.jsonl",
        {"ts": _stamp(T0 - 5 * hour), "event": "task.queued", "task_id": "app-1-g1-a1"},
    )
    _lines(
        runtime / "rooms" / "app-1-g1-a1" / "channel.jsonl",
        {"ts": _stamp(T0 - 4 * hour), "event": "lifecycle.changed", "state": "developing"},
        {"ts": _stamp(T0 - 3 * hour), "event": "attempt.judged", "next": "open_pr", "reason": "ok"},
        {"ts": _stamp(T0 - 3 * hour), "event": "pr.opened", "number": 7},
    )
    _lines(
        runtime / "logs" / "pr_monitor.jsonl",
        {
            "ts": _stamp(T0 - hour),
            "event": "pr.merged",
            "repo": "acme/app",
            "pr": 7,
            "issue": 1,
            "sha": MERGE_SHA,
        },
    )
    _lines(
        runtime / "logs" / "incident_scanner.jsonl",
        {
            "ts": _stamp(T0 - hour),
            "event": "incident.filed",
            "repo_key": "app",
            "issue": 31,
            "kind": "job_crashed",
            "severity": "high",
            "first_seen": _stamp(T0 - 2 * hour),
        },
    )
    world.tracker.add_issue("acme/app", "Needs a password", labels=[labels.BLOCKED])
    world.tracker.add_issue("acme/app", "Not blocked")
    world.tracker.push("acme/lib", "agent/5-issue-5")
    world.tracker.open_pull("acme/lib", "agent/5-issue-5", "main", "Issue 5", "Closes #5")
    notes = MemoryNotifier()
    world.deps.notifier = notes
    return notes


def events(world: World, name: str) -> list[dict[str, Any]]:
    return world.events(name)  # the test world's log is dispatcher.jsonl, whatever job runs


def test_the_digest_goes_once_a_day_with_the_days_figures_and_what_waits(world: World) -> None:
    notes = seed(world)
    counts = scorer.run(world.deps, world.config, T0)
    assert counts["sent"] == 1 and counts["merged"] == 1 and counts["escalations"] == 1
    [note] = notes.notes
    assert note.kind is Kind.DIGEST
    text = f"{note.text}\n{note.detail}"
    assert "Merged: 1 PR; merged rate 100% (1 of 1 attempts)" in text
    assert "Lead time: 4.0 h" in text  # queued five hours before T0, merged one hour before
    assert "  acme/app#1 Needs a password" in text and "Not blocked" not in text
    assert "  acme/lib#1 Issue 5" in text  # dispatcher_only: held for a person's review
    assert "  acme/app#31 job crashed (high)" in text
    [sent] = events(world, "digest.sent")
    assert sent["escalations"] == 1 and sent["reviews"] == 1 and sent["incidents"] == 1

    again = scorer.run(world.deps, world.config, T0 + timedelta(hours=3))
    assert again == {"sent": 0} and len(notes.notes) == 1
    assert events(world, "digest.skipped")[0]["reason"] == "already_sent"

    scorer.run(world.deps, world.config, T0 + timedelta(days=1))
    assert len(notes.notes) == 2  # the next day's


def test_a_dry_run_prints_the_digest_and_marks_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = seed(world)
    assert scorer.run(world.deps, world.config, T0, dry_run=True)["sent"] == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Agent OS digest: the 24 h since") and "acme/app#1" in printed
    assert notes.notes == [] and not events(world, "digest.sent")
    assert not (world.config.paths.state_dir / "scorer.memo.json").exists()
    assert scorer.run(world.deps, world.config, T0)["sent"] == 1  # the real run still sends


def test_a_repo_github_cannot_read_is_named_and_the_digest_goes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = seed(world)
    real = world.tracker.open_pulls

    def flaky(repo: str, head_prefix: str = "agent/") -> list[Any]:
        if repo == "acme/lib":
            raise TrackerUnavailable("GitHub answered 502")
        return real(repo, head_prefix)

    monkeypatch.setattr(world.tracker, "open_pulls", flaky)
    assert scorer.run(world.deps, world.config, T0)["unreadable"] == 1
    [note] = notes.notes
    assert "  acme/lib: unreadable (GitHub could not be asked)" in note.detail
    assert "  acme/app#1 Needs a password" in note.detail  # the other repo is read all the same
    assert events(world, "digest.unreadable")[0]["repo"] == "acme/lib"


def test_a_refused_token_ends_the_tick_and_sends_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = seed(world)

    def refused(repo: str, labels: Any = ()) -> list[Any]:
        raise TrackerUnauthorized("401 Bad credentials")

    monkeypatch.setattr(world.tracker, "open_issues", refused)
    with pytest.raises(TrackerUnauthorized):
        scorer.run(world.deps, world.config, T0)
    assert notes.notes == [] and not (world.config.paths.state_dir / "scorer.memo.json").exists()


def test_a_switched_off_repo_is_not_asked(world: World) -> None:
    notes = seed(world)
    world.deps.switches.set_repo("lib", False, "now")
    scorer.run(world.deps, world.config, T0)
    assert "acme/lib" not in notes.notes[0].detail


def test_a_merged_pr_reverted_on_the_base_branch_is_logged_once_and_counts_as_failed(
    world: World,
) -> None:
    seed(world)
    history: History = world.deps.worktrees  # type: ignore[assignment]
    revert = BaseCommit("8" * 40, T0 - timedelta(minutes=20), f"This reverts commit {MERGE_SHA}.")
    history.commits["app"] = [revert]
    scorer.run(world.deps, world.config, T0)
    [logged] = events(world, "change.reverted")
    assert (logged["repo"], logged["pr"], logged["by"]) == ("acme/app", 7, "8" * 40)
    assert logged["at"] == _stamp(T0 - timedelta(minutes=20))
    assert [(k, b) for k, b, _ in history.asked] == [("app", "main")]  # lib merged nothing
    [row] = Ledger.of(world.config).reverts()
    assert (row["repo"], row["pr"], row["reverted_at"]) == ("acme/app", 7, logged["at"])
    scorer.run(world.deps, world.config, T0 + timedelta(days=1))
    assert len(events(world, "change.reverted")) == 1  # known to the ledger: not said again


def test_a_base_branch_that_cannot_be_read_is_named_and_the_digest_goes(world: World) -> None:
    notes = seed(world)
    history: History = world.deps.worktrees  # type: ignore[assignment]
    history.broken.add("app")
    assert scorer.run(world.deps, world.config, T0)["sent"] == 1
    [warning] = events(world, "reverts.unreadable")
    assert warning["repo"] == "app" and "connection refused" in warning["error"]
    assert len(notes.notes) == 1 and not events(world, "change.reverted")


def test_a_dry_run_reads_no_base_branch(world: World) -> None:
    seed(world)
    scorer.run(world.deps, world.config, T0, dry_run=True)
    assert world.deps.worktrees.asked == []  # type: ignore[attr-defined]


def test_the_scorer_is_registered_to_run_each_morning() -> None:
    spec = JOBS["scorer"]
    assert spec.schedule == "0 8 * * *" and spec.built and spec.module == "orchestrator.jobs.scorer"

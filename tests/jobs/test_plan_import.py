"""The `plan_import` job on the memory twins: a repo's own plan file kept in step with GitHub.

A changed plan is imported as `agentos plan import` imports it; an unchanged one costs one read
and nothing else; an invalid or missing one is said once; switches, the lock, a dry run, a
damaged state file and GitHub's errors are honoured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.memory_files import blob_sha
from orchestrator.adapters.memory_writes import RemoveBlocker, UpdateIssue
from orchestrator.core.labels import PLAN_ITEM
from orchestrator.core.model import BoardStatus, IssueRef, RepoFile
from orchestrator.errors import TrackerUnauthorized, TrackerUnavailable
from orchestrator.improve.plan_sync import EPOCH
from orchestrator.jobs import JOBS, plan_import
from orchestrator.store import locks, plan_imports, quarantine
from orchestrator.store.plan_imports import Seen
from tests.core.test_planfile import PLAN
from tests.jobs.conftest import T0, World, make_world

REPOS = [
    {"key": "app", "github": "acme/app", "plan_file": "PLAN.md"},
    {"key": "lib", "github": "acme/lib", "plan_file": "docs/plan.md", "base_branch": "trunk"},
    {"key": "web", "github": "acme/web"},  # no plan file: never read
]
BROKEN = "## Epic {#e}\n- Task {#t} after: nowhere\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, repos=REPOS)


class Reads:
    """The tracker, counting the reads that matter here: the plan file, and any sync's listing."""

    def __init__(self, inner: Any, error: Exception | None = None, repo: str = "") -> None:
        self.inner, self.error, self.repo = inner, error, repo
        self.files: list[tuple[str, str, str]] = []
        self.listings = 0

    def file_text(self, repo: str, path: str, ref: str) -> RepoFile | None:
        self.files.append((repo, path, ref))
        if self.error is not None and repo == self.repo:
            raise self.error
        found: RepoFile | None = self.inner.file_text(repo, path, ref)
        return found

    def filed_issues(self, *args: Any) -> Any:
        self.listings += 1
        return self.inner.filed_issues(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _run(world: World, *, dry_run: bool = False) -> dict[str, int]:
    return plan_import.run(world.deps, world.config, T0, dry_run=dry_run)


def _reads(world: World, error: Exception | None = None, repo: str = "") -> Reads:
    reads = Reads(world.tracker, error, repo)
    world.deps.tracker = reads  # type: ignore[assignment]
    return reads


def _writes(world: World) -> int:
    return len(world.tracker.writes) + sum(len(b.writes) for b in world.boards.values())


def _seen(world: World) -> dict[str, Seen]:
    return plan_imports.read(world.config.paths.state_dir)


def _titles(world: World, repo: str = "acme/app") -> list[str]:
    return sorted(f.title for f in world.tracker.filed_issues(repo, PLAN_ITEM, EPOCH))


def test_a_plan_in_the_repo_becomes_issues_and_an_unchanged_one_costs_one_read(
    world: World,
) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)

    counts = _run(world)

    assert counts["imported"] == 1 and counts["writes"] == 19 and counts["missing"] == 1
    assert len(_titles(world)) == 8
    statuses = {i.issue.number: i.status for i in world.boards["app"].items(detail=())}
    assert statuses == {n: BoardStatus.BACKLOG for n in range(1, 9)}
    assert _seen(world)["app"] == Seen(blob_sha(PLAN))
    [imported] = world.events("plan.imported")
    assert imported["repo"] == "app" and imported["file"] == "PLAN.md"
    assert imported["sha"] == blob_sha(PLAN) and imported["writes"] == 19

    reads, before = _reads(world), _writes(world)
    counts = _run(world)

    assert counts["unchanged"] == 1 and counts["imported"] == 0 and counts["writes"] == 0
    assert _writes(world) == before
    assert reads.files == [("acme/app", "PLAN.md", "main"), ("acme/lib", "docs/plan.md", "trunk")]
    assert reads.listings == 0  # no sync at all
    assert len(world.events("plan.imported")) == 1


def test_an_edited_plan_changes_only_what_changed(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)
    _run(world)
    before = len(world.tracker.writes)
    edited = PLAN.replace("2. Receipts {#bill-receipts}", "2. Receipts and notes {#bill-receipts}")
    final = edited.replace("   depends on bill-invoices\n", "")
    world.tracker.put_file("acme/app", "PLAN.md", final)

    counts = _run(world)

    assert counts["imported"] == 1 and counts["writes"] == 2
    receipts = IssueRef("acme/app", 7)
    assert world.tracker.writes[before:] == [
        UpdateIssue(receipts, "Receipts and notes", None),
        RemoveBlocker(receipts, IssueRef("acme/app", 6)),
    ]
    assert _seen(world)["app"] == Seen(blob_sha(final))


def test_an_invalid_plan_is_logged_once_per_blob_and_nothing_is_written(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", BROKEN)
    reads = _reads(world)

    assert _run(world)["invalid"] == 1
    assert _run(world)["unchanged"] == 1

    assert world.tracker.writes == [] and reads.listings == 0
    [invalid] = world.events("plan.invalid")
    assert invalid["level"] == "error" and invalid["repo"] == "app"
    assert invalid["file"] == "PLAN.md" and invalid["sha"] == blob_sha(BROKEN)
    assert invalid["problems"] == [
        "line 2: `nowhere` names no item of the plan (use an id or an exact title)"
    ]
    assert _seen(world)["app"] == Seen(blob_sha(BROKEN), invalid=True)

    world.tracker.put_file("acme/app", "PLAN.md", BROKEN + "- Other {#t}\n")  # another problem
    assert _run(world)["invalid"] == 1 and len(world.events("plan.invalid")) == 2
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)  # fixed
    assert _run(world)["imported"] == 1 and len(_titles(world)) == 8


def test_a_missing_plan_file_is_logged_once_until_it_appears(world: World) -> None:
    _run(world)
    _run(world)
    missing = world.events("plan.missing")
    assert [(e["repo"], e["file"], e["branch"]) for e in missing] == [
        ("app", "PLAN.md", "main"),
        ("lib", "docs/plan.md", "trunk"),
    ]
    world.tracker.put_file("acme/lib", "docs/plan.md", PLAN, ref="trunk")
    assert _run(world)["imported"] == 1 and len(_titles(world, "acme/lib")) == 8
    world.tracker.remove_file("acme/lib", "docs/plan.md", ref="trunk")
    _run(world)
    assert len(world.events("plan.missing")) == 3  # gone again: said again, once


def test_a_repo_switched_off_is_not_read(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)
    world.deps.switches.set_repo("app", False, T0.isoformat())
    reads = _reads(world)

    counts = _run(world)

    assert counts["skipped"] == 1 and counts["imported"] == 0
    assert reads.files == [("acme/lib", "docs/plan.md", "trunk")]
    assert world.tracker.writes == [] and "app" not in _seen(world)


def test_a_dry_run_prints_the_changes_and_records_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)

    counts = _run(world, dry_run=True)

    assert counts["imported"] == 1 and counts["writes"] == 19
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"app: PLAN.md on main (blob {blob_sha(PLAN)[:12]})"
    assert said[1] == 'would create epic "Sign-in"'
    assert said[-1].startswith("dry run: 19 writes would be made")
    assert _writes(world) == 0
    assert not plan_imports.path(world.config.paths.state_dir).exists()
    assert _run(world)["writes"] == 19  # the real tick still has it all to do


def test_a_damaged_state_file_is_set_aside_and_the_import_runs(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)
    state = plan_imports.path(world.config.paths.state_dir)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"app": {"sha": 12}}')

    assert _run(world)["imported"] == 1

    assert len(_titles(world)) == 8
    quarantined = list(quarantine.folder(world.config.paths.runtime_dir).glob("*plan_import.json"))
    assert len(quarantined) == 1 and quarantined[0].read_text() == '{"app": {"sha": 12}}'
    assert json.loads(state.read_text())["app"] == {"sha": blob_sha(PLAN), "invalid": False}


def test_a_held_lock_skips_the_repo_and_the_others_go_on(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)
    world.tracker.put_file("acme/lib", "docs/plan.md", PLAN, ref="trunk")
    reads = _reads(world)

    with locks.hold(world.config.paths.locks_dir, "plan_import-app") as held:
        assert held  # `agentos plan import` of app is under way
        counts = _run(world)

    assert counts["locked"] == 1 and counts["imported"] == 1
    assert reads.files == [("acme/lib", "docs/plan.md", "trunk")]
    [refused] = world.events("plan.refused")
    assert (refused["repo"], refused["reason"]) == ("app", "locked")
    assert _titles(world) == [] and "app" not in _seen(world)


def test_a_github_error_for_one_repo_is_logged_and_the_others_go_on(world: World) -> None:
    world.tracker.put_file("acme/app", "PLAN.md", PLAN)
    world.tracker.put_file("acme/lib", "docs/plan.md", PLAN, ref="trunk")
    _reads(world, TrackerUnavailable("GitHub failed to read acme/app:PLAN.md (502)"), "acme/app")

    counts = _run(world)

    assert counts["failed"] == 1 and counts["imported"] == 1
    [failed] = world.events("import.failed")
    assert failed["repo"] == "app" and "502" in failed["error"]
    assert "app" not in _seen(world) and _seen(world)["lib"] == Seen(blob_sha(PLAN))


def test_a_refused_token_ends_the_tick(world: World) -> None:
    world.tracker.put_file("acme/lib", "docs/plan.md", PLAN, ref="trunk")
    reads = _reads(world, TrackerUnauthorized("GitHub rejected the token (401)"), "acme/app")

    with pytest.raises(TrackerUnauthorized):
        _run(world)

    assert reads.files == [("acme/app", "PLAN.md", "main")] and world.tracker.writes == []


def test_the_plan_import_is_a_registered_hourly_job() -> None:
    spec = JOBS["plan_import"]
    assert spec.schedule == "7 * * * *" and spec.module == "orchestrator.jobs.plan_import"
    assert plan_import.NAME == spec.name and not spec.always_on

"""The acceptance proof of an attempt: runs on the base and the head, the room, the PR's table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from orchestrator.config.model import RepoConfig
from orchestrator.core import contract
from orchestrator.core.acceptance import OFF
from orchestrator.core.markdown import ZERO_WIDTH_SPACE as ZW
from orchestrator.core.model import IssueRef, TestRun
from orchestrator.core.workspace import CommitOutcome, Workspace
from orchestrator.delivery import acceptance, stopping
from orchestrator.errors import TrackerError, WorktreeError
from orchestrator.store import rooms
from orchestrator.store.acceptance import Acceptance, AcceptanceRow, read, write
from tests.jobs.conftest import World

COMPLETE = contract.parse("STATUS: complete\nBLOCKER_CODE: none\nSUMMARY: done\n")
HEAD, BASE = "h" * 40, "b" * 40


class Clock:
    """time.monotonic for the module under test: only the fake runs move it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeWorktrees:
    root: Path
    fail: bool = False
    made: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    removed: int = 0

    def scratch(self, ws: Workspace, sha: str, files_from: str, paths: Sequence[str]) -> str:
        if self.fail:
            raise WorktreeError("the clone stayed locked for 600 s")
        self.made.append((sha, files_from, tuple(paths)))
        path = self.root / f"{ws.task_id}.proof"
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def remove_scratch(self, ws: Workspace) -> None:
        self.removed += 1


@dataclass
class FakeTests:
    """Passes or fails by where it runs and which files: `verdict(side, files)`."""

    clock: Clock
    verdict: Callable[[str, tuple[str, ...]], bool | None]
    runs: list[tuple[str, str, float]] = field(default_factory=list)

    def run(
        self, command: str, cwd: str, timeout_s: float, *, readable: tuple[str, ...] = ()
    ) -> TestRun:
        side = "base" if cwd.endswith(".proof") else "head"
        self.runs.append((side, command, timeout_s))
        files = tuple(command.removeprefix("pytest -q ").split(" "))
        found = self.verdict(side, files)
        if found is None:  # hangs until its timeout
            self.clock.now += timeout_s
            return TestRun(False, f"{command}: timed out", "", ran=False)
        self.clock.now += 2
        return TestRun(found, command, "")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(acceptance.time, "monotonic", fake)
    return fake


def attempt(
    world: World, tmp_path: Path, files: dict[str, str], test_command: str | None = "pytest -q"
) -> tuple[Workspace, CommitOutcome, rooms.Room, RepoConfig]:
    worktree = tmp_path / "worktrees" / "app" / "app-1-g1-a1"
    for name, text in files.items():
        (worktree / name).parent.mkdir(parents=True, exist_ok=True)
        (worktree / name).write_text(text)
    ws = Workspace("app", "app-1-g1-a1", str(worktree), "agent/1-x", "main", BASE, BASE, None)
    committed = CommitOutcome(HEAD, True, ("calc/sub.py", *files), True)
    room = rooms.Room(world.config.paths.rooms_dir, ws.task_id)
    repo = replace(world.config.repo("app"), test_command=test_command)
    return ws, committed, room, repo


def give(
    world: World, tmp_path: Path, clock: Clock, verdict: Callable[..., bool | None]
) -> tuple[FakeWorktrees, FakeTests]:
    trees, tests = FakeWorktrees(tmp_path / "worktrees" / "app"), FakeTests(clock, verdict)
    world.deps.worktrees = trees  # type: ignore[misc]
    world.deps.tests = tests  # type: ignore[misc]
    return trees, tests


def test_a_test_that_fails_on_the_base_and_passes_on_the_head_proves_the_change(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    trees, tests = give(world, tmp_path, clock, lambda side, files: side == "head")
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_sub.py": "..."})
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof == Acceptance(HEAD, BASE, (AcceptanceRow("tests/test_sub.py", True, True),), "")
    assert read(room.path) == proof and proof.tests_pass_on_base is False
    assert trees.made == [(BASE, HEAD, ("tests/test_sub.py",))] and trees.removed == 1
    assert [(side, command) for side, command, _ in tests.runs] == [
        ("base", "pytest -q tests/test_sub.py"),
        ("head", "pytest -q tests/test_sub.py"),
    ]
    [event] = rooms.read(world.config.paths.rooms_dir, ws.task_id).events
    assert event["event"] == "acceptance.finished" and event["pass_on_base"] is False
    assert event["files"] == ["tests/test_sub.py"] and event["fails_on_base"] == [True]


def test_a_test_that_passes_on_the_base_too_proves_nothing(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    give(world, tmp_path, clock, lambda side, files: True)
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_more.py": "..."})
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof is not None and proof.rows == (AcceptanceRow("tests/test_more.py", False, True),)
    assert read(room.path) == proof and proof.tests_pass_on_base is True


def test_files_run_together_first_and_one_by_one_only_where_together_fails(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    def verdict(side: str, files: tuple[str, ...]) -> bool:  # test_b tests existing behaviour
        return side == "head" or files == ("tests/test_b.py",)

    _, tests = give(world, tmp_path, clock, verdict)
    files = {"tests/test_a.py": "", "tests/test_b.py": "", "tests/conftest.py": ""}
    ws, committed, room, repo = attempt(world, tmp_path, files)
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof is not None and proof.rows == (
        AcceptanceRow("tests/test_a.py", True, True),
        AcceptanceRow("tests/test_b.py", False, True),
    )
    assert [command.removeprefix("pytest -q ") for _, command, _ in tests.runs] == [
        "tests/test_a.py tests/test_b.py",  # base, together: fails
        "tests/test_a.py",
        "tests/test_b.py",
        "tests/test_a.py tests/test_b.py",  # head, together: passes
    ]


def test_the_whole_proof_takes_at_most_one_test_timeout_and_says_it_was_cut_short(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    _, tests = give(world, tmp_path, clock, lambda side, files: None if side == "base" else True)
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_a.py": ""})
    started = clock.now
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    budget = world.config.limits.test_timeout_minutes * 60
    assert clock.now - started <= budget
    assert [side for side, _, _ in tests.runs] == ["base"]  # no time left for the head
    assert proof is not None and proof.rows == (AcceptanceRow("tests/test_a.py", None, None),)
    assert "cut short" in proof.note and proof.tests_pass_on_base is None


def test_a_worker_told_to_stop_starts_no_more_runs(
    world: World, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tests = give(world, tmp_path, clock, lambda side, files: True)
    monkeypatch.setattr(stopping, "requested", lambda: True)  # `off --now` came meanwhile
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_a.py": ""})
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert tests.runs == [] and proof is not None
    assert proof.note == "cut short: the worker was told to stop"


def test_a_base_that_cannot_be_checked_out_is_a_note_and_the_head_still_runs(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    trees, _ = give(world, tmp_path, clock, lambda side, files: True)
    trees.fail = True
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_a.py": ""})
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof is not None and proof.rows == (AcceptanceRow("tests/test_a.py", None, True),)
    assert proof.note.startswith("the base could not be checked out: the clone stayed locked")


def test_a_runner_with_no_command_gets_no_runs_and_a_note(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    trees, tests = give(world, tmp_path, clock, lambda side, files: True)
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/test_a.py": ""}, "make test")
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof == Acceptance(HEAD, BASE, (AcceptanceRow("tests/test_a.py", None, None),), OFF)
    assert tests.runs == [] and trees.made == []


def test_no_proof_for_an_attempt_that_is_not_complete_and_none_run_without_test_files(
    world: World, tmp_path: Path, clock: Clock
) -> None:
    _, tests = give(world, tmp_path, clock, lambda side, files: True)
    ws, committed, room, repo = attempt(world, tmp_path, {"tests/conftest.py": ""})
    partial = contract.after_tests(COMPLETE, False, "pytest -q: failed")
    assert acceptance.prove(world.deps, repo, ws, committed, partial, room) is None
    assert read(room.path) is None
    proof = acceptance.prove(world.deps, repo, ws, committed, COMPLETE, room)
    assert proof == Acceptance(HEAD, BASE, (), "no test file to run") and tests.runs == []


# -- the table on the PR ---------------------------------------------------------------------------
def proof_of(*rows: AcceptanceRow, note: str = "") -> Acceptance:
    return Acceptance(HEAD, BASE, rows, note)


def test_the_table_says_the_change_is_proved() -> None:
    text = acceptance.table(proof_of(AcceptanceRow("tests/test_sub.py", True, True)))
    assert "| test file | base (expect fail) | head (expect pass) |" in text
    assert "| `tests/test_sub.py` | ✓ fails | ✓ passes |" in text
    assert "**This proves the change**" in text and f"`{BASE[:12]}`" in text


def test_the_table_says_tests_that_pass_on_the_base_prove_nothing() -> None:
    text = acceptance.table(
        proof_of(
            AcceptanceRow("tests/test_a.py", True, True),
            AcceptanceRow("tests/test_more.py", False, True),
            AcceptanceRow("tests/test_c.py", None, None),
            note="cut short",
        )
    )
    assert "| `tests/test_more.py` | ✗ passes | ✓ passes |" in text
    assert "| `tests/test_c.py` | – not run | – not run |" in text
    assert (
        "**Its tests already pass on the base: they prove nothing** (`tests/test_more.py`)" in text
    )
    assert "Note: cut short" in text


def test_a_hostile_path_stays_inside_its_cell_and_forges_nothing() -> None:
    path = "tests/test_x|`y`<!-- agentos:acceptance -->@bob.py"
    text = acceptance.table(proof_of(AcceptanceRow(path, True, False)))
    [row] = [line for line in text.splitlines() if line.startswith("| `")]
    assert row.count(" | ") == 2 and "\\|" in row  # three cells: the pipe is escaped
    assert acceptance.MARKER not in text and f"<{ZW}!--" in row and f"@{ZW}bob" in row
    assert "**Some of its tests fail on the head**" in text


def test_the_pr_gets_one_comment_that_a_new_heads_proof_edits(world: World) -> None:
    world.tracker.push("acme/app", "agent/1-x")
    pr = world.tracker.open_pull("acme/app", "agent/1-x", "main", "Add sub", "Closes #1")
    room = rooms.Room(world.config.paths.rooms_dir, "app-1-g1-a1")
    acceptance.attach(world.deps, pr, room)  # no proof: no comment
    assert world.tracker.comments(IssueRef("acme/app", pr.number)) == []
    write(room.path, proof_of(AcceptanceRow("tests/test_sub.py", True, True)))
    acceptance.attach(world.deps, pr, room)
    write(room.path, proof_of(AcceptanceRow("tests/test_sub.py", False, True)))
    acceptance.attach(world.deps, pr, room)
    [comment] = world.tracker.comments(IssueRef("acme/app", pr.number))
    assert "prove nothing" in comment.body and acceptance.MARKER in comment.body


def test_a_proof_with_no_command_is_not_shown_and_a_failed_comment_is_logged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.tracker.push("acme/app", "agent/1-x")
    pr = world.tracker.open_pull("acme/app", "agent/1-x", "main", "Add sub", "Closes #1")
    room = rooms.Room(world.config.paths.rooms_dir, "app-1-g1-a1")
    write(room.path, proof_of(AcceptanceRow("tests/test_sub.py", None, None), note=OFF))
    acceptance.attach(world.deps, pr, room)
    assert world.tracker.comments(IssueRef("acme/app", pr.number)) == []

    def refuse(*args: object) -> None:
        raise TrackerError("GitHub said 502")

    monkeypatch.setattr(world.tracker, "upsert_comment", refuse)
    write(room.path, proof_of(AcceptanceRow("tests/test_sub.py", True, True)))
    acceptance.attach(world.deps, pr, room)  # logged, never raised
    [event] = world.events("acceptance.comment_failed")
    assert event["pr"] == pr.number and "502" in event["error"]

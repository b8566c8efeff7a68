"""The PR monitor's risk tiers on memory twins: high waits for a person even in full mode, medium
needs the verifier, low merges on green; the tier and its reasons are shown in the PR body.

The world's PRs are written by the `script` backend (its room says so) and pushed through the
gate (the audit log's `branch.pushed` of the head), as tests/jobs/test_pr_monitor_verifier.py
sets them up; `judge` is the verifier when a test configures one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.adapters.memory_writes import CreateStatus, MergePull, UpdateIssue
from orchestrator.control import scoreboard
from orchestrator.core.model import BoardStatus, Check, CheckState, IssueRef, PullRequest
from orchestrator.core.risk import END, START
from orchestrator.core.verification import FileDiff
from orchestrator.errors import TrackerError
from orchestrator.review import awaiting
from orchestrator.store import acceptance, rooms
from orchestrator.store.files import append_line
from orchestrator.store.ledger import Ledger
from orchestrator.store.switches import Switches
from tests.jobs import conftest
from tests.jobs.conftest import T0, World, make_world
from tests.jobs.test_pr_monitor import reasons, status, tick
from tests.jobs.test_pr_monitor_verifier import AGENTS, APPROVE, Model, use, written

LOGIN = FileDiff("auth/login.py", "modified", 3, 1, "@@ -1 +1,3 @@\n+def login(): ...")
LOGIN_TEST = FileDiff(
    "tests/test_login.py", "added", 6, 0, "@@ -0,0 +1,6 @@\n+def test_login(): ..."
)
SUB = FileDiff("calc/sub.py", "added", 2, 0, "@@ -0,0 +1,2 @@\n+def sub(a, b):\n+    return a - b")
SUB_TEST = FileDiff("tests/test_sub.py", "added", 5, 0, "@@ -0,0 +1,5 @@\n+def test_sub(): ...")
DOC = FileDiff("README.md", "modified", 1, 0, "@@ -1 +1,2 @@\n+`sub(a, b)` subtracts")
LOW = (DOC, SUB, SUB_TEST)


def worlds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: object) -> Iterator[World]:
    monkeypatch.setitem(conftest.ENV, "MODEL_KEY", "test-model-key-0123456789")
    repos = [{"key": "app", "github": "acme/app", "max_parallel_tasks": 4}]
    yield from make_world(tmp_path, repos=repos, agents=AGENTS, **config)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from worlds(tmp_path, monkeypatch)  # no verifier


@pytest.fixture
def verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from worlds(tmp_path, monkeypatch, review={"verifier": "judge"})


def body(world: World, pr: PullRequest) -> str:
    return world.tracker.pull(pr.repo, pr.number).body


def body_writes(world: World, pr: PullRequest) -> list[UpdateIssue]:
    ref = IssueRef(pr.repo, pr.number)
    return [w for w in world.tracker.writes if isinstance(w, UpdateIssue) and w.ref == ref]


def file_reads(world: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the PR file listings GitHub is asked for (one entry per request)."""
    asked: list[int] = []
    read = world.tracker.pull_files

    def counted(pr: PullRequest) -> list[FileDiff]:
        asked.append(pr.number)
        return read(pr)

    monkeypatch.setattr(world.tracker, "pull_files", counted)
    return asked


# -- high: a person decides, even in full mode -----------------------------------------------------
def test_a_high_tier_pr_is_held_for_a_person_and_says_why_in_its_body(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = file_reads(world, monkeypatch)
    pr = written(world, "Harden login", files=(LOGIN, LOGIN_TEST))
    assert tick(world) == {"hold": 1} and world.tracker.pull(pr.repo, pr.number).is_open
    shown = body(world, pr)
    assert "Risk: **high**\n- touches `auth/login.py`" in shown
    assert "a person reviews and merges it" in shown and shown.count(START) == 1
    assert shown.index("Opened by Agent OS for task") < shown.index(START) < shown.index(END)
    assert reasons(world) == ["risk_high"] and status(world, "app", 1) is BoardStatus.IN_REVIEW
    [risk] = world.events("pr.risk")
    assert (risk["tier"], risk["reasons"]) == ("high", "touches `auth/login.py`")
    writes = len(world.tracker.writes)
    assert tick(world) == {"hold": 1} and tick(world, T0.replace(day=20)) == {"hold": 1}
    assert len(world.tracker.writes) == writes and asked == [pr.number]  # read once per head
    assert len(body_writes(world, pr)) == 1 and not any(
        isinstance(w, MergePull) for w in world.tracker.writes
    )  # never wedged either, 19 days on
    memo = awaiting.monitor_memo(world.config.paths.state_dir)
    [(held, reason)] = awaiting.waiting(world.config.repo("app"), [pr], memo)
    assert (held.number, reason) == (pr.number, "risk_high")
    digest = scoreboard.reply(
        world.config, world.tracker, Switches(world.config.paths.state_dir), T0
    )
    assert f"acme/app#{pr.number} Harden login (risk high)" in digest


def test_our_own_body_edit_does_not_restart_a_check_less_heads_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub moves a PR's `updated_at` when its body is edited; the grace for a head with no
    checks at all counts from it. The head held once stays held, without a wait in between."""
    monkeypatch.setitem(conftest.ENV, "MODEL_KEY", "test-model-key-0123456789")
    repos = [{"key": "app", "github": "acme/app", "require_checks": False}]
    for world in make_world(tmp_path, repos=repos, agents=AGENTS):
        pr = written(world, "Harden login", files=(LOGIN, LOGIN_TEST))
        world.tracker.push(pr.repo, pr.head)  # a head no CI reports on
        later = T0 + timedelta(minutes=11)
        monkeypatch.setattr(world.tracker, "_clock", lambda at=later: at)  # when GitHub edits
        assert tick(world, later) == {"hold": 1}
        assert world.tracker.pull(pr.repo, pr.number).updated_at == later
        assert tick(world, later + timedelta(minutes=5)) == {"hold": 1}
        assert reasons(world) == ["risk_high"] and len(body_writes(world, pr)) == 1


def test_a_lost_memo_reads_the_files_again_but_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr = written(world, "Harden login", files=(LOGIN, LOGIN_TEST))
    tick(world)
    (world.config.paths.state_dir / "pr_monitor.memo.json").unlink()
    asked, writes = file_reads(world, monkeypatch), len(body_writes(world, pr))
    assert tick(world) == {"hold": 1} and asked == [pr.number]
    assert len(body_writes(world, pr)) == writes  # the body already reads so


def test_a_high_tier_pr_is_not_put_to_the_verifier(
    verified: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = use(verified, Model())  # a question would find no answer
    pr = written(verified, "Harden login", files=(LOGIN, LOGIN_TEST))
    assert tick(verified) == {"hold": 1} and model.prompts == []
    assert not any(isinstance(w, CreateStatus) for w in verified.tracker.writes)
    assert "Risk: **high**" in body(verified, pr)


# -- medium: the verifier's approval, or as risk.medium_requires_verifier says ---------------------
def test_a_medium_tier_pr_merges_on_the_verifiers_approval_its_files_read_once(
    verified: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = file_reads(verified, monkeypatch)
    model = use(verified, Model(APPROVE))
    pr = written(verified, files=(SUB,))  # code without a test
    assert tick(verified) == {"merge": 1} and len(model.prompts) == 1
    assert asked == [pr.number]  # the tier and the verifier share one listing
    shown = body(verified, pr)
    assert "Risk: **medium**\n- changes code without touching a test" in shown
    assert "the verifier approves its head" in shown
    assert START not in model.prompts[0][1]  # our section is not the agent's words


def test_the_risk_sections_words_are_never_the_agent_owning_up_to_a_deleted_test(
    verified: World,
) -> None:
    """Our section says "deletes test files: `tests/test_ops.py`"; the verifier reads the body
    without it, so the deletion is still one the agent did not own up to."""
    model = use(verified, Model())
    gone = FileDiff("tests/test_ops.py", "removed", 0, 9, "@@ -1,9 +0,0 @@\n-import unittest")
    pr = written(verified, files=(SUB, gone))
    said = (
        "<!-- agentos:risk -->\n- deletes test files: `tests/test_ops.py`\n<!-- /agentos:risk -->"
    )
    verified.tracker.update_issue(IssueRef(pr.repo, pr.number), body=f"{pr.body}\n\n{said}\n")
    assert tick(verified) == {"fix": 1} and model.prompts == []
    assert reasons(verified) == ["verifier_changes_requested"]


def test_without_a_verifier_a_medium_tier_pr_merges_on_green_by_default(world: World) -> None:
    pr = written(world, files=(SUB,))
    assert tick(world) == {"merge": 1}
    assert "No verifier is configured" in body(world, pr)


def test_with_medium_requires_verifier_and_none_configured_it_waits_for_a_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for world in worlds(tmp_path, monkeypatch, risk={"medium_requires_verifier": True}):
        pr = written(world, files=(SUB,))
        assert tick(world) == {"hold": 1} and tick(world) == {"hold": 1}
        assert reasons(world) == ["risk_medium_unverified"]
        assert "`risk.medium_requires_verifier`" in body(world, pr)
        assert len(body_writes(world, pr)) == 1


# -- low: merges on green, the verifier not asked --------------------------------------------------
def test_a_low_tier_pr_merges_on_green_without_asking_the_verifier(verified: World) -> None:
    model = use(verified, Model())
    pr = written(verified, files=LOW)
    assert tick(verified) == {"merge": 1} and model.prompts == []
    assert not any(isinstance(w, CreateStatus) for w in verified.tracker.writes)
    shown = body(verified, pr)
    assert "Risk: **low**\n- no rule raised it" in shown and "the verifier is not asked" in shown
    assert reasons(verified) == ["green"]


# -- what raises a tier besides the files ----------------------------------------------------------
def test_tests_that_already_pass_on_the_base_raise_the_tier(
    verified: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = use(verified, Model(APPROVE))
    pr = written(verified, files=LOW)
    room = rooms.Room(verified.config.paths.rooms_dir, "app-1-g1-a1").path
    row = acceptance.AcceptanceRow("tests/test_sub.py", fails_on_base=False, passes_on_head=True)
    acceptance.write(room, acceptance.Acceptance(pr.head_sha, "base", (row,)))
    assert tick(verified) == {"merge": 1} and len(model.prompts) == 1  # medium: asked
    assert "its tests already pass on the base: no proof" in body(verified, pr)


def test_the_proof_read_is_the_one_of_the_attempt_that_pushed_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for world in worlds(tmp_path, monkeypatch, risk={"medium_requires_verifier": True}):
        pr = written(world, files=LOW)
        head = world.tracker.push(pr.repo, pr.head)  # a fixing attempt pushed the head
        world.deps.audit.record(
            "branch.pushed", actor="agentos:worker:app-1-g1-a2", repo_key="app",
            task="app-1-g1-a2", branch=pr.head, sha=head,
        )  # fmt: skip
        world.tracker.add_check(pr.repo, head, Check("ci", CheckState.SUCCESS))
        row = acceptance.AcceptanceRow("tests/test_sub.py", False, True)  # passes on the base
        room = rooms.Room(world.config.paths.rooms_dir, "app-1-g1-a2").path
        room.mkdir(parents=True)
        acceptance.write(room, acceptance.Acceptance(head, "base", (row,)))
        assert tick(world) == {"hold": 1} and reasons(world) == ["risk_medium_unverified"]
        assert "its tests already pass on the base" in body(world, pr)


def test_a_weak_track_record_in_the_ledger_raises_the_tier(world: World) -> None:
    runtime = world.config.paths.runtime_dir
    for n in range(6):  # six attempts by `script` in the last 30 days, none merged
        channel = runtime / "rooms" / f"app-{90 + n}-g1-a1" / "channel.jsonl"
        channel.parent.mkdir(parents=True)
        for line in (
            {"ts": "2026-04-20T00:00:00.000Z", "event": "chain.finished", "backend": "script"},
            {"ts": "2026-04-20T01:00:00.000Z", "event": "attempt.judged", "next": "retry"},
        ):
            append_line(channel, json.dumps(line | {"end": "finished", "reason": "r"}))
    Ledger.of(world.config).update()
    pr = written(world, files=(SUB,))  # medium, and one step up: high
    assert tick(world) == {"hold": 1} and reasons(world) == ["risk_high"]
    assert "the agent merged 0% of its last 6 attempts" in body(world, pr)


# -- the body --------------------------------------------------------------------------------------
def test_a_body_github_refuses_to_take_is_said_once_and_the_tier_still_decides(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(ref: IssueRef, *, title: str | None = None, body: str | None = None) -> None:
        raise TrackerError("GitHub refused to edit acme/app#1 (422 body is too long)")

    monkeypatch.setattr(world.tracker, "update_issue", refuse)
    written(world, "Harden login", files=(LOGIN, LOGIN_TEST))
    assert tick(world) == {"hold": 1} and tick(world) == {"hold": 1}
    [unshown] = world.events("pr.risk_unshown")
    assert "422" in unshown["error"]


def test_a_dispatcher_only_pr_shows_its_tier_to_the_person_who_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(conftest.ENV, "MODEL_KEY", "test-model-key-0123456789")
    repos = [{"key": "app", "github": "acme/app", "automation_mode": "dispatcher_only"}]
    for world in make_world(tmp_path, repos=repos, agents=AGENTS):
        pr = written(world, files=LOW)
        assert tick(world) == {"hold": 1} and reasons(world) == ["dispatcher_only"]
        assert "Risk: **low**" in body(world, pr) and "(`dispatcher_only`)" in body(world, pr)

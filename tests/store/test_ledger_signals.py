"""Every kind of signal, from lines the real code writes: the loggers and rooms of the jobs.

Each signal here is made by calling the code that logs it (the escalation, the queue's recovery,
the card move, the PR monitor, the dispatcher, the approval hold, the runner's crash and refusal,
the gate's refusal, an agent's cooldown, a judged attempt), so the ledger reads the field names
the code writes, not names a test made up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.cli import runner
from orchestrator.cli.main import main
from orchestrator.core import contract, trust
from orchestrator.core.agent import CooldownStarted, event_record
from orchestrator.core.evidence import SignalGroup, SignalRow
from orchestrator.core.lifecycle import State
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.outbound import Refusal
from orchestrator.core.tasks import MailboxState, Task, TaskType, task_id
from orchestrator.delivery import approval, attempt, cards, escalation, guard
from orchestrator.errors import TrackerError, TrackerUnauthorized
from orchestrator.jobs import dispatcher, pr_monitor, queue
from orchestrator.store.ledger import Ledger
from orchestrator.store.rooms import Room
from tests.helpers import ENV
from tests.jobfixtures.registry import JOBS
from tests.jobs.conftest import T0, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _task(number: int, attempt_no: int = 1) -> Task:
    return Task(
        id=task_id("app", number, 1, attempt_no),
        repo_key="app",
        repo="acme/app",
        issue=number,
        title="T",
        branch=f"agent/{number}-t",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=attempt_no,
        max_attempts=3,
        generation=1,
        priority=1,
        created_at=T0,
    )


def _ledger(world: World) -> Ledger:
    keys = {r.github: r.key for r in world.config.repos}
    return Ledger(world.config.paths.runtime_dir, repo_keys=keys)


def _kinds(groups: list[SignalGroup]) -> dict[str, list[SignalGroup]]:
    found: dict[str, list[SignalGroup]] = {}
    for group in groups:
        found.setdefault(group.kind, []).append(group)
    return found


def _failing(message: str) -> object:
    def fail(*args: object, **kwargs: object) -> object:
        raise TrackerError(message)

    return fail


def test_each_kind_of_signal_comes_from_the_line_the_code_writes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps, config, rooms_dir = world.deps, world.config, world.config.paths.rooms_dir
    app = config.repo("app")
    issue = world.issue("app", "Hard one", status=BoardStatus.IN_PROGRESS)
    # escalated: the escalation's own log line
    escalation.escalate(deps, app, issue.ref, "app-1-g1-a2", issue.title, "same_failure_twice", [])
    # worker_recovered: the queue's recovery, which writes the room's copy too (counted once)
    dead = _task(7)
    deps.mailbox.create(dead)
    deps.mailbox.move(dead.id, MailboxState.INBOX, MailboxState.PROCESSING)
    queue._requeue(deps, config, dead, Room(rooms_dir, dead.id), "worker_died")
    # github_error: a card that cannot move, a board and a PR list that cannot be read, a PR
    # that fails, a comment that cannot be written
    monkeypatch.setattr(world.boards["app"], "set_status", _failing("502 Bad Gateway"))
    cards.move(deps, app, issue.ref, BoardStatus.BLOCKED)
    monkeypatch.setattr(world.boards["lib"], "items", _failing("board gone"))
    dispatcher.run(deps, config, T0)
    world.tracker.push("acme/app", "agent/1-hard-one")
    world.tracker.open_pull("acme/app", "agent/1-hard-one", "main", "Hard one", "Closes #1")
    monkeypatch.setattr(pr_monitor, "gather", _failing("merge conflict API said 422"))
    monkeypatch.setattr(world.tracker, "open_pulls", _wrap_unreadable(world.tracker.open_pulls))
    pr_monitor.run(deps, config, T0)
    monkeypatch.setattr(world.tracker, "upsert_comment", _failing("403 locked"))
    approval.hold(deps, app, _task(3), trust.STALE)
    # github_error (a refused token): the runner's own line
    refused = TrackerUnauthorized("401 Bad credentials")
    runner._unauthorized(config, deps.log, "dispatcher", refused, time.monotonic())
    # gate_refused and canary: the gate's refusals, through the attempt's own refusal path
    for number, rule in ((4, "secret-shape"), (5, guard.CANARY)):
        task = _task(number)
        deps.mailbox.create(task)
        deps.mailbox.move(task.id, MailboxState.INBOX, MailboxState.PROCESSING)
        room = Room(rooms_dir, task.id)
        room.transition(State.QUEUED, "no_blockers")
        room.transition(State.DEVELOPING, "implementation")
        world.issue("app", f"Task {number}")
        refusal = Refusal("src/settings.py", rule)
        attempt._refuse(deps, app, task, room, contract.invalid("x"), [refusal])
    # quota: an agent's cooldown, through the room's sink as the chain writes it
    room = Room(rooms_dir, "app-6-g1-a1")
    until = datetime(2026, 5, 1, 11, tzinfo=UTC)
    room.sink("agent")(event_record(CooldownStarted("claude", until, "rate limit reached")))
    # task_failed: a judged attempt whose tests failed
    room.record("tests.finished", command="pytest", passed=False, line="failed", tail="E boom")
    room.record("attempt.judged", next="retry", reason="partial:test_failure", files=[])
    # job_crashed: a tick of a job that raises, run as cron runs it (its own crashy.jsonl)
    assert main(["--config", str(config.source), "run", "crashy"], jobs=JOBS, environ=ENV) == 1
    # source: a user's app, through the signals log
    ledger = _ledger(world)
    stamp = (T0 + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ledger.add_signals([SignalRow(stamp, "app", "sig-500", "HTTP 500 on /login", "web")])

    ledger.update()
    kinds = _kinds(ledger.signal_groups(0, ledger.last_signal_id()))

    escalated = {g.details[0]: g for g in kinds["escalated"]}  # the gate's refusals escalate too
    assert set(escalated) == {"same_failure_twice", "blocked:outbound_refused"} | {
        "blocked:canary_tripped"
    }
    mine = escalated["same_failure_twice"]
    assert mine.repo_key == "app" and mine.task_ids == ("app-1-g1-a2",) and mine.count == 1
    (recovered,) = kinds["worker_recovered"]
    assert recovered.count == 1 and recovered.task_ids == (dead.id,)
    assert recovered.details == ("worker_died (death 1)",)
    (crashed,) = kinds["job_crashed"]
    assert crashed.repo_key == "" and crashed.details[0].startswith("crashy: RuntimeError")
    github = {d.split(":")[0]: g for g in kinds["github_error"] for d in g.details}
    assert set(github) == set(
        ["board.update_failed", "board.unreadable", "pulls.unreadable", "pr.failed"]
        + ["comment.failed", "run.unauthorized"]
    )
    assert github["board.update_failed"].repo_key == "app"  # "acme/app", mapped to its key
    assert github["board.unreadable"].repo_key == "lib"
    assert github["pulls.unreadable"].repo_key == "lib"
    assert github["pr.failed"].repo_key == "app"
    assert github["comment.failed"].repo_key == ""  # the line names no repo
    assert "Bad credentials" in github["run.unauthorized"].details[0]
    (gate,) = kinds["gate_refused"]
    assert gate.task_ids == ("app-4-g1-a1",) and "secret-shape" in gate.details[0]
    (canary,) = kinds["canary"]
    assert canary.task_ids == ("app-5-g1-a1",) and canary.repo_key == "app"
    (quota,) = kinds["quota"]
    assert quota.details == ("claude: rate limit reached",) and quota.task_ids == ("app-6-g1-a1",)
    (failed,) = kinds["task_failed"]
    assert failed.task_ids == ("app-6-g1-a1",) and "E boom" in failed.details[0]
    (source,) = kinds["source"]
    assert source.signature == "sig-500" and source.details == ("web: HTTP 500 on /login",)
    assert source.first_ts == stamp


def _wrap_unreadable(real: object) -> object:
    def open_pulls(repo: str, head_prefix: str = "agent/") -> object:
        if repo == "acme/lib":
            raise TrackerError("503 Service Unavailable")
        return real(repo, head_prefix)  # type: ignore[operator]

    return open_pulls


def test_the_same_failure_on_other_days_and_tasks_groups_as_one(world: World) -> None:
    rooms_dir = world.config.paths.rooms_dir
    for n in range(1, 9):
        room = Room(rooms_dir, f"app-{n}-g1-a1")
        tail = f"assert {n} == {n + 1} in /tmp/w{n}/tests/test_x.py line {n * 3}"
        room.record("tests.finished", command="pytest", passed=False, line="failed", tail=tail)
        room.record("attempt.judged", next="retry", reason="partial:test_failure", files=[])
    ledger = _ledger(world)
    ledger.update()
    (group,) = ledger.signal_groups(0, ledger.last_signal_id())
    assert group.kind == "task_failed" and group.count == 8
    assert group.task_ids == tuple(f"app-{n}-g1-a1" for n in range(1, 6))  # 5, the first
    assert len(group.details) == 3 and len(set(group.details)) == 3
    later = ledger.signal_groups(5, ledger.last_signal_id())
    assert [(g.count, g.task_ids[0]) for g in later] == [(3, "app-6-g1-a1")]
    assert ledger.signal_groups(8, 8) == []


def test_a_recovery_in_the_room_and_the_log_is_one_signal(world: World) -> None:
    dead = _task(2)
    world.deps.mailbox.create(dead)
    world.deps.mailbox.move(dead.id, MailboxState.INBOX, MailboxState.PROCESSING)
    room = Room(world.config.paths.rooms_dir, dead.id)
    queue._requeue(world.deps, world.config, dead, room, "no_heartbeat")
    channel = (room.path / "channel.jsonl").read_text()
    assert '"task.recovered"' in channel  # logged in both places
    ledger = _ledger(world)
    ledger.update()
    assert [g.count for g in ledger.signal_totals("2000-01-01")] == [1]


def test_a_signal_line_is_redacted_and_its_detail_kept_short(world: World) -> None:
    ledger = _ledger(world)
    secret = "ghp_" + "Q7r8" * 9
    long = f"token {secret} " + "x" * 1000
    ledger.add_signals([SignalRow("2026-05-01T10:00:00.000Z", "app", "s1", long, "web")])
    line = (world.config.paths.logs_dir / "signals.jsonl").read_text()
    assert secret not in line and json.loads(line)["event"] == "signal.received"
    ledger.update()
    (group,) = ledger.signal_totals("2026-05-01")
    assert len(group.details[0]) == 300 and secret not in group.details[0]
    assert group.details[0].startswith("web: token [REDACTED")


def test_a_telegram_refusal_is_no_github_error(world: World) -> None:
    from orchestrator.errors import ChatUnauthorized

    runner._unauthorized(
        world.config, world.deps.log, "telegram_control", ChatUnauthorized("401"), time.monotonic()
    )
    ledger = _ledger(world)
    ledger.update()
    assert ledger.last_signal_id() == 0


def test_the_log_names_a_repo_by_owner_and_name_without_a_mapping_kept_as_written(
    world: World,
) -> None:
    cards_repo = world.config.repo("app")
    issue = world.issue("app", "One")
    world.boards["app"].set_status = _failing("502")  # type: ignore[method-assign]
    cards.move(world.deps, cards_repo, IssueRef("acme/app", issue.number), BoardStatus.DONE)
    ledger = Ledger(world.config.paths.runtime_dir)  # no repo keys given
    ledger.update()
    (group,) = ledger.signal_totals("2000")
    assert group.repo_key == "acme/app"


def test_a_source_line_recorded_twice_counts_once_even_after_a_rebuild(world: World) -> None:
    ledger = _ledger(world)
    row = SignalRow("2026-05-01T10:00:00.000Z", "app", "s1", "HTTP 500", "web", key="web:0:120")
    ledger.add_signals([row, row])  # a kill between the record and the source cursor's commit
    ledger.add_signals([SignalRow("2026-05-01T10:01:00.000Z", "app", "s1", "HTTP 500", "web")])
    ledger.add_signals([replace(row, key="web:0:240")])  # the next line of the file
    ledger.update()
    (group,) = ledger.signal_totals("2026-05-01")
    assert group.count == 3  # keyed twice once, unkeyed once, the next line once
    ledger.rebuild()
    assert [g.count for g in ledger.signal_totals("2026-05-01")] == [3]

"""A small runtime written as the code writes it: rooms through `Room`, task files through the
mailbox, job log lines in `JsonFormatter`'s shape; and the figures the dashboard must find in it.

Two days of history relative to `now`: yesterday (day 1) and today (day 2), two repos, two
agents, a retry, two merges, a PR still open, an agent running and a task waiting whose issue
title is hostile HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.core.lifecycle import State
from orchestrator.core.tasks import MailboxState, Task, TaskType, parse_id
from orchestrator.store.files import append_line
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.rooms import Room
from tests.helpers import ENV, minimal_config, write_config

HOSTILE = "<script>alert(1)</script>"
SECRET = ENV["GITHUB_TOKEN"]  # the config's `$GITHUB_TOKEN`: registered with redact
TOKEN_SHAPED = "ghp_" + "A1b2C3d4E5" * 3 + "x9Y8z7"  # a GitHub token's shape, 40 characters
ROOM_WORDS = "private notes on the fix, in the room only"


@dataclass(frozen=True)
class World:
    config: Config
    now: datetime
    day1: str  # yesterday, as the ledger writes days
    day2: str


def config_for(root: Path) -> Config:
    """A config whose runtime is under `root`, with two repos."""
    root.mkdir(parents=True, exist_ok=True)
    data = minimal_config(
        repos=[
            {"key": "app", "github": "acme/app", "test_command": "pytest -q"},
            {"key": "lib", "github": "acme/lib", "test_command": "pytest -q"},
        ],
        paths={"runtime_dir": str(root / "runtime"), "worktrees_dir": str(root / "worktrees")},
    )
    return load_config(write_config(root, data), ENV)


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log(config: Config, job: str, at: datetime, event: str, **fields: object) -> None:
    """Append a job log line, as store.logs' JsonFormatter writes it."""
    head = {"ts": stamp(at), "level": "info", "job": job, "run_id": "r-0001", "event": event}
    line = json.dumps({**head, **fields}, ensure_ascii=False)
    append_line(config.paths.logs_dir / f"{job}.jsonl", line)


def queued(config: Config, task_id: str, at: datetime) -> None:
    key, issue, _, _ = parse_id(task_id) or ("", 0, 0, 0)
    log(config, "dispatcher", at, "task.queued", issue=issue, repo=key, task_id=task_id,
        reason="no_blockers", priority=1)  # fmt: skip


def attempt(
    config: Config,
    task_id: str,
    at: datetime,
    *,
    cost: float,
    backend: str = "claude",
    pr: int | None = None,
    ends: bool = True,
) -> None:
    """Write an attempt's room as a worker does: queued, developing, chain, tests, judgement."""
    moments = iter(at + timedelta(minutes=n) for n in range(1, 100))
    room = Room(config.paths.rooms_dir, task_id, lambda: next(moments))
    room.transition(State.QUEUED, "no_blockers")
    room.transition(State.DEVELOPING, "implementation")
    room.write_prompt(f"Fix the issue. {ROOM_WORDS}")
    if not ends:
        room.beat()
        return
    room.record("chain.finished", end="finished", backend=backend, input_tokens=1000,
                output_tokens=200, cost_usd=cost)  # fmt: skip
    if pr is None:
        room.record("tests.finished", passed=False, line="pytest: failed", tail="assert 1 == 2")
        room.record("attempt.judged", next="retry", reason="partial:test_failure", files=[])
        room.transition(State.QUEUED, "partial:test_failure")
        return
    room.record("tests.finished", passed=True, line="pytest: passed", tail="")
    room.record("attempt.judged", next="open_pr", reason="complete", files=["a.py"])
    room.record("pr.opened", number=pr, url=f"https://example.invalid/pull/{pr}")
    room.transition(State.REVIEW, "pr_opened")
    room.write_result(f"Done: {ROOM_WORDS}.")


def merged(config: Config, repo: str, pr: int, issue: int, at: datetime) -> None:
    log(config, "pr_monitor", at, "pr.merged", pr=pr, issue=issue, repo=repo, sha="abc123")


def task_file(config: Config, task_id: str, title: str, state: MailboxState) -> None:
    key, issue, generation, number = parse_id(task_id) or ("", 0, 0, 0)
    repo = {"app": "acme/app", "lib": "acme/lib"}[key]
    Mailbox(config.paths.mailbox_dir).create(
        Task(
            id=task_id, repo_key=key, repo=repo, issue=issue, title=title,
            branch=f"agent/{issue}-x", base="main", task_type=TaskType.IMPLEMENTATION,
            chain=("claude", "codex"), attempt=number, max_attempts=3, generation=generation,
            priority=1, created_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        state,
    )  # fmt: skip


def build(root: Path, now: datetime) -> World:
    """The two days' history, relative to `now`."""
    config = config_for(root)
    day1 = datetime.combine(now.astimezone(UTC).date() - timedelta(days=1), time(9), UTC)
    day2 = day1 + timedelta(days=1)
    # day 1: app#1 merged within the hour; app#2 fails once, then opens PR 8
    queued(config, "app-1-g1-a1", day1)
    queued(config, "app-2-g1-a1", day1)
    attempt(config, "app-1-g1-a1", day1, cost=0.25, pr=7)
    attempt(config, "app-2-g1-a1", day1, cost=0.25)
    attempt(config, "app-2-g1-a2", day1 + timedelta(minutes=30), cost=0.25, pr=8)
    merged(config, "acme/app", 7, 1, day1 + timedelta(hours=1))
    # day 2: app#2 merged (26 hours after it was queued); lib#3 opens PR 9 with codex, unmerged
    merged(config, "acme/app", 8, 2, day2 + timedelta(hours=2))
    queued(config, "lib-3-g1-a1", day2 - timedelta(hours=1))
    attempt(config, "lib-3-g1-a1", day2 - timedelta(hours=1), cost=0.5, backend="codex", pr=9)
    # now: app#4 running, lib#5 waiting (its title is hostile)
    queued(config, "app-4-g1-a1", now - timedelta(minutes=10))
    attempt(config, "app-4-g1-a1", now - timedelta(minutes=10), cost=0.0, ends=False)
    queued(config, "lib-5-g1-a1", now - timedelta(minutes=5))
    for task_id, state in (
        ("app-1-g1-a1", MailboxState.DELIVERED),
        ("app-2-g1-a1", MailboxState.RETRIED),
        ("app-2-g1-a2", MailboxState.DELIVERED),
        ("lib-3-g1-a1", MailboxState.DELIVERED),
        ("app-4-g1-a1", MailboxState.PROCESSING),
    ):
        task_file(config, task_id, f"Issue of {task_id}", state)
    task_file(config, "lib-5-g1-a1", HOSTILE, MailboxState.INBOX)
    # the last day's log: a line a process wrote before it knew the secret, with a token's shape
    # where a cut at 80 characters would halve it
    log(config, "queue", now - timedelta(minutes=3), "pr.failed", pr=9, repo="acme/lib",
        error=f"401 {'.' * 50} {TOKEN_SHAPED} and {SECRET}")  # fmt: skip
    for minute in range(1, 4):  # routine ticks: counted, not listed
        log(config, "queue", now - timedelta(minutes=minute), "run.started", dry_run=False)
        log(config, "queue", now - timedelta(minutes=minute), "run.finished", outcome="ok")
    return World(config, now, day1.date().isoformat(), day2.date().isoformat())

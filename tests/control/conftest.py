"""The Telegram control plane's test world: a strict Bot API sandbox, a config pointing at it, the
control plane over a MemoryTracker and a MemoryBoard, and the real bot long-polling in a thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import MemoryBoard
from orchestrator.adapters.telegram import TelegramChat
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.control.plane import Control
from orchestrator.core.batching import Pacing
from orchestrator.core.tasks import Task, TaskType, task_id
from orchestrator.jobs import JOBS
from orchestrator.sandbox.telegram import TelegramSandbox
from orchestrator.store.logs import setup
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.switches import Switches
from tests.helpers import minimal_config, write_config
from tests.support.telegram_sandbox import telegram_sandbox

__all__ = ["telegram_sandbox"]

ALICE, BOB, MALLORY = 1001, 1002, 6666  # Alice and Bob are allowed; Mallory is a stranger
GROUP, STRANGE_GROUP = -4001, -4999
REPO = "acme/app"
T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
FAST = Pacing(
    quiet=timedelta(seconds=0.3), max_wait=timedelta(seconds=3), min_gap=timedelta(seconds=0.5)
)


@dataclass
class World:
    sandbox: TelegramSandbox
    config: Config
    tracker: MemoryTracker
    board: MemoryBoard
    log: logging.Logger
    fixed: list[datetime] = field(default_factory=list)  # set to freeze the control plane's clock

    def clock(self) -> datetime:
        return self.fixed[0] if self.fixed else datetime.now(UTC)

    @property
    def state(self) -> Path:
        return self.config.paths.state_dir

    @property
    def switches(self) -> Switches:
        return Switches(self.state)

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.config.paths.mailbox_dir)

    def control(self) -> Control:
        return Control(
            self.config,
            JOBS,
            self.log,
            tracker=lambda: self.tracker,
            board_for=lambda repo: self.board,
            clock=self.clock,
            pacing=FAST,
        )

    def chat(self) -> TelegramChat:
        assert self.config.telegram is not None
        return TelegramChat(self.config.telegram, self.log, poll_timeout=1, flush_every=0.05)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        path = self.config.paths.logs_dir / "telegram_control.jsonl"
        lines = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
        return [e for e in lines if name is None or e["event"] == name]

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sandbox.screen(chat_id)]

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sandbox.screen(chat_id) if m["from"]["is_bot"]]

    def add_task(
        self, issue: int, state: str, generation: int = 1, attempt: int = 3, **kw: Any
    ) -> Task:
        task = make_task(issue, generation, attempt, **kw)
        self.mailbox.create(task, state)
        return task


def make_task(issue: int, generation: int = 1, attempt: int = 3, **kw: Any) -> Task:
    """A task of repo `app`, as the dispatcher and queue would have written it."""
    values: dict[str, Any] = dict(
        id=task_id("app", issue, generation, attempt),
        repo_key="app",
        repo=REPO,
        issue=issue,
        title=f"Issue {issue}",
        branch=f"agent/{issue}-issue-{issue}",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=attempt,
        max_attempts=3,
        generation=generation,
        priority=1,
        created_at=T0,
        reason="blockers_done",
        body="## Goal\nDo it.",
        history=("attempt 1: blocked",),
    )
    values.update(kw)
    return Task(**values)


def telegram_config(sandbox: TelegramSandbox, **extra: Any) -> dict[str, Any]:
    return {
        "token": "$TELEGRAM_BOT_TOKEN",
        "api_url": sandbox.url,
        "allowed_chat_ids": [ALICE, GROUP],
        "allowed_user_ids": [ALICE],
        **extra,
    }


@pytest.fixture
def world(tmp_path: Path, telegram_sandbox: TelegramSandbox) -> World:
    path = write_config(tmp_path, minimal_config(telegram=telegram_config(telegram_sandbox)))
    config = load_config(
        path, {"GITHUB_TOKEN": "gh-test", "TELEGRAM_BOT_TOKEN": telegram_sandbox.token}
    )
    tracker = MemoryTracker()
    tracker.add_repo(REPO)
    for n in range(1, 6):
        tracker.add_issue(REPO, f"Issue {n}")
    log = setup(config.paths.logs_dir, "telegram_control", "r-test", stderr=False)
    return World(telegram_sandbox, config, tracker, MemoryBoard(tracker, REPO), log)


@contextmanager
def serving(world: World, control: Control | None = None) -> Iterator[TelegramChat]:
    """Run `agentos bot`'s loop (PTB's Updater, real long polling) in a thread for the block."""
    chat, errors = world.chat(), []

    def serve() -> None:
        try:
            chat.serve(control or world.control())
        except BaseException as exc:  # surfaced in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=serve, name="bot", daemon=True)
    thread.start()
    until(lambda: world.events("bot.started") or errors, timeout=10)
    try:
        yield chat
    finally:
        chat.stop()
        thread.join(15)
    assert not thread.is_alive(), "the bot did not stop"
    assert not errors, errors


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait (in this thread) until `check` returns something truthy, and return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)

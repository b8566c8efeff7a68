"""A job's world in memory.

Config in a temporary folder, memory twins for GitHub, a log to read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import MemoryBoard
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.core.model import BoardStatus, Issue
from orchestrator.deps import Deps
from orchestrator.store import logs
from orchestrator.wiring import real_deps
from tests.helpers import ENV, minimal_config, write_config

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@dataclass
class World:
    config: Config
    deps: Deps
    tracker: MemoryTracker
    boards: dict[str, MemoryBoard]

    def issue(
        self,
        repo: str,
        title: str,
        body: str = "",
        status: BoardStatus | None = BoardStatus.READY,
        **kw: Any,
    ) -> Issue:
        issue = self.tracker.add_issue(self.config.repo(repo).github, title, body, **kw)
        self.boards[repo].place(issue, status)
        return issue

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        path = self.config.paths.logs_dir / "dispatcher.jsonl"
        found = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
        return [e for e in found if name is None or e["event"] == name]


def make_world(tmp_path: Path, **config: Any) -> Iterator[World]:
    repos = config.pop(
        "repos",
        [
            {"key": "app", "github": "acme/app", "max_parallel_tasks": 4},
            {"key": "lib", "github": "acme/lib", "max_parallel_tasks": 4},
        ],
    )
    path = write_config(
        tmp_path, minimal_config(repos=repos, limits={"max_parallel_workers": 8}, **config)
    )
    cfg = load_config(path, ENV)
    log = logs.setup(cfg.paths.logs_dir, "dispatcher", "r-test", stderr=False)
    tracker = MemoryTracker(login="acme", clock=lambda: T0)  # the owner: admin on acme/*
    boards = {}
    for repo in cfg.repos:
        tracker.add_repo(repo.github)
        boards[repo.key] = MemoryBoard(tracker, repo.github)
    deps = real_deps(cfg, log)
    deps.tracker = tracker
    deps.boards.update(boards)
    yield World(cfg, deps, tracker, boards)
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)

"""The cost caps at work: a task's spend read back from its rooms, the day's caps at dispatch.

Also the caps as the config reads them (config/caps.py): `limits` and each repo's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.load import load_config
from orchestrator.config.model import Caps, Config
from orchestrator.core.agent import AttemptStarted, SessionStarted, Usage, UsageReported
from orchestrator.core.agent import event_record as record_of
from orchestrator.core.lifecycle import State
from orchestrator.core.tasks import TaskType
from orchestrator.delivery import spending
from orchestrator.errors import ConfigError
from orchestrator.store import logs
from orchestrator.store.rooms import Room
from orchestrator.wiring import real_deps
from tests.core.test_queue import task as make_task
from tests.helpers import ENV, minimal_config, write_config

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REPOS = [
    {"key": "app", "github": "acme/app", "max_cost_per_day": 2.0},
    {"key": "lib", "github": "acme/lib", "max_cost_per_task": 0.5},
]


def load(tmp_path: Path, **sections: Any) -> Config:
    return load_config(write_config(tmp_path, minimal_config(**sections)), ENV)


def spent(config: Config, task_id: str, *usages: Usage, at: datetime = T0) -> None:
    """Write a room as a worker does: started, the agent's events, the chain's end."""
    room = Room(config.paths.rooms_dir, task_id, lambda: at)
    room.transition(State.QUEUED, "no_blockers")
    room.transition(State.DEVELOPING, "implementation")
    sink = room.sink("api")
    for event in (AttemptStarted("api", 1), SessionStarted("m", "claude-sonnet-4-6")):
        sink(record_of(event))
    for usage in usages:
        sink(record_of(UsageReported(usage)))
    total = sum((u.cost_usd or 0.0 for u in usages), 0.0)
    room.record("chain.finished", end="finished", backend="api", cost_usd=total)


# -- the config ------------------------------------------------------------------------------------
def test_without_caps_nothing_is_capped_and_quota_waits_default_to_five(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.caps == Caps() and config.caps.max_deferrals == 5
    assert config.repo("app").max_cost_per_task is None and not spending.has_day_caps(config)


def test_a_repos_caps_are_its_own_and_its_task_cap_defaults_to_the_limits_one(
    tmp_path: Path,
) -> None:
    limits = {"max_cost_per_task": 3, "max_cost_per_day": 40.5, "max_deferrals": 2}
    config = load(tmp_path, repos=REPOS, limits={**limits, "max_attempts": 4})
    assert config.caps == Caps(3.0, 40.5, 2) and config.limits.max_attempts == 4
    app, lib = config.repo("app"), config.repo("lib")
    assert (app.max_cost_per_task, app.max_cost_per_day) == (3.0, 2.0)
    assert (lib.max_cost_per_task, lib.max_cost_per_day) == (0.5, None)


@pytest.mark.parametrize(
    "sections, problem",
    [
        (
            {"limits": {"max_cost_per_task": "lots"}},
            "limits.max_cost_per_task: expected a positive number, got 'lots'",
        ),
        ({"limits": {"max_cost_per_day": 0}}, "limits.max_cost_per_day: expected a positive"),
        ({"limits": {"max_deferrals": 1000}}, "limits.max_deferrals: expected at most 100"),
        (
            {"repos": [{"key": "app", "github": "acme/app", "max_cost_per_day": -1}]},
            "repos[0].max_cost_per_day: expected a positive number, got -1",
        ),
    ],
)
def test_a_bad_cap_is_one_line_naming_its_key(
    tmp_path: Path, sections: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **sections)
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


def test_a_repos_cap_can_be_set_from_chat(tmp_path: Path) -> None:
    path = write_config(tmp_path, minimal_config(repos=REPOS))
    overrides = {"repos": {"app": {"max_cost_per_task": 1.25}}, "limits": {"max_cost_per_day": 9}}
    config = load_config(path, ENV, overrides=overrides)
    assert config.repo("app").max_cost_per_task == 1.25 and config.caps.max_cost_per_day == 9.0


# -- a task's spend --------------------------------------------------------------------------------
def test_a_tasks_spend_is_every_attempt_of_its_dispatch_so_far(tmp_path: Path) -> None:
    config = load(tmp_path, repos=REPOS)
    cost = Usage(0, 0, 0, 0.125)
    for task_id in ("lib-1-g1-a1", "lib-1-g1-a2", "lib-1-g1-a3", "lib-1-g2-a1", "lib-2-g1-a1"):
        spent(config, task_id, cost)
    spent(config, "lib-1-g1-a1", Usage(100_000, 0))  # priced by the session's model: $0.30
    task = replace(make_task("lib", 1, attempt=2), task_type=TaskType.FIXING)
    tally = spending.tally(config, config.repo("lib"), task)
    assert tally is not None and tally.cap == 0.5
    assert tally.spent == pytest.approx(0.125 * 2 + 0.3)  # a1 (twice) and a2; not a3, g2, #2
    assert tally.reached
    assert spending.tally(config, config.repo("app"), task) is None  # no cap: no tally


# -- the day's caps --------------------------------------------------------------------------------
@pytest.fixture
def capped(tmp_path: Path) -> Iterator[tuple[Config, Any]]:
    config = load(tmp_path, repos=REPOS, limits={"max_cost_per_day": 5})
    log = logs.setup(config.paths.logs_dir, "dispatcher", "r-test", stderr=False)
    yield config, real_deps(config, log)
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)


def logged(config: Config, name: str) -> list[dict[str, Any]]:
    path = config.paths.logs_dir / "dispatcher.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["event"] == name]


def test_a_repo_at_its_day_cap_gets_nothing_queued_and_the_chat_hears_it_once(
    capped: tuple[Config, Any],
) -> None:
    config, deps = capped
    spent(config, "app-1-g1-a1", Usage(0, 0, 0, 1.5))
    spent(config, "app-2-g1-a1", Usage(0, 0, 0, 0.5))
    spent(config, "lib-1-g1-a1", Usage(0, 0, 0, 2.5), at=T0 - timedelta(days=1))  # yesterday
    repos = list(config.repos)
    for minutes in (0, 1, 30):
        allowed = spending.dispatchable(deps, config, repos, T0 + timedelta(minutes=minutes))
        assert [r.key for r in allowed] == ["lib"]
    [note] = logged(config, "notification.logged")
    assert "repo app" in note["text"] and "$2.00 of $2.00" in note["text"]
    [said] = logged(config, "spend.capped")
    assert (said["scope"], said["spent"], said["cap"], said["day"]) == (
        "app",
        2.0,
        2.0,
        "2026-11-22",
    )
    # the next day starts from nothing spent
    tomorrow = T0 + timedelta(days=1)
    assert [r.key for r in spending.dispatchable(deps, config, repos, tomorrow)] == ["app", "lib"]
    assert spending.status_line(config, T0) == (
        "Spend today: $2.00 of $5.00 (global); repo app: $2.00 of $2.00"
    )


def test_the_global_day_cap_holds_every_repo_and_is_said_once_a_day(
    capped: tuple[Config, Any],
) -> None:
    config, deps = capped
    spent(config, "lib-1-g1-a1", Usage(0, 0, 0, 5.25))
    for day in (0, 0, 1):
        when = T0 + timedelta(days=day)
        if day:
            spent(config, "lib-2-g1-a1", Usage(0, 0, 0, 6.0), at=when)
        assert spending.dispatchable(deps, config, list(config.repos), when) == []
    notes = [n["text"] for n in logged(config, "notification.logged")]
    assert len(notes) == 2 and all("all repos" in text for text in notes)  # once per day
    assert spending.dispatchable(deps, config, [], T0, announce=False) == []

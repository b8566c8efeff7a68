"""/status shows the day's spend against the cost caps, from the outcome ledger."""

from __future__ import annotations

from datetime import timedelta

import yaml

from orchestrator.core.chat import Simple
from orchestrator.core.lifecycle import State
from orchestrator.store.rooms import Room
from tests.control.conftest import T0, World


def ran(world: World, task_id: str, cost: float, days_ago: int = 0) -> None:
    """Write an attempt's room: started that day, its chain's cost."""
    room = Room(world.config.paths.rooms_dir, task_id, lambda: T0 - timedelta(days=days_ago))
    room.transition(State.QUEUED, "no_blockers")
    room.transition(State.DEVELOPING, "implementation")
    room.record("chain.finished", end="finished", backend="script", cost_usd=cost)


def test_status_says_todays_spend_against_the_global_and_the_repo_caps(world: World) -> None:
    data = yaml.safe_load(world.config.source.read_text())
    data["limits"] = {"max_cost_per_day": 10}
    data["repos"][0]["max_cost_per_day"] = 2
    world.config.source.write_text(yaml.safe_dump(data))
    world.fixed.append(T0)
    ran(world, "app-1-g1-a1", 1.0)
    ran(world, "app-2-g1-a1", 0.25)
    ran(world, "app-3-g1-a1", 7.0, days_ago=1)  # yesterday's: not today's
    reply = world.control().command(Simple("status"), "alice")
    assert "Spend today: $1.25 of $10.00 (global); repo app: $1.25 of $2.00" in reply.splitlines()


def test_status_without_caps_still_says_what_today_cost(world: World) -> None:
    world.fixed.append(T0)
    ran(world, "app-1-g1-a1", 0.5)
    reply = world.control().command(Simple("status"), "alice")
    assert "Spend today: $0.50 (global)" in reply.splitlines()

"""The planner end to end: GitHub sandbox (a Projects board), the scripted Messages server for
the planning model, and the Telegram sandbox through the real bot (`telegram_control` ticks).

A plan is proposed; Approve pressed moves exactly the ranked issues to Ready, blockers first;
Skip moves nothing; an expired plan is not followed by another before the cadence; a model error
records a backoff and is not retried at every tick.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestrator.core import labels
from orchestrator.core.model import BoardStatus
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Turn
from orchestrator.sandbox.telegram import TelegramSandbox
from orchestrator.store import plans
from orchestrator.store.plans import Plans
from tests.e2e.conftest import World, playbook_backend, repo_entry
from tests.support.telegram_sandbox import telegram_sandbox

__all__ = ["telegram_sandbox"]

ALICE = 1001
KEY = "sandbox-planner-key-0123456789"
OBJECTIVES = """\
version: 1
repo: app
product_name: Calc
primary_outcome: People add numbers without mistakes.
metrics:
  - id: activation_rate
    name: Share of new users who add two numbers
    weight: 1
    direction: increase
    source: {type: ledger, measure: merged_rate}
constraints:
  - Never change the licence file.
"""


def setup(world: World, telegram: TelegramSandbox, model_url: str, **planner: Any) -> dict:
    """A board, four Backlog issues (#2 blocks #3), objectives, the planner and the bot."""
    project = world.add_board("acme/app", "Delivery")
    world.env.update({"SANDBOX_KEY": KEY, "TELEGRAM_BOT_TOKEN": telegram.token})
    world.configure(
        [repo_entry("app", "acme/app", board={"owner": "acme", "number": project.number})],
        agents={
            "backends": {
                "playbook": playbook_backend(world.root / "playbook.json"),
                "planning": {"type": "anthropic", "api_key": "$SANDBOX_KEY", "base_url": model_url},
            },
            "chains": {"default": ["playbook"]},
            "isolation": "none",
        },
        planner={"with": "planning", **planner},
        telegram={
            "token": "$TELEGRAM_BOT_TOKEN",
            "api_url": telegram.url,
            "allowed_chat_ids": [ALICE],
            "allowed_user_ids": [ALICE],
        },
    )
    (world.root / "objectives").mkdir(exist_ok=True)
    (world.root / "objectives" / "app.yaml").write_text(OBJECTIVES)
    numbers = {}
    for name in ("form", "email", "checklist", "billing"):
        issue = world.issue("acme/app", f"The {name}", status=BoardStatus.BACKLOG)
        numbers[name] = issue.ref.number
    email = world.tracker.issue(world.issue_ref(numbers["email"]))
    form = world.tracker.issue(world.issue_ref(numbers["form"]))
    world.tracker.add_blocker(email.ref, form)
    telegram.inject_message("hi")  # Telegram lets a bot write only to chats it has seen
    assert world.run("telegram_control") == 0
    return numbers


def answer(numbers: dict, *, new: bool = True) -> str:
    ready = [
        {"issue": numbers["email"], "reason": "welcome new users", "objective": "activation_rate"},
        {"issue": numbers["form"], "reason": "people must sign up", "objective": "primary"},
        {"issue": numbers["checklist"], "reason": "guide them", "objective": "activation_rate"},
    ]
    drafts = [
        {
            "title": "Show a hint after the first sum",
            "goal": "New users learn the second feature.",
            "success_criteria": ["a hint appears once"],
            "constraints": [],
            "objective": "activation_rate",
        }
    ]
    return json.dumps({"ready": ready, "new": drafts if new else []})


def plan_message(telegram: TelegramSandbox) -> dict:
    (message,) = [m for m in telegram.screen(ALICE) if "reply_markup" in m]
    return message


def press(world: World, telegram: TelegramSandbox, label: str) -> None:
    message = plan_message(telegram)
    (row,) = message["reply_markup"]["inline_keyboard"]
    data = next(b["callback_data"] for b in row if b["text"] == label)
    telegram.inject_callback(ALICE, message["message_id"], data)
    assert world.run("telegram_control") == 0


def statuses(world: World, numbers: dict) -> dict[str, BoardStatus | None]:
    return {name: world.status(world.issue_ref(n)) for name, n in numbers.items()}


def plan_file(world: World) -> plans.PlanState:
    return Plans(world.root / "runtime" / "state").read("app")


@pytest.fixture
def numbers(world: World, telegram_sandbox: TelegramSandbox) -> dict:
    return setup(world, telegram_sandbox, "http://127.0.0.1:9")


def _point_at(world: World, base_url: str) -> None:
    import yaml

    data = yaml.safe_load(world.config_path.read_text())
    data["agents"]["backends"]["planning"]["base_url"] = base_url
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_approve_moves_exactly_the_ranked_issues_to_ready_blockers_first(
    world: World, telegram_sandbox: TelegramSandbox, numbers: dict
) -> None:
    with AnthropicSandbox([Turn(answer(numbers))]) as model:
        _point_at(world, model.base_url)
        assert world.run("planner") == 0
        assert len(model.requests) == 1
        prompt = model.requests[0].request.body["messages"][0]["content"]  # type: ignore[index]
        assert "Never change the licence file." in prompt and "The billing" in prompt
        assert world.run("telegram_control") == 0  # the plan goes to the chat
        message = plan_message(telegram_sandbox)
        assert "To Ready, in this order:" in message["text"]
        labels_ = [b["text"] for b in message["reply_markup"]["inline_keyboard"][0]]
        assert labels_ == ["Approve", "Approve without new issues", "Skip"]
        assert statuses(world, numbers) == dict.fromkeys(numbers, BoardStatus.BACKLOG)

        press(world, telegram_sandbox, "Approve")
        assert plan_file(world).plan.state == plans.APPROVED  # type: ignore[union-attr]
        assert world.run("planner") == 0
        assert len(model.requests) == 1  # applying asks no model
    state = plan_file(world)
    assert state.plan is not None and state.plan.state == plans.APPLIED
    form, email, checklist = numbers["form"], numbers["email"], numbers["checklist"]
    assert state.plan.moved == (form, email, checklist)  # #form blocks #email: it goes first
    assert statuses(world, numbers) == {
        "form": BoardStatus.READY,
        "email": BoardStatus.READY,
        "checklist": BoardStatus.READY,
        "billing": BoardStatus.BACKLOG,
    }
    (draft,) = [i for i in world.tracker.open_issues("acme/app", [labels.PLANNED])]
    assert draft.title == "Show a hint after the first sum"
    (planning,) = world.tracker.open_issues("acme/app", [labels.PLAN])
    (comment,) = world.tracker.comments(planning.ref)
    assert f"agentos:plan={state.plan.id}" in comment.body and "applied" in comment.body
    pins = world.sandbox.store.repos["acme/app"]["pinned_issues"]  # pinned when it was made
    assert [pin["issue"] for pin in pins] == [planning.number]
    writes = world.github_writes()
    assert world.run("planner") == 0 and world.github_writes() == writes  # nothing left to do


def test_skip_moves_nothing_and_the_next_plan_waits_for_the_cadence(
    world: World, telegram_sandbox: TelegramSandbox, numbers: dict
) -> None:
    with AnthropicSandbox([Turn(answer(numbers))]) as model:
        _point_at(world, model.base_url)
        assert world.run("planner") == 0 and world.run("telegram_control") == 0
        press(world, telegram_sandbox, "Skip")
        for _ in range(3):
            assert world.run("planner") == 0
        assert len(model.requests) == 1
    assert plan_file(world).plan.state == plans.SKIPPED  # type: ignore[union-attr]
    assert statuses(world, numbers) == dict.fromkeys(numbers, BoardStatus.BACKLOG)
    assert world.tracker.open_issues("acme/app", [labels.PLANNED]) == []


def test_an_unanswered_plan_expires_and_no_new_plan_comes_before_the_cadence(
    world: World, telegram_sandbox: TelegramSandbox, numbers: dict
) -> None:
    with AnthropicSandbox([Turn(answer(numbers)), Turn(answer(numbers))]) as model:
        _point_at(world, model.base_url)
        assert world.run("planner") == 0 and world.run("telegram_control") == 0
        store = Plans(world.root / "runtime" / "state")
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
        store.change("app", lambda s: replace(s, plan=replace(s.plan, expires_at=past)))  # type: ignore[arg-type]
        for _ in range(3):
            assert world.run("planner") == 0
        assert len(model.requests) == 1  # expired, and the week is not over: no re-planning
        assert plan_file(world).plan.state == plans.EXPIRED  # type: ignore[union-attr]
        press(world, telegram_sandbox, "Approve")  # a late press only says so
    assert statuses(world, numbers) == dict.fromkeys(numbers, BoardStatus.BACKLOG)
    [expired] = world.events("planner", "plan.expired")
    assert expired["reason"] == "unanswered"


def test_a_model_error_backs_off_instead_of_retrying_every_tick(
    world: World, telegram_sandbox: TelegramSandbox, numbers: dict
) -> None:
    with AnthropicSandbox([Fail(500, "Internal server error", sticky=True)]) as model:
        _point_at(world, model.base_url)
        assert world.run("planner") == 0
        asked = len(model.requests)
        for _ in range(3):
            assert world.run("planner") == 0
        assert len(model.requests) == asked  # the backoff holds: no retry storm
    [failed] = world.events("planner", "plan.failed")
    assert failed["failures"] == 1 and failed["next_try"] > datetime.now(UTC).isoformat()
    state = plan_file(world)
    assert state.plan is None and state.failures == 1
    assert statuses(world, numbers) == dict.fromkeys(numbers, BoardStatus.BACKLOG)

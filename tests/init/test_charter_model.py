"""Step 5 with an Anthropic key: the anthropic SDK asks the model sandbox for a draft.

A bad draft means templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.sandbox.models import AnthropicSandbox, Fail, ToolCall, Turn
from tests.init.conftest import World, answers_for

DRAFT = {
    "north_star": "# North star\n\nBooksellers list a book in a minute.\n",
    "plan": "# Plan\n\n1. Catalogue\n2. Checkout\n",
    "issues": [
        {"title": "Book catalogue model", "body": "## Goal\n\nStore books.", "priority": "high"},
        {"title": "List a book from the web form", "body": "## Goal\n\nA form.", "depends_on": [1]},
        {"title": "Checkout with a test payment", "body": "## Goal\n\nPay.", "depends_on": [1, 2]},
    ],
}
ONLY_STEP_5 = {
    "steps.telegram": False,
    "steps.tuning": False,
    "steps.config": False,
    "steps.cron": False,
    "steps.board": False,
}


@pytest.fixture
def model(request: pytest.FixtureRequest, world: World) -> Iterator[AnthropicSandbox]:
    with AnthropicSandbox(request.param) as sandbox:
        world.environ |= {
            "ANTHROPIC_API_KEY": "sandbox-key",
            "ANTHROPIC_BASE_URL": sandbox.base_url,
        }
        yield sandbox


def _titles(world: World) -> list[str]:
    issues = world.github.store.repo("agentos", "shop")["issues"]
    return [issues[n]["title"] for n in sorted(issues, key=int)]


@pytest.mark.parametrize(
    "model", [[Turn(tool_calls=(ToolCall("record_charter", DRAFT),))]], indirect=True
)
def test_with_a_key_the_model_drafts_the_charter_and_the_seed_issues(
    world: World, model: AnthropicSandbox
) -> None:
    assert world.init(answers_for(world, **ONLY_STEP_5)) == 0, world.output
    assert "Seed issues (drafted by the model):" in world.output
    assert _titles(world) == [
        "Book catalogue model",
        "List a book from the web form",
        "Checkout with a test payment",
    ]
    # (claude's HEAD probe aside)
    asked = [e.request for e in model.requests if e.request.path == "/v1/messages"]
    assert len(asked) == 1
    body: dict[str, Any] = asked[0].body  # type: ignore[assignment]
    assert body["tool_choice"] == {"type": "tool", "name": "record_charter"}
    assert "list a book and sell it online" in body["messages"][0]["content"]
    # how anthropic 2.x sends an API key
    assert asked[0].headers["authorization"] == "Bearer sandbox-key"
    assert not model.problems


@pytest.mark.parametrize(
    "model",
    [
        [Turn(tool_calls=(ToolCall("record_charter", {**DRAFT, "issues": DRAFT["issues"][:2]}),))],
        [
            Turn(
                tool_calls=(
                    ToolCall(
                        "record_charter",
                        {
                            **DRAFT,
                            "issues": [
                                {**DRAFT["issues"][0], "depends_on": [3]},
                                *DRAFT["issues"][1:],
                            ],
                        },
                    ),
                )
            )
        ],
        [Turn(text="Here is a charter in prose instead.")],
        [Fail(529, "Overloaded", kind="overloaded_error", sticky=True)],
    ],
    ids=["two issues", "a cycle", "no tool call", "overloaded"],
    indirect=True,
)
def test_a_draft_that_cannot_be_used_falls_back_to_the_templates_and_says_why(
    world: World, model: AnthropicSandbox
) -> None:
    assert world.init(answers_for(world, **ONLY_STEP_5)) == 0, world.output
    assert "the model's draft is unusable (" in world.output
    assert "drafting from templates instead" in world.output
    assert _titles(world)[0] == "Project skeleton with one test command"

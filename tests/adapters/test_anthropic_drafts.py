"""The charter drafter on the models sandbox: the model's seed issues mention no one."""

from __future__ import annotations

from orchestrator.adapters.anthropic_drafts import TOOL, AnthropicDrafter, quoted
from orchestrator.core.markdown import ZERO_WIDTH_SPACE
from orchestrator.sandbox.models import AnthropicSandbox, ToolCall, Turn

DRAFT = {
    "north_star": "# North star\n\nShip it, @everyone.\n",
    "plan": "# Plan\n\n1. Build\n",
    "issues": [
        {
            "title": "Ask @octocat",
            "body": "## Goal\n\ncc @acme/security. Fixes #1.",
            "priority": "high",
        },
        {"title": "Second", "body": "## Goal\n\nB.", "depends_on": [1]},
        {"title": "Third", "body": "## Goal\n\nC.", "depends_on": [2]},
    ],
}


def test_the_drafted_issues_come_back_defused_and_the_rest_as_the_model_wrote_it() -> None:
    with AnthropicSandbox([Turn(tool_calls=(ToolCall(TOOL, DRAFT),))]) as model:
        draft = AnthropicDrafter(timeout=30).draft("key", model.base_url, "claude-x", "intake")
    assert isinstance(draft, dict)
    first = draft["issues"][0]
    assert first["title"] == f"Ask @{ZERO_WIDTH_SPACE}octocat"
    assert (
        first["body"]
        == f"## Goal\n\ncc @{ZERO_WIDTH_SPACE}acme/security. F{ZERO_WIDTH_SPACE}ixes #1."
    )
    assert first["priority"] == "high" and draft["issues"][1] == DRAFT["issues"][1]
    assert draft["north_star"] == DRAFT["north_star"]  # a file in the repo: it notifies no one


def test_a_draft_of_the_wrong_shape_is_left_for_the_charter_to_judge() -> None:
    assert quoted(["not", "a", "draft"]) == ["not", "a", "draft"]
    assert quoted({"issues": "none"}) == {"issues": "none"}
    assert quoted({"issues": [7, {"title": 3}]}) == {"issues": [7, {"title": 3}]}

"""Ask an Anthropic model (anthropic SDK) to draft a project's charter as one forced tool call."""

from __future__ import annotations

from typing import Any

import anthropic

from orchestrator.adapters.github_errors import one_line
from orchestrator.core.markdown import defuse
from orchestrator.errors import Rejected

TOOL = "record_charter"
SYSTEM = (
    "You set up a new software project for a team of coding agents. From the intake, write the "
    "project's north star (what it is, for whom, what success looks like), a short plan "
    "(milestones), and 3 to 5 first issues small enough for one agent each. Each issue body has "
    "the sections '## Goal', '## Success criteria' (a checklist) and '## Constraints'. Say which "
    "issues depend on which (by their 1-based position); the first issue must depend on nothing. "
    "Record it with the tool."
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["north_star", "plan", "issues"],
    "properties": {
        "north_star": {"type": "string", "description": "NORTH_STAR.md, Markdown"},
        "plan": {"type": "string", "description": "PLAN.md, Markdown: milestones, a short list"},
        "issues": {
            "type": "array",
            "minItems": 3,
            "maxItems": 5,
            "items": {
                "type": "object",
                "required": ["title", "body"],
                "properties": {
                    "title": {"type": "string"},
                    "body": {"type": "string"},
                    "depends_on": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "priority": {"type": "string", "enum": ["high", "normal", "low"]},
                },
            },
        },
    },
}


class AnthropicDrafter:
    """Implements init.services.Drafter on the Messages API."""

    def __init__(self, timeout: float = 120.0, max_retries: int = 2) -> None:
        self.timeout, self.max_retries = timeout, max_retries

    def draft(self, api_key: str, base_url: str | None, model: str, intake: str) -> object:
        """Return the tool call's input (the draft); Rejected with a one-line reason on failure."""
        client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=self.timeout, max_retries=self.max_retries
        )
        try:
            with client:
                reply = client.messages.create(
                    model=model,
                    max_tokens=8000,
                    system=SYSTEM,
                    messages=[{"role": "user", "content": intake}],
                    tools=[
                        {
                            "name": TOOL,
                            "description": "Record the charter and the first issues.",
                            "input_schema": SCHEMA,
                        }
                    ],
                    tool_choice={"type": "tool", "name": TOOL},
                )
        except anthropic.APIStatusError as error:
            raise Rejected(
                one_line(f"the model API answered {error.status_code}: {error.message}")[:300]
            ) from None
        except anthropic.APIError as error:
            raise Rejected(one_line(f"the model API failed: {error.message}")[:300]) from None
        for block in reply.content:
            if block.type == "tool_use" and block.name == TOOL:
                return quoted(block.input)
        raise Rejected(
            f"the model answered without calling {TOOL} (stop reason {reply.stop_reason})"
        )


def quoted(draft: object) -> object:
    """Return the draft with its issues' titles and bodies defused (core.markdown.defuse).

    They become issues on GitHub, where the model's words must mention no one. Anything else is
    left for `core.charter.from_draft` to judge.
    """
    if not isinstance(draft, dict) or not isinstance(draft.get("issues"), list):
        return draft
    issues = [
        {k: defuse(v) if k in ("title", "body") and isinstance(v, str) else v for k, v in i.items()}
        if isinstance(i, dict)
        else i
        for i in draft["issues"]
    ]
    return {**draft, "issues": issues}

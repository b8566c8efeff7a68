"""A model's answer read as JSON, strictly: the one reader every model check shares.

One JSON value, optionally in a single ```json (or bare ```) fence, at most `limit` characters,
no key given twice in any object. Anything else raises `UnusableAnswer` with a short reason;
the callers (triage, the duplicate check, the planner, the verifier) then treat the answer as
no answer, never as a verdict.
"""

from __future__ import annotations

import json
from typing import Any

_FENCE = "```"


class UnusableAnswer(ValueError):
    """The model's answer is not exactly the format asked for; the message says how, briefly."""


def load_json(text: str, limit: int) -> Any:
    """Return the JSON value of an answer; UnusableAnswer when it is not one."""
    if len(text) > limit:
        raise UnusableAnswer(f"longer than {limit} characters")
    body = text.strip()
    if body.startswith(_FENCE) and body.endswith(_FENCE) and len(body) > 2 * len(_FENCE):
        head, _, rest = body[len(_FENCE) : -len(_FENCE)].partition("\n")
        if head.strip() not in ("", "json"):
            raise UnusableAnswer("a fence that is not json")
        body = rest
    try:
        return json.loads(body, object_pairs_hook=_unique)
    except (ValueError, RecursionError):
        raise UnusableAnswer("not JSON") from None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key given twice")
    return dict(pairs)

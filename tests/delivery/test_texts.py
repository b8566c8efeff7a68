"""What Agent OS writes on GitHub quotes every word an agent wrote as data.

Each field an agent fills carries the attack seen (a closing keyword for an issue of ours, one
for an outsider's, a mention); GitHub's closing-keyword rules (the sandbox's, merging.py) must
find only our own `Closes #N`, and no @mention may survive.
"""

from __future__ import annotations

import re

import pytest

from orchestrator.delivery import escalation, texts
from orchestrator.sandbox.github.merging import closing_references

ATTACK = "Closes #3. Fixes acme/app#2. Resolves https://github.com/acme/lib/issues/1. cc @someone"
MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")


def pr_body(**hostile: object) -> str:
    values: dict[str, object] = {
        "summary": "Added it.",
        "done": ["done"],
        "tests": ["make test: passed"],
        "files": ["app.py"],
        "risks": ["none"],
    }
    values.update(hostile)
    return texts.render("pr_body.md.j2", issue=12, task_id="app-12-g1-a1", agent="claude", **values)


@pytest.mark.parametrize(
    "field, value",
    [
        ("summary", ATTACK),
        ("done", [ATTACK]),
        ("tests", [ATTACK]),
        ("files", [ATTACK]),
        ("risks", [ATTACK]),
    ],
)
def test_an_agents_words_in_a_pr_body_close_nothing_and_mention_no_one(
    field: str, value: object
) -> None:
    body = pr_body(**{field: value})
    assert body.startswith("Closes #12\n")
    assert closing_references(body, "acme", "app", "https://github.com") == [("acme", "app", 12)]
    assert not MENTION.search(body)


def test_without_a_summary_the_body_says_so() -> None:
    assert pr_body(summary="").startswith("Closes #12\n\nThe agent gave no summary.\n")


def test_an_escalation_comment_quotes_attempts_and_steps_as_data() -> None:
    attempt = escalation.AttemptSummary("app-12-g1-a1", ATTACK, ATTACK, ATTACK, ATTACK)
    body = texts.render("escalation.md.j2", reason_text=ATTACK, attempts=[attempt], advice=[ATTACK])
    assert not MENTION.search(body)
    assert closing_references(body, "acme", "app", "https://github.com") == []

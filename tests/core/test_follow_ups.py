"""Discovered follow-ups: split, deduplicated, signed, and quoted as the agent's words, not ours."""

from __future__ import annotations

import re

import pytest

from orchestrator.core import follow_ups
from orchestrator.core.markdown import ZERO_WIDTH_SPACE
from orchestrator.improve.noise import Known

TOKEN = "ghp_" + "a1B2" * 9  # the shape of a GitHub token


@pytest.mark.parametrize(
    "text, title, why",
    [
        (
            "Add retries — the client gives up too soon",
            "Add retries",
            "the client gives up too soon",
        ),
        ("Add retries—it gives up", "Add retries", "it gives up"),
        ("Fix the follow-up test - it flakes", "Fix the follow-up test", "it flakes"),
        ("Fix it -- now", "Fix it", "now"),
        ("  only   a title ", "only a title", ""),
        ("— only why", "only why", ""),
    ],
)
def test_a_follow_up_is_split_at_its_first_dash(text: str, title: str, why: str) -> None:
    found = follow_ups.split(text)
    assert (found.title, found.why) == (title, why)


def test_the_signature_ignores_case_spacing_punctuation_and_the_why() -> None:
    one = follow_ups.signature("acme/app", 12, "Add retries to the client — it gives up")
    two = follow_ups.signature("Acme/App", 12, "add  retries to the client! — because")
    assert one == two and re.fullmatch(r"[0-9a-f]{16}", one)
    assert one != follow_ups.signature("acme/app", 13, "Add retries to the client")
    assert one != follow_ups.signature("acme/lib", 12, "Add retries to the client")
    assert one != follow_ups.signature("acme/app", 12, "Add retries to the server")


def test_collect_keeps_the_first_of_each_title_in_attempt_order_up_to_the_cap() -> None:
    first = ("Add retries — a", "Cover errors — b")
    second = ("add retries. — said again", "Log less — c", "Split the module — d")
    assert follow_ups.collect([first, second], cap=3) == (
        ("Add retries — a", "Cover errors — b", "Log less — c"),
        1,
    )
    assert follow_ups.collect([("— ", "!!! — x")], cap=5) == ((), 0)  # no title: nothing


def test_hostile_text_cannot_close_mention_leak_or_forge_a_marker() -> None:
    text = (
        f"Closes #1 and fixes acme/app#2 — ping @octocat, token {TOKEN} "
        "<!-- agentos:signature=0123456789abcdef --> [click](https://evil.example)"
    )
    title = follow_ups.title(text)
    body = follow_ups.body(text, 12, 34)
    for rendered in (title, body):
        assert TOKEN not in rendered and "@octocat" not in rendered
        assert not re.search(r"(?i)\b(closes|fixes)\s+(#|acme/app#)\d", rendered)
    assert f"C{ZERO_WIDTH_SPACE}loses #1" in title and len(title) <= 90 and "\n" not in title
    assert "<!--" not in body  # so no marker the noise control reads is forged
    assert Known(1, title, body, True).signature is None
    assert "[REDACTED" in body and "@" + ZERO_WIDTH_SPACE + "octocat" in body


def test_the_body_says_an_agent_wrote_it_names_the_parent_and_fences_the_note() -> None:
    body = follow_ups.body("Add retries — ```\nbreak out```", 12, 34)
    assert body.startswith("Discovered while working on #12 (PR #34): written by an agent")
    assert "a person decides whether it is worth doing" in body.lower()
    fence = re.search(r"^(`{3,})text$", body, re.MULTILINE)
    assert fence is not None and len(fence.group(1)) > 3  # longer than any run inside
    assert body.rstrip().endswith(fence.group(1))


def test_a_long_title_is_cut_to_one_line_of_ninety() -> None:
    title = follow_ups.title("word " * 60 + "— why")
    assert len(title) <= 90 and title.endswith("…")

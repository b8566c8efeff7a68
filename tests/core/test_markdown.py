"""Markdown: code fences are blanked for reading; what an agent wrote is defused for quoting."""

from __future__ import annotations

import pytest

from orchestrator.core.markdown import ZERO_WIDTH_SPACE as ZW
from orchestrator.core.markdown import blank_code_blocks, defuse


def test_a_fence_is_blanked_line_for_line() -> None:
    text = "Depends on #1\n```\nDepends on #2\n```\nend"
    assert blank_code_blocks(text) == "Depends on #1\n   \n             \n   \nend"


@pytest.mark.parametrize(
    "said, quoted",
    [
        ("Closes #3.", f"C{ZW}loses #3."),
        ("Fixes acme/app#2", f"F{ZW}ixes acme/app#2"),
        ("fixed: #3", f"f{ZW}ixed: #3"),
        ("RESOLVES GH-7", f"R{ZW}ESOLVES GH-7"),
        (
            "close https://github.com/acme/app/issues/9",
            f"c{ZW}lose https://github.com/acme/app/issues/9",
        ),
        (
            "resolve http://ghe.local/acme/app/pull/4",
            f"r{ZW}esolve http://ghe.local/acme/app/pull/4",
        ),
        ("**Closes** #3", f"**C{ZW}loses** #3"),
        ("_Fixes #3_", f"_F{ZW}ixes #3_"),
        ("closes [#3](x)", f"c{ZW}loses [#3](x)"),
        ("Fixes\u00a0#3", f"F{ZW}ixes\u00a0#3"),
        ("éFixes #3", f"éF{ZW}ixes #3"),  # GitHub's word boundaries may be ASCII
        ("fixes#3", f"f{ZW}ixes#3"),
    ],
)
def test_a_closing_keyword_before_an_issue_is_broken(said: str, quoted: str) -> None:
    assert defuse(said) == quoted


@pytest.mark.parametrize(
    "said",
    [
        "Fixes the flaky test",
        "closeable #3",
        "prefixes #3",
        "unresolved #3",
        "Fix #x",
        "Refs #3",
        "mail me@example.com or first.last@x.org",
        "a + b # comment",
    ],
)
def test_other_words_and_addresses_are_left_alone(said: str) -> None:
    assert defuse(said) == said


@pytest.mark.parametrize(
    "said, quoted",
    [
        ("cc @someone", f"cc @{ZW}someone"),
        ("@acme/security please look", f"@{ZW}acme/security please look"),
        ("**@bob**, _@carol_, (@dave)", f"**@{ZW}bob**, _@{ZW}carol_, (@{ZW}dave)"),
        ("`@pytest.fixture`", f"`@{ZW}pytest.fixture`"),
    ],
)
def test_a_mention_gets_a_zero_width_space_after_the_at(said: str, quoted: str) -> None:
    assert defuse(said) == quoted


def test_character_references_and_html_comments_cannot_spell_or_hide_anything() -> None:
    assert defuse("Closes &#35;3 &#64;bob &amp;") == f"Closes &{ZW}#35;3 &{ZW}#64;bob &{ZW}amp;"
    assert defuse("<!-- agentos:restarted -->") == f"<{ZW}!-- agentos:restarted -->"
    assert defuse("R&D, a < b") == "R&D, a < b"


def test_the_attack_seen_reads_the_same_to_a_person() -> None:
    said = "SUMMARY: did it. Closes #3. Fixes acme/app#2. cc @someone"
    quoted = defuse(said)
    assert quoted.replace(ZW, "") == said
    assert defuse(quoted) == quoted  # twice is once

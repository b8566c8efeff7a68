"""Quoting text Agent OS did not write: a fence nothing closes, a title on one plain line."""

from __future__ import annotations

from orchestrator.core.markdown import ZERO_WIDTH_SPACE as ZW
from orchestrator.core.quoting import (
    code_span,
    one_line,
    quote_log,
    safe_name,
    times,
    window_text,
)


def test_the_fence_is_longer_than_any_backtick_run_inside() -> None:
    assert quote_log("plain") == "```text\nplain\n```"
    assert quote_log("a ``` b\n`````\n") == "``````text\na ``` b\n`````\n``````"


def test_a_quoted_excerpt_is_redacted_defused_and_cut() -> None:
    quoted = quote_log("ghp_" + "x1" * 18 + " @bob <!-- agentos:signature=0123456789abcdef -->")
    assert "[REDACTED:github-token]" in quoted and "ghp_" not in quoted
    assert f"@{ZW}bob" in quoted and f"<{ZW}!--" in quoted
    assert quote_log("y" * 700, limit=600).endswith("y\n[… 100 more characters]\n```")


def test_a_title_is_one_plain_line() -> None:
    assert one_line("  a\n\tb\r\nc\u2028d\x00e  ") == "a b c d e"
    assert one_line("see [the log](http://x) and ![shot](y.png) `code`") == (
        "see the log and shot code"
    )
    assert one_line("cc @bob, Fixes #3") == f"cc @{ZW}bob, F{ZW}ixes #3"
    assert one_line("z" * 200, limit=10) == "z" * 9 + "…"


def test_a_name_keeps_only_what_a_code_span_can_hold() -> None:
    assert safe_name("app-1-g1-a2") == "app-1-g1-a2"
    assert safe_name("a`b c<d>\n") == "abcd"
    assert safe_name("2026-12-01T10:00:00.000+00:00") == "2026-12-01T10:00:00.000+00:00"


def test_counts_and_windows_read_as_words() -> None:
    assert (times(1), times(3)) == ("once", "3 times")
    assert [window_text(h) for h in (0, 1, 6, 24, 168)] == [
        "",
        "in the last hour",
        "in the last 6 h",
        "in the last day",
        "in the last 7 days",
    ]


def test_a_path_is_one_inert_code_span_nothing_inside_can_end() -> None:
    assert code_span("auth/login.py") == "`auth/login.py`"
    assert code_span("a`b.py") == "``a`b.py``"
    assert code_span("`x`") == "`` `x` ``"  # a backtick at an end is padded, as CommonMark asks
    assert code_span("a\nb\x00c\u202ed") == "`a b c d`"
    assert "<!--" not in code_span("x<!-- agentos:risk -->") and "@\u200balice" in code_span(
        "@alice"
    )
    assert code_span("x" * 500, limit=10) == "`" + "x" * 9 + "…`"

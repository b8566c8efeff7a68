"""Failure signatures: stable across the details that change between runs, distinct otherwise."""

from __future__ import annotations

import pytest

from orchestrator.core.signatures import normalise, signature


@pytest.mark.parametrize(
    "one, other",
    [
        (
            "FAILED tests/test_ops.py::test_add - assert 4 == 5 (app-12-g1-a2)",
            "FAILED tests/test_ops.py::test_add - assert 7 == 9 (web-3-g2-a1)",
        ),
        (
            "push rejected: deadbeefcafe1234 is not an ancestor of 0123456789abcdef",
            "push rejected: 89abcdef0123 is not an ancestor of fedcba9876543210",
        ),
        (
            "Timeout after 900 s at 2026-12-03T07:15:00Z in /work/runtime/worktrees/app/x",
            "Timeout after 31 s at 2026-11-01 23:59:59+01:00 in /srv/agentos/runtime/worktrees/y/z",
        ),
        (
            "GET https://api.github.com/repos/acme/app/pulls/17 -> 502",
            "GET https://api.github.com/repos/acme/web/pulls/3 -> 503",
        ),
        ("KeyError: 'gone'", 'KeyError: "other"'),
        ("Ran 2 tests in 0.001s\nFAILED (failures=1)", "Ran 2 tests in 12.5s\nFAILED (failures=3)"),
        ("Error   with\ttabs\n\n  and blank lines", "error with tabs\nand blank lines"),
    ],
)
def test_failures_that_differ_only_in_details_share_a_signature(one: str, other: str) -> None:
    assert signature("tests", one) == signature("tests", other)


@pytest.mark.parametrize(
    "one, other",
    [
        ("ModuleNotFoundError: no module named <x>", "ImportError: cannot import name <x>"),
        ("assert add(2, 3) == 5", "assert sub(2, 3) == 5"),
    ],
)
def test_different_failures_have_different_signatures(one: str, other: str) -> None:
    assert signature("tests", one) != signature("tests", other)


def test_the_kind_is_part_of_the_signature() -> None:
    assert signature("tests", "exit code 1") != signature("agent", "exit code 1")


def test_a_signature_is_short_hex_and_the_text_is_bounded() -> None:
    sig = signature("agent", "x" * 100_000)
    assert len(sig) == 16 and int(sig, 16) >= 0
    assert signature("agent", "y" * 3000 + "tail one") == signature("agent", "y" * 3000 + "two")
    assert normalise("Task app-1-g1-a1 at 12:00") == "task <task> at <n>:<n>"

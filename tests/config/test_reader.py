"""The Reader's renderings: a bad value is said for what it is, on one short line."""

from __future__ import annotations

import pytest

from orchestrator.config.reader import MAX_PROBLEMS, Reader, join, show

SHOWN = [
    (None, "null"),
    (True, "true"),
    ("main", "'main'"),
    ({}, "an empty mapping"),
    ({"main": True}, "a mapping with key main"),
    ({"a": 1, "b": 2, "c": 3, "d": 4}, "a mapping with keys a, b, c, ..."),
    ([], "an empty list"),
    ([{"key": "app"}, {"key": "web"}], "a list of 2 mappings"),
    (["app"], "a list of 1 string"),
    ([1, "two"], "a list of 2 items"),
    (10**30, "1000000000000000000000000000000"),
    (60**3000, "an integer of about 5334 digits"),
    (float("nan"), "nan"),
    ("x" * 100, "'" + "x" * 56 + "..."),
]


@pytest.mark.parametrize("value, said", SHOWN, ids=[said for _, said in SHOWN])
def test_show_says_what_a_bad_value_is(value: object, said: str) -> None:
    """It once said "expected a mapping …, got a mapping" for an empty one."""
    assert show(value) == said


@pytest.mark.parametrize(
    "key, dotted",
    [
        (0, "repos[0]"),
        ("app", "repos.app"),
        ("two words ", "repos.'two words '"),
        ("a\nb", "repos.'a\\nb'"),
        ("k" * 50, "repos." + repr("k" * 37) + "..."),
        (None, "repos.null"),
    ],
)
def test_a_key_in_a_dotted_path_is_quoted_when_it_would_mislead(key: object, dotted: str) -> None:
    assert join("repos", key) == dotted


def test_problems_are_single_lines_and_past_the_cap_only_counted() -> None:
    reader = Reader({})
    for i in range(MAX_PROBLEMS + 7):
        reader.fail(f"deny[{i}]", "expected a path glob,\ngot a newline")
    lines = reader.report()
    assert len(lines) == MAX_PROBLEMS + 1 and lines[-1] == "... and 7 more problems"
    assert lines[0] == "deny[0]: expected a path glob,\\ngot a newline"

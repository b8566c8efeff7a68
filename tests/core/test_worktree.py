"""Branch and worktree names are safe whatever an issue's title holds."""

from __future__ import annotations

import pytest

from orchestrator.core.worktree import branch_name, contained, is_valid_key, slug


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Fix login (SSO)!", "fix-login-sso"),
        ("Ünïcödé títle", "unicode-title"),
        ("../../etc/passwd", "etc-passwd"),
        ("   ", "task"),
        ("🚀🚀", "task"),
        ("a" * 100, "a" * 40),
        ("refs/heads/main; rm -rf /", "refs-heads-main-rm-rf"),
    ],
)
def test_slugs_are_safe_ascii(title: str, expected: str) -> None:
    assert slug(title) == expected


def test_branch_names_carry_the_issue_number() -> None:
    assert branch_name(12, "Add greeting") == "agent/12-add-greeting"


@pytest.mark.parametrize(
    "key, ok",
    [
        ("app-12-g1", True),
        ("..", False),
        (".", False),
        ("a/b", False),
        ("", False),
        ("x" * 129, False),
    ],
)
def test_keys_are_single_safe_segments(key: str, ok: bool) -> None:
    assert is_valid_key(key) is ok


@pytest.mark.parametrize(
    "candidate, ok",
    [
        ("/srv/wt/app/t1", True),
        ("/srv/wt", False),
        ("/srv/wt2/x", False),
        ("/srv/wt/../etc", False),
        ("/etc", False),
    ],
)
def test_worktrees_stay_inside_their_folder(candidate: str, ok: bool) -> None:
    assert contained("/srv/wt", candidate) is ok

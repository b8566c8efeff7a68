"""Branch and worktree names are safe whatever an issue's title holds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.core import worktree
from orchestrator.core.worktree import MAX_SLUG, branch_name, contained, is_valid_key, slug
from tests.test_architecture import CORE_ALLOWED, allowed, imports

# What git refuses in a ref (git help check-ref-format), and what a title may hold anyway.
GIT_SPECIALS = (
    *".. . / // .lock @{ @ @{-1} \\ ~ ^ : ? * [ - -- HEAD refs/heads/ a Z 9".split(),
    *"é İ ß ﬁ Ⅻ １ ． 🚀".split(),  # letters and digits NFKD makes ASCII (or drops)
    *" \t\n\x00\x1f\x7f\u202e\u200f\ufeff\ud800",  # spaces, controls, RTL, BOM, a lone surrogate
)
# Every Unicode category, surrogates included (a title is a Python str; GitHub's JSON may hold one).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)
GIT_TEXT = st.lists(st.sampled_from(GIT_SPECIALS) | st.text(max_size=3), max_size=30).map("".join)
ISSUES = st.integers(min_value=1, max_value=10**9)
# Each example starts two git processes (a few ms): keep the count moderate.
CHECKED = settings(max_examples=300, deadline=None, database=None)


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


def git_accepts(name: str) -> bool:
    """Return whether git takes `name` as a branch, and `refs/heads/<name>` as a ref."""
    checks = [
        subprocess.Popen(
            ["git", "check-ref-format", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (["--branch", name], [f"refs/heads/{name}"])
    ]  # both at once: each is a process start
    return [check.wait() for check in checks] == [0, 0]


def test_the_git_check_itself_refuses_what_the_old_names_held() -> None:
    assert not git_accepts("agent/3-remove-yarn.lock")
    assert not git_accepts("agent/4-ranges-like-1..5")
    assert git_accepts("agent/12-add-greeting")


@pytest.mark.parametrize(
    "issue, title, expected",
    [
        (3, "Remove yarn.lock", "agent/3-remove-yarn-lock"),
        (4, "ranges like 1..5", "agent/4-ranges-like-1-5"),
        (5, "Bump to v1.2", "agent/5-bump-to-v1.2"),
        (6, "...", "agent/6-task"),
        (7, ".lock", "agent/7-lock"),
        (8, "a.lock.lock", "agent/8-a.lock-lock"),
        (9, "x" * 35 + ".lock", "agent/9-" + "x" * 35 + "-lock"),
        (10, "-.- HEAD @{-1} ~^:?*[\\ //", "agent/10-head-1"),
        (11, "", "agent/11-task"),
        (12, "\x00\x7f\u202e", "agent/12-task"),
    ],
)
def test_titles_git_would_refuse_make_names_it_accepts(
    issue: int, title: str, expected: str
) -> None:
    assert branch_name(issue, title) == expected
    assert git_accepts(expected)


def readable(name: str, issue: int) -> bool:
    """A lower-case ASCII slug after `agent/<issue>-`, at most MAX_SLUG characters long."""
    prefix = f"agent/{issue}-"
    rest = name.removeprefix(prefix)
    return (
        name.startswith(prefix)
        and len(rest) <= MAX_SLUG
        and re.fullmatch(r"[a-z0-9_]([a-z0-9._-]*[a-z0-9_])?", rest) is not None
    )


@CHECKED
@given(ISSUES, ANY_TEXT)
def test_any_unicode_title_makes_a_readable_branch_git_accepts(issue: int, title: str) -> None:
    name = branch_name(issue, title)
    assert readable(name, issue), name
    assert git_accepts(name), name


@CHECKED
@given(ISSUES, GIT_TEXT)
def test_titles_full_of_what_git_refuses_make_branches_it_accepts(issue: int, title: str) -> None:
    name = branch_name(issue, title)
    assert readable(name, issue), name
    assert git_accepts(name), name


def test_the_names_stay_pure_core() -> None:
    path = Path(worktree.__file__)
    assert {name for name in imports(path) if not allowed(name, CORE_ALLOWED)} == set()


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

"""Conflict markers come back as hunks with the sides named for the task, not for git's rebase."""

from __future__ import annotations

from orchestrator.core.workspace import (
    CommitOutcome,
    ConflictHunk,
    Workspace,
    conflict_hunks,
    scratch_key,
)

DIFF3 = """def greet():
<<<<<<< HEAD
    return 'hello, world'
||||||| parent of 1234567 (Say hi)
    return 'hello'
=======
    return 'hi'
>>>>>>> 1234567 (Say hi)

x = 1
<<<<<<< HEAD
a
=======
b
c
>>>>>>> 1234567 (Say hi)
"""


def test_diff3_markers_give_branch_base_and_ancestor() -> None:
    assert conflict_hunks(DIFF3) == (
        ConflictHunk(
            ours="    return 'hi'\n",
            theirs="    return 'hello, world'\n",
            ancestor="    return 'hello'\n",
        ),
        ConflictHunk(ours="b\nc\n", theirs="a\n"),
    )


def test_a_separator_line_outside_a_conflict_is_just_text() -> None:
    assert conflict_hunks("=======\nheading\n=======\n") == ()


def test_an_unterminated_conflict_yields_nothing_rather_than_a_half_hunk() -> None:
    assert conflict_hunks("<<<<<<< HEAD\na\n=======\nb\n") == ()


def test_empty_sides_and_crlf_lines() -> None:
    assert conflict_hunks("<<<<<<< HEAD\r\n=======\r\nnew\r\n>>>>>>> abc\r\n") == (
        ConflictHunk("new\r\n", ""),
    )


def test_scratch_keys_are_single_safe_segments() -> None:
    assert scratch_key("agent/12-fix-login") == "rebase-agent-12-fix-login"
    assert "/" not in scratch_key("../../x") and scratch_key("../../x").startswith("rebase-")


def test_what_counts_as_continued_and_as_changes() -> None:
    ws = Workspace("app", "t", "/w/app/t", "agent/1-x", "main", "b" * 40, "r" * 40, "r" * 40)
    assert ws.continued
    assert not Workspace(
        "app", "t", "/w", "agent/1-x", "main", "b" * 40, "b" * 40, "r" * 40
    ).continued
    assert not CommitOutcome("s", False, (), False).has_changes
    assert CommitOutcome("s", True, ("a.py",), True).has_changes

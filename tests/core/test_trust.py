"""Only writers' issues run, unless a writer approved an outsider's issue, as it reads now."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.core.model import LabelEvent, Permission
from orchestrator.core.trust import APPROVED, STALE, trust

T0 = datetime(2026, 11, 1)
PERMS = {
    "maintainer": Permission.MAINTAIN,
    "stranger": Permission.NONE,
    "triager": Permission.TRIAGE,
}


def ev(label: str, actor: str, added: bool = True, minutes: int = 0) -> LabelEvent:
    return LabelEvent(label, actor, added, T0 + timedelta(minutes=minutes))


def check(
    author: str,
    events: list[LabelEvent] = (),
    trusted: tuple[str, ...] = (),
    edited: int | None = None,
) -> tuple[bool, str]:
    return trust(
        author,
        PERMS.get(author, Permission.NONE),
        trusted,
        lambda: events,
        lambda u: PERMS.get(u, Permission.NONE),
        lambda: None if edited is None else T0 + timedelta(minutes=edited),
    )


@pytest.mark.parametrize(
    "events, expected",
    [
        ([], (False, "untrusted")),
        ([ev(APPROVED, "stranger")], (False, "untrusted")),
        ([ev(APPROVED, "triager")], (False, "untrusted")),
        ([ev(APPROVED, "maintainer")], (True, "approved_by:maintainer")),
        (
            [ev(APPROVED, "maintainer"), ev(APPROVED, "maintainer", added=False, minutes=1)],
            (False, "untrusted"),
        ),
        (
            [
                ev(APPROVED, "maintainer", minutes=5),
                ev(APPROVED, "stranger", added=False, minutes=1),
            ],
            (True, "approved_by:maintainer"),
        ),
        ([ev("bug", "maintainer")], (False, "untrusted")),
        ([ev(APPROVED, "maintainer"), ev(APPROVED, "stranger", minutes=2)], (False, "untrusted")),
    ],
)
def test_an_outsiders_issue_runs_only_with_a_writers_standing_approval(events, expected) -> None:
    assert check("outsider", events) == expected


def test_writers_and_trusted_users_need_no_approval() -> None:
    assert check("maintainer") == (True, "write_access")
    assert check("Friend", trusted=("friend",)) == (True, "trusted_user")


def never() -> None:
    raise AssertionError("read when it was not needed")


def test_a_writers_issue_never_asks_for_the_label_trail_or_the_edits() -> None:
    assert trust("maintainer", Permission.MAINTAIN, (), never, PERMS.__getitem__, never) == (
        True,
        "write_access",
    )


def test_an_unapproved_issue_never_asks_for_its_edits() -> None:
    assert trust("outsider", Permission.NONE, (), list, PERMS.__getitem__, never) == (
        False,
        "untrusted",
    )


@pytest.mark.parametrize(
    "edited, expected",
    [
        (None, (True, "approved_by:maintainer")),  # never edited
        (4, (True, "approved_by:maintainer")),  # edited, then approved
        (5, (False, STALE)),  # the same second: not newer
        (6, (False, STALE)),  # approved, then edited
    ],
)
def test_an_approval_counts_only_when_newer_than_the_last_edit(edited, expected) -> None:
    assert check("outsider", [ev(APPROVED, "maintainer", minutes=5)], edited=edited) == expected


def test_approving_again_after_the_edit_counts() -> None:
    events = [
        ev(APPROVED, "maintainer", minutes=1),
        ev(APPROVED, "maintainer", added=False, minutes=7),
        ev(APPROVED, "maintainer", minutes=8),
    ]
    assert check("outsider", events, edited=6) == (True, "approved_by:maintainer")
    assert check("outsider", events[:1], edited=6) == (False, STALE)

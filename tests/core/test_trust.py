"""Only writers' issues run, unless a writer approved an outsider's issue with the label."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.core.model import LabelEvent, Permission
from orchestrator.core.trust import APPROVED, trust

T0 = datetime(2026, 11, 1)
PERMS = {
    "maintainer": Permission.MAINTAIN,
    "stranger": Permission.NONE,
    "triager": Permission.TRIAGE,
}


def ev(label: str, actor: str, added: bool = True, minutes: int = 0) -> LabelEvent:
    return LabelEvent(label, actor, added, T0 + timedelta(minutes=minutes))


def check(
    author: str, events: list[LabelEvent] = (), trusted: tuple[str, ...] = ()
) -> tuple[bool, str]:
    return trust(
        author,
        PERMS.get(author, Permission.NONE),
        trusted,
        lambda: events,
        lambda u: PERMS.get(u, Permission.NONE),
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


def test_a_writers_issue_never_asks_for_the_label_trail() -> None:
    def trail() -> list[LabelEvent]:
        raise AssertionError("the trail was read for a writer's issue")

    assert trust("maintainer", Permission.MAINTAIN, (), trail, PERMS.__getitem__) == (
        True,
        "write_access",
    )

"""Blockers from bodies, native dependencies and sub-issues, normalised into one list."""

from __future__ import annotations

import pytest

from orchestrator.core.dependencies import blockers, body_blockers
from orchestrator.core.model import Dependencies, IssueRef

R = "acme/app"


def ref(n: int, repo: str = R) -> IssueRef:
    return IssueRef(repo, n)


@pytest.mark.parametrize(
    "body, expected",
    [
        ("Depends on #12", [ref(12)]),
        ("depends on #12, #13 and #12", [ref(12), ref(13)]),
        ("Blocked by acme/api#4", [ref(4, "acme/api")]),
        ("- Blocked by: #7", [ref(7)]),
        ("> DEPENDS ON #8", [ref(8)]),
        ("Blocked by https://github.com/acme/web/issues/31", [ref(31, "acme/web")]),
        ("Fixes #3 and relates to #4", []),
        ("We depend on nothing. See #5.", []),
        ("```\nDepends on #99\n```\nDepends on #1", [ref(1)]),
        ("Depends on issue-#3", []),
        ("", []),
    ],
)
def test_body_lines_name_blockers(body: str, expected: list[IssueRef]) -> None:
    assert list(body_blockers(body, R)) == expected


def test_every_source_joins_into_one_sorted_list_without_self() -> None:
    recorded = Dependencies(blocked_by=(ref(9), ref(2, "acme/api")), sub_issues=(ref(5), ref(9)))
    result = blockers(ref(1), "Depends on #3\nBlocked by #1", recorded)
    assert result == (ref(2, "acme/api"), ref(3), ref(5), ref(9))

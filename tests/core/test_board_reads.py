"""When the dispatcher reads its boards in full (core.board_reads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.board_reads import local_digest, reason_to_read

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BEFORE = {"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"}


def _reason(
    now_stamps: dict[str, str | None],
    *,
    before: dict[str, str] = BEFORE,
    read_at: datetime | None = NOW - timedelta(minutes=3),
    woken: bool = False,
) -> str:
    return reason_to_read(
        before, now_stamps, read_at=read_at, now=NOW, refresh=timedelta(minutes=10), woken=woken
    )


@pytest.mark.parametrize(
    ("now_stamps", "kwargs", "expected"),
    [
        ({"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"}, {}, ""),
        ({"app": "users/7/aaa", "web": "users/7/ccc", "local": "L"}, {}, "changed:web"),
        ({"app": "users/7/aaa", "web": "users/7/bbb", "local": "M"}, {}, "changed:local"),
        ({"app": "users/7/aaa", "web": None, "local": "L"}, {}, "no_stamp:web"),
        ({"app": "users/7/aaa", "local": "L"}, {}, "repos"),  # a repo switched off
        (
            {"app": "users/7/aaa", "web": "users/7/bbb", "new": "orgs/1/x", "local": "L"},
            {},
            "changed:new",  # a repo switched on: no stamp recorded for it
        ),
        ({"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"}, {"woken": True}, "woken"),
        ({"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"}, {"read_at": None}, "first"),
        ({"app": "users/7/aaa", "local": "L"}, {"before": {}}, "first"),
        (
            {"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"},
            {"read_at": NOW - timedelta(minutes=10)},
            "refresh",
        ),
        (  # the clock went back: the recorded read is "in the future"
            {"app": "users/7/aaa", "web": "users/7/bbb", "local": "L"},
            {"read_at": NOW + timedelta(minutes=1)},
            "refresh",
        ),
    ],
)
def test_the_boards_are_read_only_for_a_reason(
    now_stamps: dict[str, str | None], kwargs: dict[str, object], expected: str
) -> None:
    assert _reason(now_stamps, **kwargs) == expected  # type: ignore[arg-type]


def test_the_local_digest_tells_apart_what_a_join_would_not() -> None:
    assert local_digest(["a", "bc"]) != local_digest(["ab", "c"])
    assert local_digest(["x", "y"]) == local_digest(["x", "y"])
    assert len(local_digest([])) == 32

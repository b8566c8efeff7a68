"""Noise control: the same failure updates its issue, a near-duplicate is skipped, bursts capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.improve.noise import Known, Proposal, body_with_marker, judge

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SIG = "0123456789abcdef"
PROPOSAL = Proposal(
    SIG,
    "Tests fail: ImportError in calc.sub",
    "The agent's attempts fail the repo's tests the same way: ImportError: cannot import 'sub'.",
)


def _known(
    number: int, title: str, body: str = "", *, is_open: bool = True, days: int = 0
) -> Known:
    closed = None if is_open else NOW - timedelta(days=days)
    return Known(number, title, body, is_open, closed)


def test_a_new_failure_is_filed() -> None:
    known = [_known(1, "Add a dark mode"), _known(2, "Docs: install on macOS")]
    assert judge(PROPOSAL, known, 0, NOW).action == "file"


def test_the_same_signature_updates_its_open_issue_whatever_its_title() -> None:
    known = [_known(4, "Something else entirely", body_with_marker("old evidence", SIG))]
    verdict = judge(PROPOSAL, known, 99, NOW)  # the cap does not stop an update
    assert (verdict.action, verdict.issue, verdict.why) == ("update", 4, "same_signature")


def test_the_same_signature_closed_means_it_came_back() -> None:
    known = [_known(4, "x", body_with_marker("e", SIG), is_open=False, days=400)]
    assert (judge(PROPOSAL, known, 0, NOW).action, judge(PROPOSAL, known, 0, NOW).issue) == (
        "reopen",
        4,
    )


def test_a_near_duplicate_by_words_is_skipped_while_open_or_recently_closed() -> None:
    reworded = "calc.sub ImportError: tests fail"
    assert judge(PROPOSAL, [_known(7, reworded)], 0, NOW).action == "skip"
    closed_lately = _known(7, reworded, is_open=False, days=30)
    assert judge(PROPOSAL, [closed_lately], 0, NOW).issue == 7
    closed_long_ago = _known(7, reworded, is_open=False, days=200)
    assert judge(PROPOSAL, [closed_long_ago], 0, NOW).action == "file"


def test_a_similar_title_needs_a_similar_body_too() -> None:
    near_title = "Tests fail: ImportError in calc.add"
    unrelated = _known(8, near_title, "Totally different: a flaky network test in CI.")
    assert judge(PROPOSAL, [unrelated], 0, NOW).action == "file"
    related = _known(8, near_title, PROPOSAL.body.replace("sub", "add"))
    verdict = judge(PROPOSAL, [related], 0, NOW)
    assert verdict.action == "skip" and verdict.why.startswith("duplicate (title")


def test_the_daily_cap_stops_a_burst() -> None:
    assert judge(PROPOSAL, [], 5, NOW).why == "daily_cap"
    assert judge(PROPOSAL, [], 1, NOW, cap=2).action == "file"


def test_the_marker_survives_a_round_trip_and_is_not_read_as_words() -> None:
    body = body_with_marker("Evidence:\n- 3 tasks", SIG)
    assert Known(1, "t", body, True).signature == SIG
    assert Known(1, "t", "no marker here", True).signature is None


def test_a_borderline_title_is_filed_naming_the_nearest_three() -> None:
    """Titles in the band (60 up to a duplicate) are named, the nearest first; others are not."""
    proposal = Proposal(
        SIG, "Job queue crashed: KeyError task_id", "KeyError: 'task_id' on 3 ticks."
    )
    known = [
        _known(1, "Queue crashes on KeyError", "It dies at night."),  # 77
        _known(2, "Job queue crashed: TimeoutError reading inbox", "Slow disk."),  # 68
        _known(3, "Add a dark mode"),  # unrelated
        _known(4, "The queue job crashes with a KeyError on task ids", "Seen twice."),  # 76
        _known(5, "Queue crashes on KeyError", is_open=False, days=30),  # 77, closed lately
        _known(6, "Queue crashes on KeyError", is_open=False, days=200),  # closed long ago
    ]
    verdict = judge(proposal, known, 0, NOW)
    assert (verdict.action, verdict.why, verdict.near) == ("file", "new", (5, 1, 4))
    assert judge(proposal, known[2:3], 0, NOW).near == ()


def test_a_similar_title_with_another_body_is_borderline() -> None:
    unrelated = _known(8, "Tests fail: ImportError in calc.add", "A flaky network test in CI.")
    assert judge(PROPOSAL, [unrelated], 0, NOW).near == (8,)


def test_a_duplicate_or_the_cap_names_nothing_near() -> None:
    known = [_known(1, "calc.sub ImportError: tests fail"), _known(2, "Tests fail: ImportError")]
    assert judge(PROPOSAL, known, 0, NOW).near == ()
    capped = judge(PROPOSAL, [_known(8, "Tests fail: ImportError in calc.add")], 5, NOW)
    assert (capped.why, capped.near) == ("daily_cap", ())

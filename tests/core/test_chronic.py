"""The weekly analyzer: what keeps going wrong, with a stable signature; a quiet week is []."""

from __future__ import annotations

import dataclasses

from orchestrator.core.chronic import FlakyEvidence, analyse, stable_signature
from orchestrator.core.incidents import PRODUCT, Severity
from orchestrator.core.signatures import signature
from tests.core.test_incidents import (
    HOSTILE,
    SIG,
    assert_plain_title,
    assert_quoted_as_data,
    group,
    tasks,
)

OTHER = "fedcba9876543210"


def flaky(
    issues: tuple[int, ...] = (1, 2, 3),
    merged: tuple[int, ...] = (1, 2),
    *,
    repo: str = "app",
    sig: str = SIG,
    detail: str = "FAILED tests/test_ops.py::test_add - assert 4 == 5",
) -> FlakyEvidence:
    return FlakyEvidence(repo_key=repo, signature=sig, detail=detail, issues=issues, merged=merged)


def test_a_quiet_week_files_nothing() -> None:
    assert analyse([], {}, {}, {}, []) == []
    assert (
        analyse(
            [group("task_failed", 4), group("quota", 2, repo="")],
            {"app": 100},
            {"claude": (10, 7)},
            {"claude": (10, 8)},
            [flaky(merged=(1,)), flaky(issues=(1, 2), merged=(1, 2))],
        )
        == []
    )


def test_a_signature_seen_often_enough_is_chronic() -> None:
    [hit] = analyse([group("task_failed", 5, tasks=tasks(3))], {"app": 100}, {}, {})
    assert (hit.kind, hit.severity, hit.count, hit.repo_key) == ("chronic", Severity.LOW, 5, "app")
    assert hit.title == "Recurring task_failed in app, 5 in 7 days: boom"
    assert "on 5% of 100 attempts" in hit.body and "5 times in the last 7 days" in hit.body
    assert analyse([group("task_failed", 4)], {"app": 100}, {}, {}, min_count=4)


def test_a_signature_on_a_large_share_of_a_repos_attempts_is_chronic() -> None:
    [hit] = analyse([group("escalated", 3)], {"app": 15}, {}, {})
    assert hit.severity is Severity.LOW and "on 20% of 15 attempts" in hit.body
    [hit] = analyse([group("escalated", 4)], {"app": 8}, {}, {})
    assert hit.severity is Severity.MEDIUM  # on half the attempts
    assert analyse([group("escalated", 3)], {"app": 16}, {}, {}) == []  # 19%
    assert analyse([group("escalated", 2)], {"app": 2}, {}, {}) == []  # 100%, of two: anecdote
    assert analyse([group("job_crashed", 4, repo="")], {"": 4}, {}, {}, min_share=0.5)


def test_a_chronic_signature_is_the_same_issue_every_week() -> None:
    week1 = group("task_failed", 6, tasks=tasks(2))
    week2 = dataclasses.replace(
        week1, count=9, first_ts="2026-12-08T01:00:00.000Z", task_ids=tasks(5), details=("x",)
    )
    [one], [two] = analyse([week1], {}, {}, {}), analyse([week2], {}, {}, {})
    assert one.signature == two.signature == stable_signature("chronic", "app", "task_failed", SIG)
    other = analyse([dataclasses.replace(week1, signature=OTHER)], {}, {}, {})[0]
    assert other.signature != one.signature
    # signatures.signature would read both hex names as one placeholder, and merge them
    assert signature("chronic", SIG) == signature("chronic", OTHER)


def test_an_agents_merged_rate_that_fell_is_reported() -> None:
    [hit] = analyse([], {}, {"claude": (10, 4)}, {"claude": (10, 8), "codex": (9, 9)})
    assert hit.title == "Agent claude's merged rate fell from 80% to 40%"
    assert (hit.kind, hit.severity, hit.repo_key) == ("agent_rate", Severity.MEDIUM, "")
    assert "4 merged of 10 attempts (40%)" in hit.body and "8 merged of 10 (80%)" in hit.body
    assert hit.signature == stable_signature("agent_rate", "claude")
    [again] = analyse([], {}, {"claude": (20, 2)}, {"claude": (6, 6)})
    assert again.signature == hit.signature


def test_a_merged_rate_needs_five_attempts_in_both_windows_and_the_whole_drop() -> None:
    assert analyse([], {}, {"a": (4, 0)}, {"a": (10, 10)}) == []
    assert analyse([], {}, {"a": (10, 0)}, {"a": (4, 4)}) == []
    assert analyse([], {}, {"a": (10, 0)}, {}) == []  # no window before: nothing to compare
    assert analyse([], {}, {"a": (10, 5)}, {"a": (10, 7)}) != []  # 0.7 - 0.5, exactly 0.2
    assert analyse([], {}, {"a": (10, 6)}, {"a": (10, 7)}) == []
    assert analyse([], {}, {"a": (10, 6)}, {"a": (10, 7)}, drop=0.1) != []
    both = {"codex-1": (5, 0), "codex-2": (5, 0)}, {"codex-1": (5, 5), "codex-2": (5, 5)}
    assert len({h.signature for h in analyse([], {}, *both)}) == 2  # digits are no placeholder


def test_tests_that_fail_on_issues_that_merge_anyway_flake() -> None:
    rows = [flaky(), flaky(issues=(4, 5, 6, 7), merged=(4, 5), sig=OTHER)]
    [hit] = analyse([], {}, {}, {}, rows)
    assert (hit.kind, hit.title, hit.scope, hit.count) == (
        "flaky",
        "Tests flake in app",
        PRODUCT,
        7,
    )
    assert hit.signature == stable_signature("flaky", "app")
    assert "failed on 4 issues (4, 5, 6, 7), 2 of them merged later" in hit.body
    assert "#4" not in hit.body  # no cross-reference noise on those issues


def test_flakiness_needs_three_issues_half_merged_and_a_test_run() -> None:
    assert analyse([], {}, {}, {}, [flaky(issues=(1, 2), merged=(1, 2))]) == []
    assert analyse([], {}, {}, {}, [flaky(merged=(1, 9))]) == []  # 9 is not one of them
    assert analyse([], {}, {}, {}, [flaky(detail="push rejected: not a fast-forward")]) == []
    assert analyse([], {}, {}, {}, [flaky(issues=(1, 1, 2), merged=(1, 2))]) == []
    assert analyse([], {}, {}, {}, [flaky(detail="--- FAIL: TestAdd (0.00s)")]) != []


def test_findings_come_most_urgent_first_and_quote_hostile_text_as_data() -> None:
    found = analyse(
        [group("task_failed", 9, details=(HOSTILE,)), group("quota", 12, repo="")],
        {"app": 10},
        {"claude": (10, 1)},
        {"claude": (10, 9)},
        [flaky(detail="test: " + HOSTILE)],
    )
    assert [h.severity for h in found] == [Severity.MEDIUM] * 3 + [Severity.LOW]
    for hit in found:
        assert_plain_title(hit.title)
        assert_quoted_as_data(hit.body)

"""Risk tiers: a one-line doc fix is low, a change to authentication is high, and why."""

from __future__ import annotations

import pytest

from orchestrator.core.markdown import ZERO_WIDTH_SPACE
from orchestrator.core.risk import (
    END,
    START,
    ChangedFile,
    Record,
    RiskAssessment,
    RiskRules,
    Tier,
    assess,
    is_test,
    section,
    with_section,
    without_section,
)

RULES = RiskRules()


def files(*specs: tuple[str, int, int] | tuple[str, int, int, str]) -> list[ChangedFile]:
    return [ChangedFile(*spec) for spec in specs]


def test_a_one_line_doc_fix_is_low_and_says_so() -> None:
    found = assess(files(("README.md", 1, 1)), RULES)
    assert (found.tier, found.reasons) == (Tier.LOW, ())
    assert found.describe() == "Risk: **low**\n- no rule raised it"


def test_code_with_its_test_is_low() -> None:
    found = assess(files(("calc/ops.py", 5, 1), ("tests/test_ops.py", 12, 0)), RULES)
    assert found.tier is Tier.LOW


@pytest.mark.parametrize(
    "path",
    ["auth/login.py", "app/auth/tokens.py", "migrations/0007.py", ".github/workflows/ci.yml"],
)
def test_a_change_to_a_high_path_is_high_whatever_else(path: str) -> None:
    found = assess(files((path, 1, 0), ("tests/test_x.py", 3, 0)), RULES)
    assert found.tier is Tier.HIGH and found.reasons[0] == f"touches `{path}`"


def test_size_raises_the_tier() -> None:
    assert assess(files(("a.py", 150, 60), ("tests/test_a.py", 5, 0)), RULES).tier is Tier.MEDIUM
    big = assess(files(("a.py", 900, 200), ("tests/test_a.py", 5, 0)), RULES)
    assert big.tier is Tier.HIGH and "1105 changed lines (more than 1000)" in big.reasons


def test_deleting_or_weakening_tests_and_code_without_tests_are_medium() -> None:
    deleted = assess(files(("a.py", 1, 1), ("tests/test_a.py", 0, 40, "removed")), RULES)
    assert (
        deleted.tier is Tier.MEDIUM and "deletes test files: `tests/test_a.py`" in deleted.reasons
    )
    weaker = assess(files(("a.py", 1, 1), ("tests/test_a.py", 1, 9)), RULES)
    assert "removes more test lines than it adds" in weaker.reasons
    untested = assess(files(("a.py", 3, 0)), RULES)
    assert untested.reasons == ("changes code without touching a test",)


def test_tests_passing_on_the_base_prove_nothing_and_raise_a_tier() -> None:
    proved = assess(
        files(("a.py", 3, 0), ("tests/test_a.py", 9, 0)), RULES, tests_pass_on_base=False
    )
    assert proved.tier is Tier.LOW
    unproved = assess(
        files(("a.py", 3, 0), ("tests/test_a.py", 9, 0)), RULES, tests_pass_on_base=True
    )
    assert unproved.tier is Tier.MEDIUM
    assert unproved.reasons == ("its tests already pass on the base: no proof",)


def test_a_weak_track_record_raises_a_tier_only_with_enough_attempts() -> None:
    change = files(("a.py", 3, 0), ("tests/test_a.py", 9, 0))
    assert assess(change, RULES, record=Record(attempts=4, merged=0)).tier is Tier.LOW
    weak = assess(change, RULES, record=Record(attempts=10, merged=3))
    assert weak.tier is Tier.MEDIUM and weak.reasons == (
        "the agent merged 30% of its last 10 attempts",
    )
    assert assess(change, RULES, record=Record(attempts=10, merged=8)).tier is Tier.LOW


def test_the_tier_never_goes_past_high_and_globs_come_from_the_rules() -> None:
    rules = RiskRules(high=("billing/**",), medium=())
    found = assess(
        files(("billing/pay.py", 2, 0)), rules, tests_pass_on_base=True, record=Record(9, 0)
    )
    assert found.tier is Tier.HIGH and len(found.reasons) == 4
    assert assess(files(("auth/login.py", 1, 0), ("tests/t.py", 1, 0)), rules).tier is Tier.LOW


@pytest.mark.parametrize(
    "path, expected",
    [("tests/test_a.py", True), ("pkg/tests/helpers.py", True), ("test_x.py", True),
     ("web/app.test.ts", True), ("calc/ops.py", False), ("contest.py", False)],
)  # fmt: skip
def test_test_files_are_recognised_by_the_usual_conventions(path: str, expected: bool) -> None:
    assert is_test(path) is expected


def test_a_file_moved_out_of_a_high_path_is_high_too() -> None:
    moved = ChangedFile("misc/login.py", 0, 0, "renamed", previous_path="auth/login.py")
    found = assess([moved, ChangedFile("tests/test_login.py", 1, 0)], RULES)
    assert found.tier is Tier.HIGH and found.reasons[0] == "touches `auth/login.py`"


def test_the_paths_an_agent_chose_are_quoted_as_inert_code_spans() -> None:
    hostile = "auth/x`y <!-- /agentos:risk --> @alice fixes #1 [a](http://e).py\nline"
    found = assess([ChangedFile(hostile, 1, 0)], RULES)
    assert found.tier is Tier.HIGH  # a line break in the path does not slip past `auth/**`
    reason = found.reasons[0]
    assert reason.startswith("touches ``") and reason.endswith("``")
    assert END not in reason and "\n" not in reason
    assert f"@{ZERO_WIDTH_SPACE}alice" in reason and f"f{ZERO_WIDTH_SPACE}ixes #1" in reason


def test_the_pr_body_section_is_added_replaced_and_left_out() -> None:
    body = "Closes #3\n\nAdded it.\n\n---\nOpened by Agent OS for task `app-3-g1-a1` (x)."
    high = section(RiskAssessment(Tier.HIGH, ("touches `auth/a.py`",)), "A person merges it.")
    assert high == (
        f"{START}\n### Risk\n\nRisk: **high**\n- touches `auth/a.py`\n\nA person merges it.\n{END}"
    )
    shown = with_section(body, high)
    assert shown == f"{body}\n\n{high}\n" and with_section(shown, high) == shown
    low = section(RiskAssessment(Tier.LOW), "Merged on green.")
    again = with_section(shown, low)
    assert again == f"{body}\n\n{low}\n" and "high" not in again
    assert without_section(again).rstrip() == body and without_section(body) == body

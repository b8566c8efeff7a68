"""The agent result contract: lenient where agents vary, strict where decisions depend on it."""

from __future__ import annotations

import pytest

from orchestrator.core.contract import (
    AGENT_CODES,
    FIELDS,
    FOLLOW_UP_CHARS,
    FOLLOW_UPS_KEPT,
    BlockerCode,
    Status,
    after_tests,
    parse,
    render,
)

COMPLETE = """STATUS: complete
BLOCKER_CODE: none
SUMMARY: Added the greeting endpoint.
DONE:
- endpoint
- tests
BLOCKERS:
- None
NEXT_STEP: None
FILES_CHANGED:
- app/greet.py
TESTS_RUN:
- pytest -q (12 passed)
DECISIONS:
- kept the old route
RISKS:
- None
ATTEMPTED_APPROACHES:
- None
MANUAL_STEPS:
- None
"""


def test_a_complete_result_parses_every_field() -> None:
    result = parse(COMPLETE)
    assert result.status is Status.COMPLETE and result.blocker is None and not result.problem
    assert result.summary == "Added the greeting endpoint."
    assert result.items("DONE") == ("endpoint", "tests")
    assert result.items("FILES_CHANGED") == ("app/greet.py",)
    assert result.items("BLOCKERS") == () and result.next_step == ""


def test_an_honest_blocked_result_with_a_valid_code_is_respected() -> None:
    result = parse(
        "STATUS: blocked\nBLOCKER_CODE: missing_credentials\nSUMMARY: need a key\n"
        "NEXT_STEP: add STRIPE_KEY to CI\n"
    )
    assert result.status is Status.BLOCKED and result.blocker is BlockerCode.MISSING_CREDENTIALS
    assert result.next_step == "add STRIPE_KEY to CI" and not result.problem


def test_sections_written_out_of_order_do_not_swallow_each_other() -> None:
    text = (
        "SUMMARY: s\nFILES_CHANGED:\n- a.py\nSTATUS: partial\nBLOCKER_CODE: test_failure\n"
        "DONE:\n- half\n"
    )
    result = parse(text)
    assert result.status is Status.PARTIAL and result.items("FILES_CHANGED") == ("a.py",)
    assert result.items("DONE") == ("half",)


def test_markdown_decoration_around_labels_is_tolerated() -> None:
    result = parse("## STATUS: complete\n**SUMMARY**: done\n* one\n")
    assert result.status is Status.COMPLETE and result.summary == "done\n* one"


@pytest.mark.parametrize(
    "text, reason",
    [
        (None, "no .agent_result.md"),
        ("", "STATUS must be complete, partial or blocked"),
        ("STATUS: finished", "got 'finished'"),
        ("STATUS: blocked\nBLOCKER_CODE: none", "needs a BLOCKER_CODE"),
        ("STATUS: partial", "needs a BLOCKER_CODE"),
        (
            "STATUS: blocked\nBLOCKER_CODE: <one blocker code from the list>",
            "is not one of the codes",
        ),
        ("STATUS: blocked\nBLOCKER_CODE: sad", "'sad' is not one of the codes"),
    ],
)
def test_malformed_results_become_invalid_result_contract(text: str | None, reason: str) -> None:
    result = parse(text)
    assert result.status is Status.BLOCKED and result.blocker is BlockerCode.INVALID_RESULT_CONTRACT
    assert reason in result.problem


def test_a_code_on_a_complete_result_is_ignored() -> None:
    assert parse("STATUS: complete\nBLOCKER_CODE: timeout\n").blocker is None


def test_failing_tests_downgrade_complete_to_partial_test_failure() -> None:
    result = after_tests(parse(COMPLETE), passed=False, line="pytest -q -> FAILED (exit 1)")
    assert result.status is Status.PARTIAL and result.blocker is BlockerCode.TEST_FAILURE
    assert result.items("TESTS_RUN")[-1] == "pytest -q -> FAILED (exit 1)"
    assert "tests failed" in result.items("BLOCKERS")[-1] and result.next_step


def test_passing_tests_never_upgrade_a_partial_result() -> None:
    partial = parse("STATUS: partial\nBLOCKER_CODE: timeout\n")
    result = after_tests(partial, passed=True, line="pytest -> PASSED")
    assert result.status is Status.PARTIAL and result.blocker is BlockerCode.TIMEOUT
    assert result.items("TESTS_RUN") == ("pytest -> PASSED",)


def test_render_round_trips_through_parse() -> None:
    original = parse(COMPLETE)
    assert parse(render(original)) == original


def test_every_code_the_prompt_offers_is_accepted_and_blockers_have_policies() -> None:
    for code in AGENT_CODES:
        assert parse(f"STATUS: blocked\nBLOCKER_CODE: {code.value}\n").blocker is code
    assert BlockerCode.MANUAL_INTERVENTION_REQUIRED.permanent and not BlockerCode.TIMEOUT.permanent
    assert not BlockerCode.QUOTA_LIMITED.retryable and BlockerCode.TEST_FAILURE.retryable
    assert FIELDS[0] == "STATUS" and len(FIELDS) == 13


def test_the_same_failure_has_the_same_signature() -> None:
    a = parse("STATUS: blocked\nBLOCKER_CODE: environment_failure\nBLOCKERS:\n- npm missing\n")
    b = parse(
        "STATUS: blocked\nBLOCKER_CODE: environment_failure\nBLOCKERS:\n- npm missing\nSUMMARY: x"
    )
    assert a.signature == b.signature != parse(COMPLETE).signature


# -- FOLLOW_UPS: optional, so results written before it existed stay valid -------------------------
def test_a_result_without_follow_ups_is_valid_and_has_none() -> None:
    result = parse(COMPLETE)
    assert not result.problem and result.items("FOLLOW_UPS") == ()
    assert "FOLLOW_UPS:\n- None\n" in render(result)


def test_follow_ups_are_read_one_a_line_and_round_trip() -> None:
    result = parse(
        COMPLETE + "FOLLOW_UPS:\n- Add retries to the client — it gives up after one try\n"
        "- Cover the parser's error paths — no test reaches them\n"
    )
    assert result.items("FOLLOW_UPS") == (
        "Add retries to the client — it gives up after one try",
        "Cover the parser's error paths — no test reaches them",
    )
    assert parse(render(result)) == result


def test_follow_ups_none_is_no_follow_up() -> None:
    assert parse(COMPLETE + "FOLLOW_UPS:\n- None\n").items("FOLLOW_UPS") == ()


def test_follow_ups_are_capped_in_number_and_length() -> None:
    many = "".join(f"- Follow-up number {n} — {'x' * 400}\n" for n in range(50))
    items = parse(COMPLETE + "FOLLOW_UPS:\n" + many).items("FOLLOW_UPS")
    assert len(items) == FOLLOW_UPS_KEPT
    assert all(len(i) == FOLLOW_UP_CHARS and i.endswith("…") for i in items)
    assert items[0].startswith("Follow-up number 0 — ")

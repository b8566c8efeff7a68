"""The script model: turns played per conversation, conditional turns, sticky errors, exhaustion."""

from __future__ import annotations

from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.script import (
    Fail,
    Script,
    ScriptBook,
    ToolCall,
    ToolResult,
    Turn,
    failed,
    output_contains,
    succeeded,
)

RUN_TESTS = Turn("Running the tests.", (tools.bash("pytest -q"),))
FIX = Turn("Fixing the failure.", (tools.edit("/w/app.py", "return 1", "return 2"),), when=failed)
FINISH = Turn("Done.")
PASSED = (ToolResult("t1", "1 passed", is_error=False),)
FAILED = (ToolResult("t1", "Exit code 1\n1 failed", is_error=True),)


def test_every_conversation_plays_the_script_from_the_start() -> None:
    script = Script([RUN_TESTS, FINISH])
    assert script.next("a", ()) == RUN_TESTS
    assert script.next("b", ()) == RUN_TESTS
    assert script.next("a", PASSED) == FINISH
    assert script.next("b", PASSED) == FINISH


def test_a_conditional_turn_plays_only_when_its_predicate_holds_for_the_latest_results() -> None:
    passing, failing = Script([RUN_TESTS, FIX, FINISH]), Script([RUN_TESTS, FIX, FINISH])
    passing.next("c", ()), failing.next("c", ())
    assert passing.next("c", PASSED) == FINISH
    assert failing.next("c", FAILED) == FIX
    assert failing.next("c", PASSED) == FINISH


def test_a_skipped_conditional_turn_is_not_offered_again() -> None:
    script = Script([RUN_TESTS, FIX, FINISH])
    script.next("c", ())
    assert script.next("c", PASSED) == FINISH
    assert script.next("c", FAILED) is None


def test_an_exhausted_script_answers_none() -> None:
    script = Script([FINISH])
    assert script.next("c", ()) == FINISH
    assert script.next("c", ()) is None


def test_a_fail_is_played_once_unless_it_is_sticky() -> None:
    once, sticky = Fail(429, retry_after=1), Fail(429, sticky=True)
    script = Script([once, FINISH])
    assert [script.next("c", ()), script.next("c", ())] == [once, FINISH]
    stuck = Script([sticky, FINISH])
    assert [stuck.next("c", ()) for _ in range(3)] == [sticky] * 3


def test_predicates_read_failure_flags_and_output() -> None:
    assert failed(FAILED) and not failed(PASSED)
    assert succeeded(PASSED) and not succeeded(()) and not succeeded(FAILED)
    assert output_contains("1 failed")(FAILED) and not output_contains("1 failed")(PASSED)


def test_a_turn_with_tool_calls_stops_for_tool_use() -> None:
    assert RUN_TESTS.stop_reason == "tool_use"
    assert FINISH.stop_reason == "end_turn"


def test_tool_helpers_build_the_inputs_each_cli_expects() -> None:
    assert tools.write("/w/a.txt", "hi\n").input == {"file_path": "/w/a.txt", "content": "hi\n"}
    assert tools.read("/w/a.txt") == ToolCall("Read", {"file_path": "/w/a.txt"})
    assert tools.exec_command("ls").input == {"cmd": "ls"}
    assert tools.exec_write("it's.txt", "a'b\n").input == {
        "cmd": "printf %s 'a'\"'\"'b\n' > 'it'\"'\"'s.txt'"
    }


def test_a_script_book_plays_each_conversation_the_script_its_opening_text_matches() -> None:
    book = ScriptBook(
        [(r"issue #1\b", [RUN_TESTS, FINISH]), (r"issue #12\b", [FINISH])], default=[FIX]
    )
    assert book.next("a", (), "Work on issue #12 now") == FINISH
    assert book.next("b", (), "Work on issue #1 now") == RUN_TESTS
    assert book.next("b", PASSED, "") == FINISH  # matched once: later requests keep the script
    # the default's conditional turn: skipped, then nothing
    assert book.next("c", (), "something else") is None
    assert book.matched() == {"a": r"issue #12\b", "b": r"issue #1\b", "c": None}


def test_a_script_book_without_a_default_answers_none_for_an_unmatched_conversation() -> None:
    book = ScriptBook([("alpha", [FINISH])])
    assert book.next("x", (), "beta") is None
    assert book.next("y", (), "alpha") == FINISH and book.next("y", ()) is None

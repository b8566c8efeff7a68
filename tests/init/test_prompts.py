"""The prompt layer: the same questions and checks on a terminal and from an answers file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from orchestrator.errors import InvalidAnswer, UsageError
from orchestrator.init import load_answers
from orchestrator.init.questions import Answers, Prompter, Terminal, flatten


def terminal(*lines: str) -> tuple[Prompter, io.StringIO]:
    out = io.StringIO()
    return Prompter(Terminal(io.StringIO("".join(f"{line}\n" for line in lines)), out), out), out


def answers(
    tree: dict[str, object], environ: dict[str, str] | None = None
) -> tuple[Prompter, io.StringIO, Answers]:
    out = io.StringIO()
    source = Answers(flatten(tree), out, environ or {})
    return Prompter(source, out), out, source


def test_a_non_numeric_value_gets_the_reason_and_the_same_question_again() -> None:
    p, out = terminal("three", "0", "3")
    assert p.integer("tuning.max_attempts", "Attempts", 4) == 3
    assert out.getvalue() == (
        "Attempts [4]: "
        "  ! expected a whole number, got 'three'\nAttempts [4]: "
        "  ! expected a whole number of at least 1, got 0\nAttempts [4]: "
    )


def test_an_empty_answer_takes_the_default_and_a_question_without_one_insists() -> None:
    p, out = terminal("", "", "a shop")
    assert p.integer("k", "Workers", 4) == 4
    assert p.text("intake.idea", "Idea") == "a shop"
    assert "  ! an answer is needed here\nIdea: " in out.getvalue()


@pytest.mark.parametrize("typed, chosen", [("c", "create"), ("ADOPT", "adopt"), ("", "create")])
def test_a_choice_takes_a_unique_prefix_in_any_case(typed: str, chosen: str) -> None:
    p, out = terminal(typed)
    assert p.choice("repository.action", "Create or adopt", ("create", "adopt"), "create") == chosen
    assert out.getvalue().startswith("Create or adopt [CREATE/adopt]: ")


def test_yes_no_and_a_check_that_rejects() -> None:
    def even(text: str) -> str:
        if len(text) % 2:
            raise InvalidAnswer(f"{text!r} has an odd length")
        return text

    p, out = terminal("perhaps", "n", "abc", "abcd")
    assert p.confirm("x", "Go ahead?", True) is False
    assert p.text("y", "Even", check=even) == "abcd"
    assert "  ! expected yes or no, got 'perhaps'" in out.getvalue()
    assert "  ! 'abc' has an odd length" in out.getvalue()


def test_the_end_of_input_is_not_taken_for_an_answer() -> None:
    p, _ = terminal()
    with pytest.raises(EOFError):
        p.text("intake.idea", "Idea", "default")


def test_an_answers_file_answers_by_dotted_key_and_shows_the_transcript() -> None:
    p, out, source = answers(
        {"tuning": {"max_attempts": 2, "keep_schedule": False}, "typo": {"x": 1}}
    )
    assert p.integer("tuning.max_attempts", "Attempts", 4) == 2
    assert p.confirm("tuning.keep_schedule", "Keep?", True) is False
    assert p.integer("tuning.max_parallel_workers", "Workers", 4) == 4  # absent: the default
    assert out.getvalue() == "Attempts [4]: 2\nKeep? [Y/n]: no\nWorkers [4]: \n"
    assert source.unused() == ["typo.x"]


def test_a_bad_answer_in_the_file_stops_with_the_key_and_the_reason() -> None:
    p, out, _ = answers({"tuning": {"max_attempts": "three"}})
    with pytest.raises(UsageError) as stopped:
        p.integer("tuning.max_attempts", "Attempts", 4)
    assert (
        str(stopped.value)
        == "answers file: tuning.max_attempts: expected a whole number, got 'three'"
    )
    assert stopped.value.exit_code == 2
    with pytest.raises(UsageError, match="answers file: intake.idea: an answer is needed here"):
        p.text("intake.idea", "Idea")


def test_a_secret_from_the_answers_file_may_name_a_variable_and_is_never_shown() -> None:
    p, out, _ = answers(
        {"telegram": {"token": "$BOT"}, "github": {"token": "ghp_literal"}}, {"BOT": "1:abc"}
    )
    assert p.secret("telegram.token", "Bot token", str) == "1:abc"
    assert p.secret("github.token", "GitHub token", str) == "ghp_literal"
    assert "1:abc" not in out.getvalue() and "ghp_literal" not in out.getvalue()
    assert out.getvalue() == "Bot token: ********\nGitHub token: ********\n"
    p, _, _ = answers({"telegram": {"token": "$UNSET"}})
    with pytest.raises(UsageError, match=r"answers file: telegram.token: \$UNSET is not set"):
        p.secret("telegram.token", "Bot token", str)


def test_an_answers_file_must_be_a_yaml_mapping(tmp_path: Path) -> None:
    file = tmp_path / "answers.yaml"
    file.write_text("- a\n- b\n")
    with pytest.raises(UsageError, match="must be a mapping"):
        load_answers(file)
    with pytest.raises(UsageError, match="does not exist"):
        load_answers(tmp_path / "missing.yaml")
    file.write_text("intake:\n  idea: [unclosed\n")
    with pytest.raises(UsageError, match="is not readable YAML"):
        load_answers(file)
    file.write_text("intake:\n  idea: [a, b]\n")
    p = Prompter(Answers(load_answers(file), io.StringIO(), {}), io.StringIO())
    with pytest.raises(UsageError, match="intake.idea: expected a single value, got list"):
        p.text("intake.idea", "Idea")

"""The acceptance proof's decisions: which files it runs, with what command, safely quoted."""

from __future__ import annotations

import subprocess

import pytest

from orchestrator.core.acceptance import (
    MAX_FILES,
    OFF,
    Selection,
    command,
    is_pytest,
    quote,
    safe_path,
    select,
    template,
)

HOSTILE = [
    "../x",
    "tests/../../etc/passwd",
    "/etc/passwd",
    "-rf",
    "tests/-rf",
    "--collect-only",
    "tests/test_a.py::test_one",
    "tests/test_\nnew.py",
    "tests\\test_a.py",
    "tests//test_a.py",
    "./tests/test_a.py",
    "",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_a_path_that_escapes_or_reads_as_an_option_is_refused(path: str) -> None:
    assert not safe_path(path)
    with pytest.raises(ValueError, match="unsafe test path"):
        command("pytest {files}", [path])


@pytest.mark.parametrize(
    "path", ["tests/test_a.py", "tests/test b.py", "tests/test_$(touch x).py", "tests/it's.py"]
)
def test_spaces_and_shell_syntax_in_a_name_are_quoted_never_run(path: str) -> None:
    assert safe_path(path)
    out = subprocess.run(
        ["/bin/sh", "-c", command("printf '%s\\n' {files}", [path, "tests/test_c.py"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == [path, "tests/test_c.py"]


def test_a_plain_path_is_left_unquoted() -> None:
    assert quote("tests/test_a.py") == "tests/test_a.py"
    assert quote("a b") == "'a b'"


def test_the_runnable_test_files_present_on_the_head_are_run_and_every_test_path_goes_to_base() -> (
    None
):
    changed = [
        "calc/sub.py",
        "tests/test_sub.py",
        "tests/conftest.py",
        "tests/__init__.py",
        "tests/data/case.json",
        "tests/test_gone.py",  # deleted by the change
        "web/button.test.ts",
        "calc/sub_test.py",
        "tests/-rf",
        "README.md",
    ]
    chosen = select(changed, lambda path: path != "tests/test_gone.py")
    assert chosen.run == ("tests/test_sub.py", "web/button.test.ts", "calc/sub_test.py")
    assert chosen.overlay == (
        "tests/test_sub.py",
        "tests/conftest.py",
        "tests/__init__.py",
        "tests/data/case.json",
        "tests/test_gone.py",
        "web/button.test.ts",
        "calc/sub_test.py",
    )
    assert chosen.refused == 1 and chosen.note() == "1 test paths with unsafe names left out"


def test_the_presence_check_is_asked_of_safe_paths_only() -> None:
    asked: list[str] = []
    select(["tests/../../x/test_a.py", "tests/test_b.py"], lambda p: asked.append(p) is None)
    assert asked == ["tests/test_b.py"]


def test_at_most_max_files_are_run_and_the_rest_is_noted() -> None:
    changed = [f"tests/test_{n}.py" for n in range(MAX_FILES + 3)]
    chosen = select(changed, lambda path: True)
    assert len(chosen.run) == MAX_FILES and len(chosen.overlay) == MAX_FILES + 3
    assert chosen.note() == f"3 more test files not run (at most {MAX_FILES})"
    assert Selection((), ()).note() == ""


@pytest.mark.parametrize(
    "test_command",
    [
        "pytest",
        "pytest -q",
        "py.test -x --tb=short",
        "python -m pytest -q",
        "python3.12 -m pytest",
        "/opt/venv/bin/python -m pytest -q -p no:cacheprovider",
        ".venv/bin/pytest -k fast",
        "uv run pytest -q",
        "poetry run pytest -m unit",
    ],
)
def test_a_pytest_command_with_options_only_gets_the_files_appended(test_command: str) -> None:
    assert is_pytest(test_command)
    assert template(None, test_command) == f"{test_command} {{files}}"


@pytest.mark.parametrize(
    "test_command",
    [
        "pytest tests/unit",  # the files would run beside the whole folder
        "pytest -q && ruff check .",
        "make test",
        "npm test",
        "python -m unittest discover",
        "tox",
        "pytest $ARGS",
        "pytest-watch",
        "go test ./...",
    ],
)
def test_any_other_runner_gets_no_proof_without_an_acceptance_command(test_command: str) -> None:
    assert not is_pytest(test_command)
    assert template(None, test_command) is None
    assert template(None, None) is None


def test_the_repos_acceptance_command_wins_and_false_switches_it_off() -> None:
    assert template("npx jest {files}", "npm test") == "npx jest {files}"
    assert template("", "pytest -q") is None
    assert command("npx jest --ci {files}", ["a/b.test.js", "c d.test.js"]) == (
        "npx jest --ci a/b.test.js 'c d.test.js'"
    )
    assert OFF == "no acceptance_command for this runner"

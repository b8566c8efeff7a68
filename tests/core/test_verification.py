"""The verifier's deterministic checks: tests ran on the head, the gate saw it, no test deleted or
weakened without saying so, and the diff within the paths the issue names."""

from __future__ import annotations

import pytest

from orchestrator.core.model import Check, CheckState
from orchestrator.core.verification import (
    FileDiff,
    HeadEvidence,
    concerns,
    head_tested,
    is_test_file,
    named_paths,
    out_of_scope,
    suite_concerns,
    weakening,
)

GREEN = (Check("ci", CheckState.SUCCESS),)
SUB = FileDiff("calc/sub.py", "added", 2, 0, "@@ -0,0 +1,2 @@\n+def sub(a, b):\n+    return a - b")
WEAKER = FileDiff(
    "tests/test_ops.py",
    "modified",
    1,
    2,
    "@@ -5,6 +5,5 @@\n def test_add():\n"
    "-    assert add(2, 3) == 5\n-    assert add(0, 0) == 0\n+    add(2, 3)",
)


def evidence(*files: FileDiff, **changes: object) -> HeadEvidence:
    values: dict[str, object] = {
        "files": files,
        "checks": GREEN,
        "tested_by_agentos": False,
        "through_gate": True,
        "issue_text": "Add subtraction\nPut `sub` in calc/sub.py.",
        "said": "Closes #1\n\nAdded sub.\n\n### Files changed\n- `tests/test_ops.py`\n",
    }
    values.update(changes)
    return HeadEvidence(**values)  # type: ignore[arg-type]


def rules(found: list) -> list[str]:
    return [c.rule for c in found]


def test_a_clean_change_has_no_concern() -> None:
    assert concerns(evidence(SUB)) == []


@pytest.mark.parametrize(
    "checks, tested, ran",
    [
        (GREEN, False, True),
        ((), False, False),
        ((), True, True),  # Agent OS ran the tests on this very commit
        ((Check("lint", CheckState.NEUTRAL),), False, False),  # skipped is not run
        ((Check("ci", CheckState.SUCCESS), Check("docs", CheckState.NEUTRAL)), False, True),
        ((Check("ci", CheckState.SUCCESS), Check("e2e", CheckState.PENDING)), False, False),
    ],
)
def test_the_tests_ran_on_the_head_when_ci_or_agentos_says_so(checks, tested, ran) -> None:
    assert head_tested(checks, tested) is ran


def test_a_head_without_tests_or_past_the_gate_is_held() -> None:
    found = concerns(evidence(SUB, checks=(), through_gate=False))
    assert rules(found) == ["tests_not_run_on_head", "gate_not_passed"]
    assert all(c.holds for c in found)


@pytest.mark.parametrize(
    "path, test",
    [
        ("tests/test_ops.py", True),
        ("calc/test_sub.py", True),
        ("pkg/ops_test.go", True),
        ("web/src/app.spec.ts", True),
        ("src/__tests__/app.js", True),
        ("src/test/java/OpsTest.java", True),
        ("calc/ops.py", False),
        ("tests/data/cases.json", False),  # a fixture, not a test's source
        ("docs/testing.md", False),
    ],
)
def test_test_files_are_known_by_their_usual_names(path: str, test: bool) -> None:
    assert is_test_file(path) is test


def test_a_deleted_test_file_asks_for_changes_unless_said() -> None:
    gone = FileDiff("tests/test_ops.py", "removed", 0, 8, "@@ -1,8 +0,0 @@\n-import unittest")
    [found] = suite_concerns([gone], said="Closes #1\n\n### Files changed\n- `tests/test_ops.py`")
    assert (found.rule, found.asks_changes) == ("test_deleted", True)
    assert "tests/test_ops.py" in found.text
    assert suite_concerns([gone], "Removed tests/test_ops.py: it tested the old API.") == []
    assert suite_concerns([gone], "I deleted the obsolete tests.") == []


def test_a_weakened_assert_asks_for_changes_unless_said() -> None:
    [found] = suite_concerns([WEAKER], said="Refactored add.")
    assert found.rule == "test_weakened"
    assert "tests/test_ops.py (2 assertions fewer)" in found.text
    assert (
        suite_concerns([WEAKER], "test_ops.py: dropped the assertion on zero, now covered.") == []
    )


@pytest.mark.parametrize(
    "patch, how",
    [
        ("-    assert a == 1\n+    assert a == 2", ""),  # changed, not removed
        ("-    self.assertEqual(x, 1)", "1 assertions fewer"),
        (
            "-def test_zero():\n-    assert add(0, 0) == 0",
            "1 assertions fewer, 1 test functions fewer",
        ),
        ("+@pytest.mark.skip(reason='flaky')\n def test_add():", "a skip added"),
        ("-  expect(sum(1, 2)).toBe(3);\n+  sum(1, 2);", "1 assertions fewer"),
        ("+def test_more():\n+    assert more()", ""),
        ("--- a/x\n+++ b/x\n", ""),
    ],
)
def test_a_patch_weakens_a_test_by_losing_assertions_or_tests_or_adding_skips(
    patch: str, how: str
) -> None:
    assert weakening(patch) == how


@pytest.mark.parametrize(
    "text, named",
    [
        ("Put `sub` in calc/sub.py.", ("calc/sub.py",)),
        ("See docs/ and README.md, and/or Node", ("docs/", "README.md")),
        ("The bug is in `src/auth` e.g. login", ("src/auth",)),
        ("Read https://example.com/a/b.py first", ()),
        ("Make the app faster", ()),
    ],
)
def test_the_issue_names_paths_and_prose_is_not_one(text: str, named: tuple[str, ...]) -> None:
    assert named_paths(text) == named


def test_the_scope_is_the_named_paths_their_folders_and_their_tests() -> None:
    named = ("calc/sub.py", "docs/")
    files = [
        FileDiff("calc/sub.py", "added"),
        FileDiff("calc/helpers/num.py", "added"),  # the neighbourhood: the named file's folder
        FileDiff("tests/test_sub.py", "added"),  # a test of a named file
        FileDiff("docs/calc.md", "modified"),
        FileDiff("auth/login.py", "modified"),
        FileDiff("tests/test_login.py", "modified"),
    ]
    assert out_of_scope(files, named) == ["auth/login.py", "tests/test_login.py"]
    assert out_of_scope(files, ()) == []  # an issue that names nothing sets no scope


def test_out_of_scope_is_a_note_for_the_model_not_a_verdict() -> None:
    [found] = concerns(evidence(SUB, FileDiff("auth/login.py", "modified", 1, 1)))
    assert (found.rule, found.holds, found.asks_changes) == ("out_of_scope", False, False)
    assert found.text == "outside the paths the issue names: auth/login.py"

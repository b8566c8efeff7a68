"""The dependency rules of docs/architecture.md, pinned: core is pure, jobs never see adapters."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "orchestrator"

# What core may import: pure standard-library modules and core itself.
CORE_ALLOWED = {
    "__future__", "abc", "collections", "dataclasses", "datetime", "enum", "functools", "graphlib",
    "hashlib", "itertools", "json", "math", "re", "string", "textwrap", "typing", "unicodedata",
    "orchestrator.core",
}
# Calls that would read the clock or the environment from inside core.
CORE_FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "getenv"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(name: str, allowlist: set[str]) -> bool:
    return any(name == a or name.startswith(a + ".") for a in allowlist)


CORE_FILES = sorted((PACKAGE / "core").glob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_imports_only_pure_standard_library_modules(path: Path) -> None:
    bad = {name for name in imports(path) if not allowed(name, CORE_ALLOWED)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_reads_no_clock_and_no_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & CORE_FORBIDDEN_CALLS


@pytest.mark.parametrize("path", sorted((PACKAGE / "jobs").glob("*.py")), ids=lambda p: p.name)
def test_jobs_never_import_a_concrete_adapter_or_the_sandbox(path: Path) -> None:
    bad = {n for n in imports(path) if n.startswith(("orchestrator.adapters", "orchestrator.sandbox"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_the_cli_commands_the_demo_and_the_sandbox_itself_import_the_sandbox() -> None:
    users = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.relative_to(PACKAGE).parts
        and any(n.startswith("orchestrator.sandbox") for n in imports(path))
    }
    outside = {u for u in users if u not in ("cli.py", "commands.py") and not u.startswith("demo/")}
    assert not outside, outside


def test_no_module_is_past_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long


def test_the_architecture_test_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\nfrom github import Github\nfrom orchestrator.core import model\n")
    assert {n for n in imports(bad) if not allowed(n, CORE_ALLOWED)} == {"subprocess", "github"}

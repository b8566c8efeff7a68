"""The dependency rules of docs/architecture.md, pinned: the layers, the seams and the size limit.

Imports are read with `ast` from every module of the package, at any depth (a function-level
import is an import), so a rule cannot be dodged by importing late.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "orchestrator"

# What core may import: pure standard-library modules and core itself.
CORE_ALLOWED = {
    "__future__",
    "abc",
    "collections",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "graphlib",
    "hashlib",
    "itertools",
    "json",
    "math",
    "re",
    "statistics",
    "string",
    "textwrap",
    "typing",
    "unicodedata",
    "orchestrator.core",
}
# Calls that would read the clock or the environment from inside core.
CORE_FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "getenv"}
# Only these entry points may build the real adapters.
ENTRY_POINTS = {
    "cli/runner.py",
    "cli/bot.py",
    "cli/plan.py",
    "cli/why.py",
    "delivery/worker.py",
    "init/__init__.py",
    "demo/world.py",
}
# Packages of job logic: they see ports, never a concrete adapter or the sandbox.
BEHIND_THE_PORTS = ("jobs", "delivery", "review", "control", "store", "improve")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path) -> set[str]:
    """Return the modules a file imports, at any depth.

    `from a import b` names `a.b` when b is a module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the file's own package
                here = module_name(path).split(".")[: -1 if path.name != "__init__.py" else None]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return names


def allowed(name: str, allowlist: set[str]) -> bool:
    return any(name == a or name.startswith(a + ".") for a in allowlist)


def relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


CORE_FILES = sorted((PACKAGE / "core").glob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_imports_only_pure_standard_library_modules(path: Path) -> None:
    bad = {name for name in imports(path) if not allowed(name, CORE_ALLOWED)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_reads_no_clock_and_no_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & CORE_FORBIDDEN_CALLS


@pytest.mark.parametrize("package", BEHIND_THE_PORTS)
def test_job_logic_never_imports_a_concrete_adapter_or_the_sandbox(package: str) -> None:
    bad = {
        f"{relative(p)} imports {n}"
        for p in (PACKAGE / package).rglob("*.py")
        for n in imports(p)
        if n.startswith(("orchestrator.adapters", "orchestrator.sandbox"))
    }
    assert not bad, sorted(bad)


def test_only_the_entry_points_import_wiring() -> None:
    users = {relative(p) for p in PACKAGE.rglob("*.py") if "orchestrator.wiring" in imports(p)}
    assert users <= ENTRY_POINTS, sorted(users - ENTRY_POINTS)


def test_deps_is_typed_by_the_ports_and_the_store_only() -> None:
    seen = {n for n in imports(PACKAGE / "deps.py") if n.startswith("orchestrator.")}
    assert all(
        allowed(
            n,
            {
                "orchestrator.ports",
                "orchestrator.ports_remote",
                "orchestrator.store",
                "orchestrator.config.model",
            },
        )
        for n in seen
    ), seen


def test_only_the_cli_commands_and_the_demo_import_the_sandbox() -> None:
    users = {
        relative(p)
        for p in PACKAGE.rglob("*.py")
        if "sandbox" not in p.relative_to(PACKAGE).parts
        and any(n.startswith("orchestrator.sandbox") for n in imports(p))
    }
    outside = {u for u in users if u != "cli/main.py" and not u.startswith("demo/")}
    assert not outside, outside


def test_the_product_never_imports_pytest() -> None:
    users = {
        relative(p)
        for p in PACKAGE.rglob("*.py")
        if any(allowed(n, {"pytest", "_pytest"}) for n in imports(p))
    }
    assert not users, users


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {n for n in imports(path) if n in MODULES and n != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    late = tmp_path / "late.py"
    late.write_text(
        "def f():\n    from orchestrator.store import mailbox\n    import orchestrator.wiring\n"
    )
    assert imports(late) == {"orchestrator.store.mailbox", "orchestrator.wiring"}


def test_no_module_is_past_400_lines() -> None:
    long = {
        relative(p): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, long


def test_every_exception_is_drawn_in_the_tree_of_errors_py() -> None:
    drawn = (PACKAGE / "errors.py").read_text(encoding="utf-8").split('"""')[1]
    defined = {}
    for path in PACKAGE.rglob("*.py"):
        if "sandbox" in path.relative_to(PACKAGE).parts:
            continue  # the sandbox's errors are GitHub's and Telegram's answers, never ours
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(_is_exception(b) for b in node.bases):
                defined[node.name] = relative(path)
    misplaced = {n: p for n, p in defined.items() if p != "errors.py" and not p.startswith("core/")}
    undrawn = {n for n in defined if not re.search(rf"\b{n}\b", drawn)}
    assert not misplaced and not undrawn, (misplaced, undrawn)


def _is_exception(base: ast.expr) -> bool:
    name = (
        base.id
        if isinstance(base, ast.Name)
        else base.attr
        if isinstance(base, ast.Attribute)
        else ""
    )
    return name.endswith(
        (
            "Error",
            "Exception",
            "Rejected",
            "Failed",
            "Refused",
            "Unavailable",
            "Limited",
            "Timeout",
            "Invalid",
            "InvalidAnswer",
        )
    )


def test_every_port_is_in_a_ports_module() -> None:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "sandbox" in path.relative_to(PACKAGE).parts or path.name in (
            "ports.py",
            "ports_init.py",
            "ports_remote.py",
            "deps.py",
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases
            ):
                found[node.name] = relative(path)
    assert not found, found


def test_the_architecture_test_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import subprocess\nfrom github import Github\nfrom orchestrator.core import model\n"
        "def late():\n    import socket\n"
    )
    assert {n for n in imports(bad) if not allowed(n, CORE_ALLOWED)} == {
        "subprocess",
        "github",
        "socket",
    }


def test_no_import_renames_a_module_or_name_of_ours() -> None:
    """`from orchestrator.core import result as contract` hid which module a name came from."""
    renamed = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orchestrator"):
                renamed |= {
                    f"{relative(path)}: {a.name} as {a.asname}"
                    for a in node.names
                    if a.asname and a.asname != a.name
                }
            elif isinstance(node, ast.Import):
                renamed |= {
                    f"{relative(path)}: {a.name} as {a.asname}"
                    for a in node.names
                    if a.asname and a.name.startswith("orchestrator")
                }
    assert not renamed, sorted(renamed)


def test_each_class_name_means_one_thing() -> None:
    """Three `Verdict`s and two `Attempt`s made a reader ask which one.

    The sandbox's own names are its own.
    """
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "sandbox" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, []).append(relative(path))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}

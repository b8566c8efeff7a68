"""The acceptance proof's decisions: which changed files it runs, and the command that runs them.

A change's test files are run on the base (with the head's versions of them: they should fail)
and on the head (they should pass), through `repos[].acceptance_command`, a shell template with
`{files}`. Without one, a repo whose `test_command` is a single pytest command with options only
(`pytest -q`, `python -m pytest -x`, `uv run pytest`) gets `test_command {files}`; any other
runner gets no proof.

The paths come from the agent's change: only plain relative paths inside the repository are
used (no `..`, no absolute path, no component starting with `-`, no control character, no
pytest node id), each shell-quoted. The files a test needs beside it (`conftest.py`, fixtures,
`__init__.py`) travel to the base with it but are not run themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator.core.risk import is_test

MAX_FILES = 10  # test files run one by one, at most: the proof costs two runs per file at worst
FILES = "{files}"
OFF = "no acceptance_command for this runner"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A test file a runner would run (pytest's test_*.py and *_test.py, jest's *.test.js, *.spec.ts,
# Go's *_test.go, RSpec's *_spec.rb, JUnit's FooTest.java), not a helper beside one.
_RUNNABLE = re.compile(r"test_.+|.+_test\.\w+|.+\.(?:test|spec)\.\w+|.+_spec\.\w+|.+Tests?\.\w+")
_HELPERS = {"conftest.py", "__init__.py"}
# `pytest`, `py.test`, `[uv|poetry|pdm|hatch|pipenv] run pytest`, `python3 -m pytest`, with a path
_PYTEST = re.compile(
    r"(?:(?:uv|poetry|pdm|hatch|pipenv)\s+run\s+)?"
    r"(?:\S*/)?(?:pytest|py\.test|python[0-9.]*\s+-m\s+pytest)(?P<rest>(?:\s.*)?)",
    re.DOTALL,
)
_SHELL = re.compile(r"[;&|<>`$()\\\n'\"*?\[\]{}~#]")  # a pipeline, expansion or quoting: not simple
_VALUED = {"-k", "-m", "-p", "-c", "-o", "-W", "-r", "-n"}  # pytest options whose value follows


@dataclass(frozen=True, slots=True)
class Selection:
    """What the proof does with a change's files."""

    run: tuple[str, ...]  # test files to run, at most MAX_FILES
    overlay: tuple[str, ...]  # every test path of the change: the head's version goes to the base
    skipped: int = 0  # runnable test files past MAX_FILES
    refused: int = 0  # test-looking paths whose names are not safe to hand to a shell

    def note(self) -> str:
        """One line on what was left out, or ""."""
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped} more test files not run (at most {MAX_FILES})")
        if self.refused:
            parts.append(f"{self.refused} test paths with unsafe names left out")
        return "; ".join(parts)


def safe_path(path: str) -> bool:
    """Whether a path from the change may be handed to the command: relative, inside the repo."""
    if not path or path.startswith("/") or _CONTROL.search(path) or "\\" in path or "::" in path:
        return False
    parts = path.split("/")
    return all(part not in ("", ".", "..") and not part.startswith("-") for part in parts)


def select(changed: Sequence[str], on_head: Callable[[str], bool]) -> Selection:
    """Pick the change's test files: all of them go to the base, the runnable ones present on
    the head (`on_head`, asked of safe paths only) are run, the first MAX_FILES of them."""
    tests = [path for path in changed if is_test(path)]
    safe = [path for path in tests if safe_path(path)]
    runnable = [path for path in safe if _runnable(path) and on_head(path)]
    return Selection(
        run=tuple(runnable[:MAX_FILES]),
        overlay=tuple(safe),
        skipped=max(0, len(runnable) - MAX_FILES),
        refused=len(tests) - len(safe),
    )


def _runnable(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name not in _HELPERS and bool(_RUNNABLE.fullmatch(name))


def template(acceptance_command: str | None, test_command: str | None) -> str | None:
    """Return the command template with `{files}`, or None when the proof is off.

    `acceptance_command` is the repo's (None: not set, "": switched off); unset, a pytest
    `test_command` with options only gets the files appended.
    """
    if acceptance_command is not None:
        return acceptance_command or None
    if test_command and is_pytest(test_command):
        return f"{test_command.strip()} {FILES}"
    return None


def is_pytest(command: str) -> bool:
    """Whether a test command is one pytest run to which test files can simply be appended."""
    found = _PYTEST.fullmatch(command.strip())
    if found is None or _SHELL.search(command):
        return False
    words = found.group("rest").split()
    for at, word in enumerate(words):
        if not word.startswith("-") and (at == 0 or words[at - 1] not in _VALUED):
            return False  # a path of its own (`pytest tests/unit`): the files would add to it
    return True


def command(template_text: str, files: Sequence[str]) -> str:
    """Return the template with `{files}` replaced by the files, each quoted for `sh`.

    ValueError for a path `safe_path` refuses: the caller selected them, this is the last wall.
    """
    for path in files:
        if not safe_path(path):
            raise ValueError(f"unsafe test path {path!r}")
    return template_text.replace(FILES, " ".join(quote(path) for path in files))


def quote(word: str) -> str:
    """Quote a word for a POSIX shell, as `shlex.quote` does (core imports no shlex)."""
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"

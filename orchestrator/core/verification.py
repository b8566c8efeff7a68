"""The verifier's deterministic checks: what a PR's head and diff show before a model is asked.

Four checks, each a `Concern` with a rule the logs, the review and the tests share:

- `tests_not_run_on_head`: neither CI (at least one check succeeded on the head, none failed or
  is pending) nor the attempt that pushed this very commit (its run of the repo's test command
  passed) ran the tests on the final head. A person judges (hold).
- `gate_not_passed`: the head is not a commit Agent OS pushed after its outbound gate (or rebased
  from one): someone else pushed it, and no gate saw it. A person judges (hold).
- `test_deleted` / `test_weakened`: the diff removes a test file, or takes assertions or test
  functions out of one (or adds a skip), and neither the PR body nor an agent's result names the
  file or says that tests were removed. The agent is asked to restore them or say why (changes).
- `out_of_scope`: changed files outside the paths the issue names and their neighbourhood (the
  folders of the files it names, tests of them). Soft: the model is told, and judges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.core.model import Check, CheckState

HOLD_RULES = ("tests_not_run_on_head", "gate_not_passed")  # a person must judge
CHANGE_RULES = ("test_deleted", "test_weakened")  # the agent restores them, or says why
MAX_NAMED = 10  # files named in one concern

_CODE = (
    r"\.(?:py|pyi|js|jsx|ts|tsx|mjs|cjs|go|rb|java|kt|kts|rs|cs|php|swift|c|cc|cpp|h|ex|exs|scala)$"
)
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|specs?|__tests__|testing)/.*"
    + _CODE
    + r"|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_spec|[^/]*\.(?:test|spec)|[^/]*Tests?)"
    + _CODE,
    re.IGNORECASE,
)
_ASSERT = re.compile(
    r"\bassert\w*\b|\bexpect\s*\(|\.to(?:Be|Equal|Have|Throw|Match|Contain)\w*\(|"
    r"\brequire\.\w+\(|\bt\.(?:Error|Fatal|Fail)\w*\(|\bshould\b"
)
_TEST_DEF = re.compile(
    r"^\s*(?:async\s+)?def\s+test\w*\s*\(|^\s*(?:it|test|describe)\s*\(|"
    r"^\s*func\s+Test\w*\s*\(|@Test\b|#\[test\]"
)
_SKIP = re.compile(
    r"@pytest\.mark\.(?:skip|xfail)|\bunittest\.(?:skip|expectedFailure)|@skip\w*|"
    r"\b(?:it|test|describe)\.(?:skip|only)\s*\(|\bx(?:it|describe)\s*\(|\bt\.Skip\w*\(|"
    r"#\[ignore\]|@Ignore\b|@Disabled\b|\bself\.skipTest\("
)
_REMOVAL = r"\b(?:remov|delet|drop|skipp|disabl|weaken|loosen|relax|rewr|replac)\w*"
_SAYS_TESTS = re.compile(
    rf"{_REMOVAL}[^.\n]{{0,80}}\btests?\b|\btests?\b[^.\n]{{0,80}}{_REMOVAL}", re.IGNORECASE
)
_SAYS_REMOVAL = re.compile(_REMOVAL, re.IGNORECASE)
_EXTENSIONS = frozenset(
    "py pyi js jsx ts tsx mjs cjs go rb java kt rs cs php swift c cc cpp h ex exs scala md rst "
    "txt json yaml yml toml ini cfg sh sql html css scss vue svelte lock xml proto graphql".split()
)
_URL = re.compile(r"\bhttps?://\S+")
_PATHLIKE = re.compile(
    r"(?<![\w/.@-])((?:[\w.-]+/)+(?:[\w-][\w.-]*)?|[\w-]+\.[A-Za-z][A-Za-z0-9]{0,7})"
)


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file a pull request changes against its merge base, as GitHub lists it."""

    path: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    additions: int = 0
    deletions: int = 0
    patch: str = ""  # the unified diff's hunks; empty when GitHub leaves it out (binary, huge)
    previous_path: str | None = None  # where a renamed file was


@dataclass(frozen=True, slots=True)
class CommitStatus:
    """A commit status to set on a commit: GitHub keeps the newest per `context`."""

    context: str
    state: str  # error | failure | pending | success
    description: str  # at most 140 characters, GitHub's limit
    target_url: str | None = None


@dataclass(frozen=True, slots=True)
class Concern:
    """What a deterministic check found; `rule` is the word logs, reviews and tests share."""

    rule: str
    text: str

    @property
    def holds(self) -> bool:
        return self.rule in HOLD_RULES

    @property
    def asks_changes(self) -> bool:
        return self.rule in CHANGE_RULES


@dataclass(frozen=True, slots=True)
class HeadEvidence:
    """What is known about a PR's final head, gathered by the PR monitor."""

    files: tuple[FileDiff, ...]
    checks: tuple[Check, ...]  # on the head, the verifier's own status left out
    tested_by_agentos: bool  # the attempt that pushed this very commit ran the tests: passed
    through_gate: bool  # Agent OS pushed this commit after its gate, or rebased one it had
    issue_text: str  # the issue's title and body: the paths it names set the scope
    said: str  # the PR body and the agents' results: where removing a test is owned up to


def concerns(evidence: HeadEvidence) -> list[Concern]:
    """Return every concern about the head, holds first, then changes, then notes."""
    found: list[Concern] = []
    if not head_tested(evidence.checks, evidence.tested_by_agentos):
        found.append(
            Concern(
                "tests_not_run_on_head",
                "no check succeeded on the head commit, and Agent OS did not run the tests on it",
            )
        )
    if not evidence.through_gate:
        found.append(
            Concern(
                "gate_not_passed",
                "the head commit was not pushed by Agent OS, so its outbound gate never saw it",
            )
        )
    found += suite_concerns(evidence.files, evidence.said)
    outside = out_of_scope(evidence.files, named_paths(evidence.issue_text))
    if outside:
        found.append(
            Concern("out_of_scope", "outside the paths the issue names: " + _names(outside))
        )
    return found


def head_tested(checks: Sequence[Check], tested_by_agentos: bool) -> bool:
    """Tell whether the tests ran green on the head: CI's checks, or Agent OS's own run."""
    green = bool(checks) and all(
        c.state in (CheckState.SUCCESS, CheckState.NEUTRAL) for c in checks
    )
    return tested_by_agentos or (green and any(c.state is CheckState.SUCCESS for c in checks))


def is_test_file(path: str) -> bool:
    """Tell whether a path is a test's source file (tests/…, test_x.py, x_test.go, x.spec.ts …)."""
    return bool(_TEST_PATH.search(path))


def suite_concerns(files: Iterable[FileDiff], said: str) -> list[Concern]:
    """Return the tests the diff deletes or weakens without the PR or an agent saying so."""
    if _SAYS_TESTS.search(said):
        return []
    deleted, weakened = [], []
    for f in files:
        if not is_test_file(f.path) or _owned_up(f.path, said):
            continue
        if f.status == "removed" or (f.status == "renamed" and not is_test_file(f.path)):
            deleted.append(f.path)
        elif how := weakening(f.patch):
            weakened.append(f"{f.path} ({how})")
    found = []
    if deleted:
        found.append(Concern("test_deleted", "test files deleted: " + _names(deleted)))
    if weakened:
        found.append(Concern("test_weakened", "tests weakened: " + _names(weakened)))
    return found


def weakening(patch: str) -> str:
    """Return how a test file's patch weakens it ("" when it does not): fewer assertions or tests
    than before, or a skip added."""
    removed, added = _lines(patch, "-"), _lines(patch, "+")
    parts = []
    for what, pattern in (("assertions", _ASSERT), ("test functions", _TEST_DEF)):
        lost = _count(removed, pattern) - _count(added, pattern)
        if lost > 0:
            parts.append(f"{lost} {what} fewer")
    if _count(added, _SKIP) > _count(removed, _SKIP):
        parts.append("a skip added")
    return ", ".join(parts)


def named_paths(text: str) -> tuple[str, ...]:
    """Return the file and folder paths a text names (`calc/sub.py`, `docs/`, `README.md`)."""
    found, text = [], _URL.sub(" ", text)
    for match in _PATHLIKE.finditer(text):
        path = match.group(1).rstrip(".").removeprefix("./")
        quoted = text[match.start() - 1 : match.start()] == "`"
        if path not in found and (quoted or _looks_like_a_path(path)):
            found.append(path)
    return tuple(found)


def _looks_like_a_path(token: str) -> bool:
    """Tell a path from prose that has a slash or a dot in it ("and/or", "e.g", "Node.js")."""
    parts = token.rstrip("/").split("/")
    name = parts[-1]
    stem, dot, extension = name.rpartition(".")
    has_file = bool(dot) and len(stem) >= 2 and extension.lower() in _EXTENSIONS
    return has_file or token.endswith("/") or len(parts) >= 3


def out_of_scope(files: Iterable[FileDiff], named: Sequence[str]) -> list[str]:
    """Return the changed paths outside what `named` covers; [] when nothing is named."""
    if not named:
        return []
    return [f.path for f in files if not _in_scope(f.path, named)]


def _in_scope(path: str, named: Sequence[str]) -> bool:
    folder = path.rpartition("/")[0]
    for name in named:
        bare = name.rstrip("/")
        if path == bare or path.startswith(bare + "/"):
            return True  # the file, or inside the folder, it names
        if "/" not in bare and path.rpartition("/")[2] == bare:
            return True  # a file named by its name alone
        home = bare.rpartition("/")[0] if not name.endswith("/") else bare
        if home and (folder == home or folder.startswith(home + "/")):
            return True  # the neighbourhood: the folder of a file it names
        stem = bare.rpartition("/")[2].split(".")[0]
        if is_test_file(path) and len(stem) > 2 and stem in path.rpartition("/")[2]:
            return True  # a test of a file it names
    return False


def _lines(patch: str, sign: str) -> list[str]:
    twice = sign * 3
    return [
        line[1:]
        for line in patch.splitlines()
        if line.startswith(sign) and not line.startswith(twice)
    ]


def _count(lines: Iterable[str], pattern: re.Pattern[str]) -> int:
    """Count the lines that match (`expect(x).toBe(y)` is one assertion, not two)."""
    return sum(1 for line in lines if pattern.search(line))


def _owned_up(path: str, said: str) -> bool:
    """Tell whether a line of what the agents said names the file and a removal in one breath
    (a bare list of changed files names every file, and owns up to nothing)."""
    name = path.rpartition("/")[2].lower()
    return any(name in line.lower() and _SAYS_REMOVAL.search(line) for line in said.splitlines())


def _names(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:MAX_NAMED])
    more = len(paths) - MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")

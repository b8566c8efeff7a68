"""A pull request's risk tier, and why: what the merge gate asks before it merges.

- **high** holds the PR for a person, even in full mode;
- **medium** merges only with the verifier's approval;
- **low** merges on green.

The tier is the highest any rule gives (`RiskRules`, from the config's `risk:` section):
- a changed path matching a `high` glob (`auth/**`, `migrations/**`, `.github/**` by default) is
  high; one matching a `medium` glob is medium;
- a change of more than `medium_lines` changed lines is medium, more than `high_lines` high;
- a test file deleted, or tests removed, is medium (a weakened suite needs a second look);
- code changed with no test file touched is medium (documentation alone is not code);
- the acceptance proof: tests that already pass on the base prove nothing (one tier up);
- the agent's track record: a merged rate under `min_merged_rate` over at least five judged
  attempts raises the tier one step.
Each rule that fired is one line of `reasons`, shown in the PR body (`section`: between markers,
paths the agent chose each a defused code span), so a person sees why without opening logs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.core.globs import path_pattern
from orchestrator.core.quoting import code_span

DEFAULT_HIGH = ("auth/**", "**/auth/**", "migrations/**", "**/migrations/**", ".github/**")
DEFAULT_MEDIUM = ("**/*.sql", "Dockerfile", "**/Dockerfile", "pyproject.toml", "setup.py")
TEST_GLOBS = ("tests/**", "**/tests/**", "test_*.py", "**/test_*.py", "**/*_test.py", "**/*.test.*")
DOC_GLOBS = ("**/*.md", "*.md", "docs/**", "**/*.rst", "*.rst", "**/*.txt", "*.txt", "LICENSE*")
RECORD_ATTEMPTS = 5  # judged attempts before an agent's track record counts
START, END = "<!-- agentos:risk -->", "<!-- /agentos:risk -->"  # the PR body's risk section


class Tier(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @property
    def word(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class RiskRules:
    high: tuple[str, ...] = DEFAULT_HIGH
    medium: tuple[str, ...] = DEFAULT_MEDIUM
    medium_lines: int = 200  # changed lines (added + removed) above which a change is medium
    high_lines: int = 1000  # and above which it is high
    min_merged_rate: float = 0.5  # an agent merging less than this (≥ 5 attempts) raises a tier
    medium_requires_verifier: bool = False  # True: medium with no verifier waits for a person


@dataclass(frozen=True, slots=True)
class ChangedFile:
    path: str
    added: int = 0
    removed: int = 0
    status: str = "modified"  # added | modified | removed | renamed
    previous_path: str | None = None  # where a renamed file was: its globs count too


@dataclass(frozen=True, slots=True)
class Record:
    """The authoring agent's track record, from the outcome ledger."""

    attempts: int
    merged: int


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    tier: Tier
    reasons: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """The PR body's lines: the tier and each reason."""
        lines = [f"Risk: **{self.tier.word}**"]
        lines += [f"- {reason}" for reason in self.reasons] or ["- no rule raised it"]
        return "\n".join(lines)


def assess(
    files: Sequence[ChangedFile],
    rules: RiskRules,
    *,
    tests_pass_on_base: bool | None = None,
    record: Record | None = None,
) -> RiskAssessment:
    """Return the change's tier and the reasons for it."""
    tier, reasons = Tier.LOW, []

    def raise_to(level: Tier, why: str) -> None:
        nonlocal tier
        tier = max(tier, level)
        reasons.append(why)

    for level, globs in ((Tier.HIGH, rules.high), (Tier.MEDIUM, rules.medium)):
        hits = _matching(files, globs)
        if hits:
            raise_to(level, f"touches {_list(hits)}")
    lines = sum(f.added + f.removed for f in files)
    if lines > rules.high_lines:
        raise_to(Tier.HIGH, f"{lines} changed lines (more than {rules.high_lines})")
    elif lines > rules.medium_lines:
        raise_to(Tier.MEDIUM, f"{lines} changed lines (more than {rules.medium_lines})")
    tests = [f for f in files if is_test(f.path)]
    deleted = [f.path for f in tests if f.status == "removed"]
    if deleted:
        raise_to(Tier.MEDIUM, f"deletes test files: {_list(deleted)}")
    elif any(f.removed > f.added for f in tests):
        raise_to(Tier.MEDIUM, "removes more test lines than it adds")
    code = [f for f in files if not is_test(f.path) and not _is_doc(f.path)]
    if code and not tests:
        raise_to(Tier.MEDIUM, "changes code without touching a test")
    if tests_pass_on_base:
        raise_to(Tier(min(tier + 1, Tier.HIGH)), "its tests already pass on the base: no proof")
    if record is not None and record.attempts >= RECORD_ATTEMPTS:
        rate = record.merged / record.attempts
        if rate < rules.min_merged_rate:
            raise_to(
                Tier(min(tier + 1, Tier.HIGH)),
                f"the agent merged {rate:.0%} of its last {record.attempts} attempts",
            )
    return RiskAssessment(tier, tuple(reasons))


def is_test(path: str) -> bool:
    """Whether a path looks like a test file (by the usual conventions)."""
    return bool(_matching([ChangedFile(path)], TEST_GLOBS))


def _is_doc(path: str) -> bool:
    return bool(_matching([ChangedFile(path)], DOC_GLOBS))


def section(found: RiskAssessment, handling: str) -> str:
    """Return the PR body's risk section: the tier, its reasons, and what the gate does with it."""
    return f"{START}\n### Risk\n\n{found.describe()}\n\n{handling}\n{END}"


def with_section(body: str, text: str) -> str:
    """Return the PR body with its risk section replaced by `text` (added at the end if none)."""
    kept = without_section(body)
    return f"{kept.rstrip()}\n\n{text}\n" if kept.strip() else f"{text}\n"


def without_section(body: str) -> str:
    """Return the PR body without Agent OS's risk section: the words of the agent alone (a reason
    such as "deletes test files: …" is ours, never the agent owning up to it)."""
    start = body.find(START)
    end = body.find(END, start)
    if start < 0 or end < 0:
        return body
    return body[:start].rstrip() + "\n" + body[end + len(END) :].lstrip("\n")


def _matching(files: Sequence[ChangedFile], globs: Sequence[str]) -> list[str]:
    patterns = [path_pattern(g) for g in globs]
    return [
        path
        for f in files
        for path in (f.path, f.previous_path)
        if path and any(p.fullmatch(path.lower()) for p in patterns)
    ]


def _list(paths: Sequence[str], shown: int = 3) -> str:
    """Return up to `shown` paths, each a code span (an agent chose them), and how many more."""
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(code_span(p) for p in paths[:shown]) + more

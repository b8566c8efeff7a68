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
Each rule that fired is one line of `reasons`, shown in the PR body.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.core.globs import path_pattern

DEFAULT_HIGH = ("auth/**", "**/auth/**", "migrations/**", "**/migrations/**", ".github/**")
DEFAULT_MEDIUM = ("**/*.sql", "Dockerfile", "**/Dockerfile", "pyproject.toml", "setup.py")
TEST_GLOBS = ("tests/**", "**/tests/**", "test_*.py", "**/test_*.py", "**/*_test.py", "**/*.test.*")
DOC_GLOBS = ("**/*.md", "*.md", "docs/**", "**/*.rst", "*.rst", "**/*.txt", "*.txt", "LICENSE*")
RECORD_ATTEMPTS = 5  # judged attempts before an agent's track record counts


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


@dataclass(frozen=True, slots=True)
class ChangedFile:
    path: str
    added: int = 0
    removed: int = 0
    status: str = "modified"  # added | modified | removed | renamed


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
    code = [f for f in files if not is_test(f.path) and not _matching([f], DOC_GLOBS)]
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


def _matching(files: Sequence[ChangedFile], globs: Sequence[str]) -> list[str]:
    patterns = [path_pattern(g) for g in globs]
    return [f.path for f in files if any(p.fullmatch(f.path.lower()) for p in patterns)]


def _list(paths: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more

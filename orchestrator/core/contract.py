"""The agent result contract: parse `.agent_result.md`, validate it, and render what it asks for.

The prompt and the parser share `FIELDS` and `BlockerCode`, so an agent is never rejected for
a field its prompt did not ask for (agent-os rejects honest `blocked` results for a missing
UNBLOCK_NOTES its prompt never mentions). Every list field is optional: a result without
FOLLOW_UPS (older than it) parses as before, and the prompt's line on it is FOLLOW_UPS_HINT.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace

FIELDS = (
    "STATUS",
    "BLOCKER_CODE",
    "SUMMARY",
    "DONE",
    "BLOCKERS",
    "NEXT_STEP",
    "FILES_CHANGED",
    "TESTS_RUN",
    "DECISIONS",
    "RISKS",
    "ATTEMPTED_APPROACHES",
    "MANUAL_STEPS",
    "FOLLOW_UPS",
)
LIST_FIELDS = (
    "DONE",
    "BLOCKERS",
    "FILES_CHANGED",
    "TESTS_RUN",
    "DECISIONS",
    "RISKS",
    "ATTEMPTED_APPROACHES",
    "MANUAL_STEPS",
    "FOLLOW_UPS",
)
# FOLLOW_UPS, optional: work the agent noticed beyond its issue, one `<title> — <why>` a line.
# After the PR merges each becomes a Backlog issue a person decides on (improve/discovered.py).
FOLLOW_UPS_KEPT = 10  # follow-ups one result may carry; the rest are dropped
FOLLOW_UP_CHARS = 300  # characters of one; a longer one is cut
FOLLOW_UPS_FILED = 5  # follow-ups a task (all attempts at one issue's dispatch) files at most
FOLLOW_UPS_HINT = (
    "work you noticed that this issue does not cover (a bug, a missing test, a clean-up), one "
    "line each: `<title> — <why>`, the most important first; at most "
    f"{FOLLOW_UPS_FILED} become backlog issues once this change merges, for a person to decide "
    "on. `- None` when there is none"
)
_LABEL = re.compile(r"^(?:#+\s*)?\**(" + "|".join(FIELDS) + r")\**\s*:[ \t]*(.*)$", re.MULTILINE)
_NONE = {"", "none", "- none", "n/a", "na", "null", "-"}


class Status(enum.Enum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    BLOCKED = "blocked"


class BlockerCode(enum.Enum):
    """Why a run did not complete.

    `permanent` stops the agent chain, `retryable` allows follow-ups.
    """

    MISSING_CONTEXT = "missing_context"
    MISSING_CREDENTIALS = "missing_credentials"
    ENVIRONMENT_FAILURE = "environment_failure"
    DEPENDENCY_BLOCKED = "dependency_blocked"
    QUOTA_LIMITED = "quota_limited"
    RUNNER_FAILURE = "runner_failure"
    TIMEOUT = "timeout"
    TEST_FAILURE = "test_failure"
    MANUAL_INTERVENTION_REQUIRED = "manual_intervention_required"
    FALLBACK_EXHAUSTED = "fallback_exhausted"
    INVALID_RESULT_CONTRACT = "invalid_result_contract"
    PUSH_REJECTED = "push_rejected"
    NO_DIFF_PRODUCED = "no_diff_produced"
    PROMPT_TOO_LARGE = "prompt_too_large"
    OUTBOUND_REFUSED = "outbound_refused"  # the change broke a rule of the outbound gate
    CANARY_TRIPPED = "canary_tripped"  # the attempt's planted fake credential tried to leave

    @property
    def permanent(self) -> bool:
        """True when no other agent can do better: the chain stops."""
        return self in _PERMANENT

    @property
    def retryable(self) -> bool:
        """True when a follow-up attempt with the results so far may succeed."""
        return self not in (*_PERMANENT, BlockerCode.ENVIRONMENT_FAILURE, BlockerCode.QUOTA_LIMITED)


# A refused or canary-tripping change goes to a human with the reason: another agent or another
# try could only push it again.
_PERMANENT = frozenset(
    (
        BlockerCode.MANUAL_INTERVENTION_REQUIRED,
        BlockerCode.PROMPT_TOO_LARGE,
        BlockerCode.OUTBOUND_REFUSED,
        BlockerCode.CANARY_TRIPPED,
    )
)


# What the prompt tells the agent each code means; the parser accepts exactly these codes.
AGENT_CODES = {
    BlockerCode.MISSING_CONTEXT: "the issue lacks information you need to proceed",
    BlockerCode.MISSING_CREDENTIALS: "a credential, secret or access you need is missing",
    BlockerCode.ENVIRONMENT_FAILURE: "a tool or the environment is broken (not your code)",
    BlockerCode.DEPENDENCY_BLOCKED: "the work needs another issue or change to land first",
    BlockerCode.TEST_FAILURE: "you made changes but the tests do not pass yet",
    BlockerCode.MANUAL_INTERVENTION_REQUIRED: "a human must act (decide, approve, configure)",
    BlockerCode.TIMEOUT: "the work is larger than this run's time allows",
}


@dataclass(frozen=True, slots=True)
class AgentResult:
    status: Status
    blocker: BlockerCode | None
    summary: str = ""
    next_step: str = ""
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problem: str = ""  # why the contract was rejected, when it was

    def items(self, name: str) -> tuple[str, ...]:
        """Return the bullets of a list field (empty when absent or `None`)."""
        return self.lists.get(name, ())

    @property
    def signature(self) -> str:
        """A short fingerprint of the failure, to spot the same failure twice in a row."""
        first = self.items("BLOCKERS")[:1]
        return (
            f"{self.status.value}:{self.blocker.value if self.blocker else '-'}:"
            f"{''.join(first)[:80]}"
        )


def invalid(problem: str) -> AgentResult:
    """Return the result of a run whose contract was missing or malformed."""
    return AgentResult(
        Status.BLOCKED, BlockerCode.INVALID_RESULT_CONTRACT, summary=problem, problem=problem
    )


def parse(text: str | None) -> AgentResult:
    """Parse the contract.

    Anything unusable becomes `blocked invalid_result_contract` with a reason.
    """
    if text is None:
        return invalid("the agent wrote no .agent_result.md")
    sections = _sections(text)
    raw_status = sections.get("STATUS", "").strip().lower()
    try:
        status = Status(raw_status.split()[0] if raw_status else "")
    except ValueError:
        return invalid(f"STATUS must be complete, partial or blocked, got {raw_status[:40]!r}")
    code_text = sections.get("BLOCKER_CODE", "").strip().lower().strip("`")
    blocker = None
    if code_text not in _NONE:
        try:
            blocker = BlockerCode(code_text)
        except ValueError:
            return invalid(
                f"BLOCKER_CODE {code_text[:40]!r} is not one of the codes the prompt lists"
            )
    if status is not Status.COMPLETE and blocker is None:
        return invalid(f"STATUS {status.value} needs a BLOCKER_CODE")
    lists = {name: _bullets(sections.get(name, "")) for name in LIST_FIELDS}
    lists["FOLLOW_UPS"] = tuple(_cut(item) for item in lists["FOLLOW_UPS"][:FOLLOW_UPS_KEPT])
    next_step = sections.get("NEXT_STEP", "").strip()
    return AgentResult(
        status=status,
        blocker=None if status is Status.COMPLETE else blocker,
        summary=sections.get("SUMMARY", "").strip(),
        next_step="" if next_step.lower() in _NONE else next_step,
        lists={k: v for k, v in lists.items() if v},
    )


def _sections(text: str) -> dict[str, str]:
    """Split on any known label at the start of a line, in whatever order the agent wrote them."""
    matches = list(_LABEL.finditer(text))
    sections: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = (match.group(2) + text[match.end() : end]).strip()
        sections.setdefault(match.group(1), body)
    return sections


def _bullets(body: str) -> tuple[str, ...]:
    items = []
    for line in body.splitlines():
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if item and item.lower() not in _NONE:
            items.append(item)
    return tuple(items)


def _cut(item: str) -> str:
    return item if len(item) <= FOLLOW_UP_CHARS else item[: FOLLOW_UP_CHARS - 1].rstrip() + "…"


def after_tests(result: AgentResult, passed: bool, line: str) -> AgentResult:
    """Record the orchestrator's own test run: failing turns `complete` into `partial test_failure`.

    Never the other way round: passing tests do not upgrade an agent's `partial` or `blocked`.
    """
    tests = (*result.items("TESTS_RUN"), line)
    lists = {**result.lists, "TESTS_RUN": tests}
    if passed or result.status is not Status.COMPLETE:
        return replace(result, lists=lists)
    blockers = (*result.items("BLOCKERS"), f"the repo's tests failed: {line}")
    return replace(
        result,
        status=Status.PARTIAL,
        blocker=BlockerCode.TEST_FAILURE,
        lists={**lists, "BLOCKERS": blockers},
        next_step=result.next_step or "Make the failing tests pass.",
    )


def render(result: AgentResult) -> str:
    """Render a result back into the contract's own format (for result.md and prompts)."""
    lines = [
        f"STATUS: {result.status.value}",
        f"BLOCKER_CODE: {result.blocker.value if result.blocker else 'none'}",
        f"SUMMARY: {result.summary or 'None'}",
        f"NEXT_STEP: {result.next_step or 'None'}",
    ]
    for name in LIST_FIELDS:
        items = result.items(name)
        lines.append(f"{name}:")
        lines += [f"- {item}" for item in items] or ["- None"]
    return "\n".join(lines) + "\n"

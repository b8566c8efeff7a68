"""Ask a model whether a borderline proposal repeats an issue: the noise control's last step.

The filer (`improve.filing`) calls `second_opinion` only for a decision to file that names near
issues (`noise.FilingDecision.near`), and only with `improve.triage_with` set: the same
anthropic backend the triage uses, one request per proposal. The prompt and the answer's checks
are `core.duplicates`'; this is the call, and the memory of its verdicts.

Optional and fallible by design, as the triage is: an API error, a timeout, an empty answer (an
`AgentOSError` from the LLM port) or an answer `parse_duplicate` rejects gives no verdict and a
one-line `problem`, and the proposal is filed as if no model were configured. A verdict (a
number, or none) is kept in the producer's memo under the proposal's repo, signature and the
numbers offered, so the same question is not asked again next tick; a failure is not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator.core.answers import UnusableAnswer
from orchestrator.core.duplicates import (
    NearIssue,
    duplicate_prompt,
    parse_duplicate,
)
from orchestrator.core.redact import redact
from orchestrator.errors import AgentOSError
from orchestrator.improve.noise import Known, Proposal
from orchestrator.ports import LLM
from orchestrator.store.memo import Memo

MAX_TOKENS = 100  # `{"duplicate_of": 12345}` is about ten
SECTION = "duplicate"  # the memo's section: "<repo>:<signature>:<numbers>" -> "<number>" | "none"
NONE = "none"


@dataclass(frozen=True, slots=True)
class DuplicateCheck:
    """What the check gave: the issue the proposal repeats (None: none), or what went wrong."""

    duplicate_of: int | None = None
    problem: str | None = None  # one line: the model's error, or why its answer is unusable


def second_opinion(
    llm: Callable[[], LLM],
    memo: Memo,
    key: str,
    proposal: Proposal,
    near: Sequence[Known],
) -> DuplicateCheck:
    """Return whether the proposal repeats one of `near`: the memo's verdict, else the model's.

    `llm` builds the model only when it is asked; `key` names the proposal in the memo (the
    numbers offered are added to it). Never raises for the model.
    """
    offered = [k.number for k in near]
    key = f"{key}:{','.join(map(str, offered))}"
    kept = memo.get(SECTION, key)
    if kept == NONE:
        return DuplicateCheck()
    if kept is not None and kept.isdigit() and int(kept) in offered:
        return DuplicateCheck(int(kept))
    found = ask(llm(), proposal, near)
    if found.problem is None:
        memo.changed(SECTION, key, NONE if found.duplicate_of is None else str(found.duplicate_of))
    return found


def ask(llm: LLM, proposal: Proposal, near: Sequence[Known]) -> DuplicateCheck:
    """Ask the model once whether the proposal repeats one of `near`; never raises for it."""
    candidates = [NearIssue(k.number, k.title, k.body, k.is_open) for k in near]
    system, prompt = duplicate_prompt(proposal.title, proposal.body, candidates)
    try:
        answer = llm.complete(system, prompt, max_tokens=MAX_TOKENS)
    except AgentOSError as error:
        line = " ".join(redact(str(error) or type(error).__name__).split())[:300]
        return DuplicateCheck(problem=line)
    try:
        return DuplicateCheck(parse_duplicate(answer, [c.number for c in candidates]))
    except UnusableAnswer as error:
        return DuplicateCheck(problem=f"model answer unusable: {error}")

"""The attempt's outbound gate: what the agent left is checked before anything is pushed.

Each attempt plants a canary, a fake credential unique to it (adapters/agents/confine.py puts it
where an agent would look for one). What the attempt would carry out is then checked: the files of
the commit against the repo's outbound rules and the config's secrets (core/outbound.py), and the
agent's own words (its result file and what the run reported) for the canary. Any hit ends the
attempt: nothing is pushed, and the task is escalated naming the file and the rule, never the
secret.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence

from orchestrator.config.backend_keys import secret_values
from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import contract, outbound
from orchestrator.core.outbound import Refusal
from orchestrator.core.redact import CANARY, encoded_forms, register_values
from orchestrator.core.routing import ChainResult
from orchestrator.core.workspace import CommitOutcome, Workspace
from orchestrator.deps import Deps

_ALPHABET = string.ascii_letters + string.digits


def new_canary() -> str:
    """Return a fake credential unique to one attempt, shaped like a GitHub token.

    It is registered with the redaction at once, so it never reaches a log, a comment or a chat
    in any encoding, whichever path it takes.
    """
    canary = "ghp_" + "".join(secrets.choice(_ALPHABET) for _ in range(36))
    register_values([canary], CANARY)
    return canary


def kept_canary(canary: str) -> str:
    """Return the canary a parked remote run was given, registered with the redaction again (the
    worker that collects the run is another process than the one that planted it)."""
    register_values([canary], CANARY)
    return canary


def inspect(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    ws: Workspace,
    committed: CommitOutcome,
    chained: ChainResult,
    canary: str,
) -> list[Refusal]:
    """Return every reason the attempt may not carry its work out; canary hits first."""
    found = [Refusal(where, CANARY) for where in _canary_in_words(chained, canary)]
    if committed.has_changes:
        files = deps.worktrees.changes(ws, committed.sha)
        found += outbound.check(
            files, config.outbound_for(repo), secret_values(config), (canary,) if canary else ()
        )
    return sorted(found, key=lambda refusal: refusal.rule != CANARY)


def _canary_in_words(chained: ChainResult, canary: str) -> list[str]:
    """Return where the agents' own words carried the canary: the result file, the run's output."""
    if not canary:
        return []
    forms = encoded_forms(canary)
    where = []
    for run in chained.runs:
        if run.outcome.canary_seen:
            where.append(f"{run.backend}: {run.outcome.canary_seen}")
        texts = (run.result_text or "", run.outcome.final_message or "", run.outcome.error or "")
        if any(form in text for form in forms for text in texts):
            where.append(f"{run.backend}: result")
    return where


def blocked(refusals: Sequence[Refusal], outcome: contract.AgentResult) -> contract.AgentResult:
    """Return the attempt's result as refused by the gate: its own blocker code, the reasons."""
    tripped = any(refusal.rule == CANARY for refusal in refusals)
    code = contract.BlockerCode.CANARY_TRIPPED if tripped else contract.BlockerCode.OUTBOUND_REFUSED
    reasons = tuple(describe(refusal) for refusal in refusals[:20])
    return contract.AgentResult(
        contract.Status.BLOCKED,
        code,
        outcome.summary,
        "A person must look at what the agent left before anything of it leaves.",
        {**outcome.lists, "BLOCKERS": reasons},
    )


def describe(refusal: Refusal) -> str:
    """Return one line naming the file (or place) and the rule, never the value that matched."""
    return refusal.reason

"""The verifier's deterministic checks before every merge, with or without a model.

`core.verification`'s checks judge every green head before it merges, whatever its tier and
whether or not the repo has a model verifier (`review.verifier`): a head whose tests did not run
on it, or that no outbound gate saw, waits for a person; tests deleted or weakened without a word
start a fixing round. When the model verifier judges the head (a medium tier in a repo that has
one) it runs these checks first itself (`review.verifier`); otherwise this module does, after
the risk tier (`review.risk`), whose read of the PR's files and of Agent OS's records it shares.

A head the checks settle gets the verifier's verdict on GitHub (the status `agentos/verifier`
and a COMMENT review with the reasons), once: the memo keeps it per head. A clean head publishes
nothing and merges in the same tick, so it costs no request beyond the tier's.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.config.model import AutomationMode, Config
from orchestrator.core.risk import Tier, without_section
from orchestrator.core.verification import Concern, HeadEvidence, concerns
from orchestrator.core.verifier import VerdictKind, from_concerns
from orchestrator.deps import Deps
from orchestrator.review import authorship, verdicts
from orchestrator.review.authorship import HeadRecord
from orchestrator.review.facts import PullFacts
from orchestrator.review.risk import at_gate
from orchestrator.store.memo import Memo

SETTLED = (VerdictKind.HOLD, VerdictKind.REQUEST_CHANGES)


def screen(
    deps: Deps, config: Config, facts: PullFacts, memo: Memo, dry_run: bool = False
) -> PullFacts:
    """Return the facts with what the deterministic checks settle about a green head the model
    verifier will not judge (`PullState.screened`; None: nothing, it may merge). A dry run
    publishes nothing."""
    state = facts.state
    if facts.implementing or facts.repo.automation_mode is not AutomationMode.FULL:
        return facts
    if state.risk is None or state.risk.tier is Tier.HIGH or model_judges(facts):
        return facts
    if not at_gate(state):
        return facts
    known = verdicts.known(facts.pr, memo)
    if known is not None:
        settled = known if known.kind in SETTLED else None
        return replace(facts, state=replace(state, screened=settled))
    facts, _, found = examine(deps, config, facts, issue_text="")
    settled = from_concerns(found)
    if settled is not None and not dry_run:
        settled = verdicts.publish(deps, facts.pr, settled, memo, "")
    return replace(facts, state=replace(state, screened=settled))


def model_judges(facts: PullFacts) -> bool:
    """Tell whether the model verifier judges this head: a medium tier in a repo that has one."""
    risk = facts.state.risk
    return facts.repo.review.enabled and risk is not None and risk.tier is Tier.MEDIUM


def examine(
    deps: Deps, config: Config, facts: PullFacts, issue_text: str
) -> tuple[PullFacts, HeadRecord, list[Concern]]:
    """Return the facts with the head's files and record read (once), the record, and the
    checks' concerns.

    `issue_text` names the paths that set the change's scope; "" sets none (no `out_of_scope`
    note, which only the model reads).
    """
    pr = facts.pr
    files = facts.files if facts.files is not None else tuple(deps.tracker.pull_files(pr))
    record = facts.record or authorship.read(
        config, facts.repo.key, facts.ref.number, facts.generation, pr.head, pr.head_sha
    )
    found = concerns(
        HeadEvidence(
            files=files,
            checks=facts.state.checks,
            tested_by_agentos=bool(record.tested),
            through_gate=record.through_gate,
            issue_text=issue_text,
            said=f"{without_section(pr.body)}\n{record.results}",  # the agent's words, not ours
        )
    )
    return replace(facts, files=files, record=record), record, found

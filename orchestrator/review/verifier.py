"""The independent verifier before a merge (`review.verifier`): asked once per head commit, when a
PR waits for nothing else.

Deterministic checks first (`core.verification`): a head whose tests did not run, or that did
not pass through the outbound gate, is held for a person; tests deleted or weakened without
saying so are sent back to the agent. Then a model that did not write the change
(`core.verifier.independent`: the authors are read from the rooms now, since the chain may have
fallen back) judges the issue, its success criteria, the test results and the fenced diff. When
the only verifier configured is an author, there is no verdict and a person reviews. A model
that fails or answers anything but the JSON asked for gives no verdict: the PR waits and the
question is asked again with backoff (`review.verdicts`). No verdict, no merge.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.core import brief, labels, review
from orchestrator.core.model import Issue
from orchestrator.core.redact import redact
from orchestrator.core.review import Action
from orchestrator.core.risk import without_section
from orchestrator.core.verifier import (
    AWAITING,
    Request,
    VerdictKind,
    VerifierVerdict,
    from_concerns,
    independent,
    parse_answer,
    prompt,
    verdict_of,
)
from orchestrator.deps import Deps
from orchestrator.errors import AgentOSError
from orchestrator.review import screen, verdicts
from orchestrator.review.facts import PullFacts
from orchestrator.store.memo import Memo

MEMO = verdicts.MEMO  # the PR monitor's memo section: kept per open PR
MAX_TOKENS = 2048  # an answer read at all is at most 20,000 characters
UNUSABLE = "the answer is not the JSON asked for"


def verify(deps: Deps, config: Config, facts: PullFacts, now: datetime, memo: Memo) -> PullFacts:
    """Return the facts with the head's verdict, asking for it when the PR waits for it alone."""
    state = facts.state
    if state.verdict != AWAITING or facts.implementing or not _waits_for_verdict(facts):
        return facts
    issue = deps.tracker.issue(facts.ref)
    if labels.BLOCKED in issue.labels:
        return facts  # a person has it: the job waits too
    verdict = verdicts.known(facts.pr, memo)  # judged already; posting it failed
    if verdict is not None:
        verdict = verdicts.publish(deps, facts.pr, verdict, memo, verdict.by)
    else:
        verdict = _judge(deps, config, facts, issue, now, memo)
    return replace(facts, state=replace(state, verdict=verdict))


def _waits_for_verdict(facts: PullFacts) -> bool:
    decision = review.decide(facts.state)
    return decision.action is Action.WAIT and decision.reason == AWAITING.reason


def _judge(
    deps: Deps, config: Config, facts: PullFacts, issue: Issue, now: datetime, memo: Memo
) -> VerifierVerdict:
    facts, record, found = screen.examine(deps, config, facts, f"{issue.title}\n{issue.body}")
    pr, body, files = facts.pr, without_section(facts.pr.body), facts.files or ()
    settled = from_concerns(found)
    if settled is not None:
        return verdicts.publish(deps, pr, settled, memo, "")
    candidates = [
        (name, config.agents.backends[name].model) for name in facts.repo.review.verifiers
    ]
    judge = independent(candidates, record.authors)
    if judge is None:
        wrote = ", ".join(sorted({a.backend for a in record.authors}))
        text = f"- verifier_is_author: every verifier configured wrote this change ({wrote})"
        held = VerifierVerdict(VerdictKind.HOLD, "verifier_is_author", text)
        return verdicts.publish(deps, pr, held, memo, "")
    criteria = brief.from_issue(issue.title, issue.body).criteria
    request = Request(
        issue=issue.number,
        issue_title=issue.title,
        issue_body=issue.body,
        criteria=criteria,
        pr=pr.number,
        pr_title=pr.title,
        pr_body=body,
        files=files,
        checks=facts.state.checks,
        tests=record.tested,
        notes=tuple(found),
    )
    system, text = prompt(request)
    try:
        answer = deps.llm_for(judge).complete(system, text, max_tokens=MAX_TOKENS)
    except AgentOSError as error:
        line = " ".join(redact(str(error) or type(error).__name__).split())
        return verdicts.failed(deps, pr, judge, line, now, memo)
    parsed = parse_answer(answer)
    if parsed is None:
        return verdicts.failed(deps, pr, judge, UNUSABLE, now, memo)
    return verdicts.publish(deps, pr, verdict_of(*parsed, judge), memo, judge)

"""A pull request's risk tier at the merge gate (`core.risk`): assessed once per head commit, when
the PR waits for nothing but the gate, and shown in its body.

What the tier is made of, read once per head (and shared with the verifier: `PullFacts.files`,
`PullFacts.record`, so its files are one GET between the two):
- GitHub's list of the PR's files, with their added and removed lines and status;
- the acceptance proof (`store.acceptance`) in the room of the task that pushed this very commit
  (the origin's room when no push of it is on record: a rebase): tests that already pass on the
  base prove nothing; no proof, no say;
- the track record of the agent that pushed it (the backend that ran last in that attempt, as
  its room records it) in the outcome ledger over the last 30 days, when the ledger exists; it is
  read as the log analyzer and the scorer keep it, not updated here;
- the rules, `config.risk`.

The memo keeps the head's tier and reasons (section `risk`), so the files are read once per
head, not every tick; a lost memo costs one more read. The PR body gets a section between
`<!-- agentos:risk -->` markers, written only when its text differs from what the body holds:
one PATCH per head whose section changes, none on later ticks.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from orchestrator.config.model import AutomationMode, Config
from orchestrator.core import risk
from orchestrator.core.model import IssueRef, PullRequest
from orchestrator.core.review import Action, PullState, decide
from orchestrator.core.risk import ChangedFile, Record, RiskAssessment, Tier
from orchestrator.core.verification import FileDiff
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.review import authorship
from orchestrator.review.facts import PullFacts
from orchestrator.store import acceptance, rooms
from orchestrator.store.ledger import Ledger
from orchestrator.store.memo import Memo

MEMO = "risk"  # the PR monitor's memo section: repo#number -> this head's tier and reasons
RECORD_DAYS = 30  # the window of the agent's track record


def assess(deps: Deps, config: Config, facts: PullFacts, now: datetime, memo: Memo) -> PullFacts:
    """Return the facts with the head's risk tier once the PR waits for nothing but the gate."""
    found, state = _kept(memo, facts.pr), facts.state
    if found is not None:  # this head was past its checks' grace: our body edit moved updated_at
        state = replace(state, checks_grace_over=True)
    if facts.implementing or not at_gate(state):
        return facts
    if found is None:
        facts = _read(deps, config, facts)
        found = risk.assess(
            [_changed(f) for f in facts.files or ()],
            config.risk,
            tests_pass_on_base=_proof(config, facts),
            record=_record(config, facts.record.pushed_by if facts.record else "", now),
        )
        _keep(memo, facts.pr, found, "")
        deps.log.info(
            "pr.risk",
            extra={
                "pr": facts.pr.number,
                "repo": facts.pr.repo,
                "sha": facts.pr.head_sha[:12],
                "tier": found.tier.word,
                "reasons": " | ".join(found.reasons)[:500],
            },
        )
    return replace(facts, state=replace(state, risk=found))


def at_gate(state: PullState) -> bool:
    """Tell whether the PR waits for nothing but the gate: green, mergeable, no fix, no review
    asking for changes (a `dispatcher_only` PR too: its tier helps the person who merges)."""
    bare = replace(state, full_automation=True, verdict=None, risk=None)
    return decide(bare).action is Action.MERGE


def show(deps: Deps, config: Config, facts: PullFacts, memo: Memo) -> None:
    """Write the head's risk section into the PR body, unless the body holds it already.

    A write GitHub refuses is logged once per head (`pr.risk_unshown`) and not tried again for
    it: the tier still decides; only the body lacks it.
    """
    found, pr = facts.state.risk, facts.pr
    if found is None:
        return
    body = pr.body.replace("\r\n", "\n")  # a person's edit in the browser: same text
    wanted = risk.with_section(body, risk.section(found, handling(config, facts, found.tier)))
    if wanted == body or _unshown(memo, pr):
        return
    try:
        deps.tracker.update_issue(IssueRef(pr.repo, pr.number), body=wanted)
    except Unauthorized:
        raise
    except TrackerError as error:
        _keep(memo, pr, found, str(error)[:200] or type(error).__name__)
        deps.log.warning(
            "pr.risk_unshown",
            extra={"pr": pr.number, "repo": pr.repo, "error": str(error)[:200]},
        )


def handling(config: Config, facts: PullFacts, tier: Tier) -> str:
    """Return what the merge gate does with this tier in this repo, in one sentence."""
    verifier = facts.repo.review.enabled
    if facts.repo.automation_mode is not AutomationMode.FULL:
        return "A person reviews and merges this pull request (`dispatcher_only`)."
    if tier is Tier.HIGH:
        return "Agent OS does not merge a high-risk change: a person reviews and merges it."
    if tier is Tier.LOW:
        asked = "; the verifier is not asked" if verifier else ""
        return f"Agent OS merges it once its checks pass{asked}."
    if verifier:
        return "Agent OS merges it once its checks pass and the verifier approves its head."
    if config.risk.medium_requires_verifier:
        return (
            "No verifier is configured (`review.verifier`), so a person reviews and merges it "
            "(`risk.medium_requires_verifier`)."
        )
    return "No verifier is configured (`review.verifier`): Agent OS merges it once its checks pass."


def _read(deps: Deps, config: Config, facts: PullFacts) -> PullFacts:
    """Return the facts with the head's files and Agent OS's record of it, read once."""
    pr = facts.pr
    files = facts.files if facts.files is not None else tuple(deps.tracker.pull_files(pr))
    record = facts.record or authorship.read(
        config, facts.repo.key, facts.ref.number, facts.generation, pr.head, pr.head_sha
    )
    return replace(facts, files=files, record=record)


def _changed(diff: FileDiff) -> ChangedFile:
    return ChangedFile(diff.path, diff.additions, diff.deletions, diff.status, diff.previous_path)


def _proof(config: Config, facts: PullFacts) -> bool | None:
    """Return whether the pushing attempt's changed tests already pass on the base (None: no
    proof was run, or none is kept)."""
    task = (facts.record.pusher if facts.record else "") or facts.origin
    if not task:
        return None
    proof = acceptance.read(rooms.Room(config.paths.rooms_dir, task).path)
    return proof.tests_pass_on_base if proof is not None else None


def _record(config: Config, backend: str, now: datetime) -> Record | None:
    """Return the agent's attempts and merges of the last RECORD_DAYS, if the ledger exists."""
    ledger = Ledger.of(config)
    if not backend or not ledger.path.exists():
        return None
    try:
        counts = ledger.agents(_stamp(now - timedelta(days=RECORD_DAYS)), _stamp(now))
    except sqlite3.Error:  # busy past its timeout: no record this time, as without a ledger
        return None
    attempts, merged = counts.get(backend, (0, 0))
    return Record(attempts, merged)


def _stamp(at: datetime) -> str:
    """Return a time as the ledger writes its own (`judged_at`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _kept(memo: Memo, pr: PullRequest) -> RiskAssessment | None:
    """Return the tier the memo holds for this head (None: not assessed, or an older head)."""
    data = _entry(memo, pr)
    tier, reasons = str(data.get("tier", "")).upper(), data.get("reasons")
    if tier not in Tier.__members__ or not isinstance(reasons, list):
        return None
    return RiskAssessment(Tier[tier], tuple(str(r) for r in reasons))


def _unshown(memo: Memo, pr: PullRequest) -> bool:
    return bool(_entry(memo, pr).get("unshown"))


def _entry(memo: Memo, pr: PullRequest) -> dict[str, object]:
    raw = memo.get(MEMO, f"{pr.repo}#{pr.number}")
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) and data.get("sha") == pr.head_sha else {}


def _keep(memo: Memo, pr: PullRequest, found: RiskAssessment, unshown: str) -> None:
    value = {"sha": pr.head_sha, "tier": found.tier.word, "reasons": list(found.reasons)}
    text = json.dumps(value | ({"unshown": unshown} if unshown else {}), sort_keys=True)
    memo.changed(MEMO, f"{pr.repo}#{pr.number}", text, digest=False)

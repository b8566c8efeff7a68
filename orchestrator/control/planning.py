"""The planner from the chat: `/plan`, `/plan show`, a plan's buttons, and `/producers`.

A press only records the decision in the repo's plan file (`store.plans`); the planner job
applies an approved plan at its next tick (every five minutes), so the press answers at once and
the GitHub writes happen in one place, under the job's lock, resumable if killed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core.planning import SprintPick
from orchestrator.store import groomed, plans
from orchestrator.store.filings import Filings
from orchestrator.store.plans import PlanRecord, Plans, PlanState

DECISIONS = {
    "approve": plans.APPROVED,
    "only": plans.APPROVED_ONLY,
    "skip": plans.SKIPPED,
}
_SAID = {
    plans.APPROVED: "approved",
    plans.APPROVED_ONLY: "approved without new issues",
    plans.SKIPPED: "skipped",
}


def request(config: Config, key: str | None, who: str) -> str:
    """`/plan [KEY]`: ask for a plan at the planner's next tick, whatever the cadence."""
    repos = _repos(config, key)
    if isinstance(repos, str):
        return repos
    if config.planner.with_backend is None:
        return "No planner model is configured (planner.with in the config)."
    store = Plans(config.paths.state_dir)
    for repo in repos:
        store.change(repo.key, lambda state: _requested(state, who))
    names = ", ".join(r.key for r in repos)
    return f"A plan for {names} comes at the planner's next run (within five minutes)."


def show(config: Config, key: str | None) -> str:
    """`/plan show [KEY]`: the last plan of each repo, and what became of it."""
    repos = _repos(config, key)
    if isinstance(repos, str):
        return repos
    store = Plans(config.paths.state_dir)
    parts = []
    for repo in repos:
        plan = store.read(repo.key).plan
        parts.append(f"{repo.key}: no plan yet" if plan is None else render(plan))
    return "\n\n".join(parts)


def press(config: Config, plan_id: str, action: str, who: str, now: datetime) -> str:
    """A plan's button: record Approve, Approve without new issues, or Skip; say what follows."""
    store = Plans(config.paths.state_dir)
    found = store.find(plan_id)
    if found is None or found.plan is None:
        return "This plan is no longer known; /plan show has the current one."
    decision = DECISIONS[action]
    stamp = now.isoformat(timespec="seconds")
    state = store.change(found.plan.repo, lambda s: plans.decide(s, plan_id, decision, who, stamp))
    plan = state.plan
    if plan is None or plan.id != plan_id or plan.decided_by != who or plan.state != decision:
        current = "expired" if plan is not None and plan.state == plans.EXPIRED else "decided"
        return f"This plan was {current} already; /plan show has it."
    if decision == plans.SKIPPED:
        return f"Plan {plan_id} skipped by {who}: nothing moves. The next comes at its cadence."
    new = "" if decision == plans.APPROVED_ONLY else f" and {len(plan.drafts)} new issues"
    return (
        f"Plan {plan_id} {_SAID[decision]} by {who}: {len(plan.picks)} issues to Ready{new} "
        "at the planner's next run (within five minutes)."
    )


def producers(config: Config, now: datetime) -> str:
    """`/producers`: the issues each producer filed in the last seven days, the groomer's last
    day, and the plans made."""
    day = (now - timedelta(days=7)).date().isoformat()
    filed = Filings(config.paths.runtime_dir).since(day)
    lines = ["Filed by Agent OS in the last 7 days:"]
    by_producer = Counter(producer for producer, _, _ in filed)
    for producer, count in sorted(by_producer.items()):
        repos = Counter(repo for p, repo, _ in filed if p == producer)
        where = ", ".join(f"{r} {n}" for r, n in sorted(repos.items()))
        lines.append(f"  {producer}: {count} ({where})")
    if not filed:
        lines.append("  nothing")
    groomer = groomed.read(config.paths.state_dir)
    if groomer is not None:
        acted = ", ".join(f"{n} {name}" for name, n in sorted(groomer.counts.items()) if n)
        lines.append(f"  groomer ({groomer.day}): {acted or 'nothing to do'}")
    store = Plans(config.paths.state_dir)
    since = (now - timedelta(days=7)).isoformat(timespec="seconds")
    for repo in config.repos:
        plan = store.read(repo.key).plan
        if plan is not None and plan.created_at >= since:
            lines.append(f"  planner: plan {plan.id}, {_state_words(plan)}")
    return "\n".join(lines)


def render(plan: PlanRecord) -> str:
    """Return a plan as the chat and the planning issue show it."""
    lines = [f"Plan {plan.id} ({_state_words(plan)})", "", "To Ready, in this order:"]
    lines += [_pick(n, p) for n, p in enumerate(plan.picks, 1)] or ["  (none)"]
    if plan.dropped:
        lines += ["", "Left out (an open blocker was not picked):"]
        lines += [f"  #{p.issue}: {p.reason}" for p in plan.dropped]
    if plan.drafts:
        lines += ["", "New issues, to Backlog:"]
        lines += [f"  - {d.title} (for {d.objective})" for d in plan.drafts]
    return "\n".join(lines)


def _pick(rank: int, pick: SprintPick) -> str:
    return f"  {rank}. #{pick.issue}: {pick.reason} (for {pick.objective})"


def _state_words(plan: PlanRecord) -> str:
    if plan.state == plans.PROPOSED:
        return f"waiting for Approve or Skip until {plan.expires_at[:16]}"
    if plan.state == plans.APPLIED:
        return f"applied; approved by {plan.decided_by or 'autonomy: auto'}"
    if plan.state == plans.EXPIRED:
        return "expired unanswered"
    return f"{_SAID.get(plan.state, plan.state)} by {plan.decided_by}"


def _requested(state: PlanState, who: str) -> PlanState:
    from dataclasses import replace

    return replace(state, requested_by=who or "chat", next_try="")


def _repos(config: Config, key: str | None) -> list[RepoConfig] | str:
    if key is None:
        return list(config.repos)
    found = [r for r in config.repos if r.key == key]
    return found or f"No repo {key!r}; /repos lists them."

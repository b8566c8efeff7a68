"""Agent PRs that wait for a person, and the reviewer's attention as a budget.

The PR monitor decides (`core.review.waits_for_person`) and remembers each PR's last decision by
its signature (`hold:dispatcher_only`, `wait:no_checks`); the dispatcher, `/why` and the digest
read those signatures back here. `repos[].max_awaiting_review` caps how many such PRs a repo may
have before the dispatcher queues nothing more for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.core.review import Action, Decision, waits_for_person

# What each wait asks of a person, in the words of `/why` and the digest.
PHRASES = {
    "dispatcher_only": "a person reviews and merges it (dispatcher_only)",
    "blocked_by_branch_protection": "branch protection blocks the merge (a required review?)",
    "no_checks": "no check reported on its head (require_checks)",
    "risk_high": "its risk tier is high: a person reviews and merges it",
    "risk_medium_unverified": "its risk tier is medium and no verifier is configured",
}


def person_wait(signature: str | None) -> str | None:
    """Return the reason of a remembered decision when it waits for a person, else None."""
    action, sep, reason = (signature or "").partition(":")
    if not sep or action not in {a.value for a in Action}:
        return None
    return reason if waits_for_person(Decision(Action(action), reason)) else None


def phrase(reason: str) -> str:
    """Return what a person-wait asks for, in a few words."""
    return PHRASES.get(reason, reason.replace("_", " "))


@dataclass(frozen=True, slots=True)
class ReviewBudget:
    """One repo's review budget this tick: `repos[].max_awaiting_review` and what spends it."""

    limit: int
    prs: tuple[int, ...] = ()  # open agent PRs waiting for a person
    coming: tuple[int, ...] = ()  # issues whose running attempt will open one (dispatcher_only)
    new_work_waits: bool = False  # every new task ends as a PR for a person (dispatcher_only)
    unreadable: str = ""  # the open PRs could not be read: nothing is queued (fail closed)

    def spent(self, queued: int = 0) -> int:
        """Return the budget spent, counting `queued` tasks queued this tick when they will wait."""
        return len(self.prs) + len(self.coming) + (queued if self.new_work_waits else 0)

    def exhausted(self, queued: int = 0) -> bool:
        return bool(self.unreadable) or self.spent(queued) >= self.limit

    def detail(self, queued: int = 0) -> str:
        """Return why nothing more is queued.

        "2 PRs await review (max_awaiting_review 2): #12, #14"
        """
        if self.unreadable:
            return f"the open PRs could not be read ({self.unreadable[:120]})"
        count, more = len(self.prs), self.spent(queued) - len(self.prs)
        said = [f"{_prs(count)} await{'s' if count == 1 else ''} review"]
        if more:
            said = [*said, f"{more} more on the way"] if count else [f"{_prs(more)} on the way"]
        text = ", ".join(said) + f" (max_awaiting_review {self.limit})"
        named = [f"#{n}" for n in sorted(self.prs)]
        named += [f"issue #{n} in progress" for n in sorted(self.coming)]
        return f"{text}: {', '.join(named)}" if named else text


def _prs(count: int) -> str:
    return f"{count} PR{'s' if count != 1 else ''}"

"""Backlog hygiene, decided: which card disagrees with the facts, which issue is free, what to say.

The groomer (`improve.grooming`) gathers; this decides on plain values and words its notes. Each
note is one comment on the issue, found again by its hidden marker and edited in place, so a note
is never repeated. The notes quote nothing an issue says: they name issues by number only, and a
model's draft goes through `core.quoting.quote_log` (redacted, defused, fenced).

The card rule (docs/improve.md, "The groomer"): only In Progress and In Review cards are judged,
the columns Agent OS itself moves cards into. In order:

1. the issue is closed → Done;
2. a task of it waits or runs (mailbox inbox/ or processing/) → left alone;
3. it carries `agentos:blocked` → Blocked (an escalation whose card move failed);
4. an open PR works on it (an `agent/<N>-…` branch) or closes it (`Closes #N`) → In Review;
5. otherwise → Backlog, with a note saying why and that Ready runs it again. Never Ready: the
   groomer cannot tell a lost task from a person's rejection (a PR closed unmerged) or a merge
   that did not close its issue, and Ready would start an agent nobody asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orchestrator.core.labels import BLOCKED, DUPLICATE, NEEDS_DECISION
from orchestrator.core.model import BoardStatus, IssueRef, LabelEvent
from orchestrator.core.quoting import quote_log

DUPLICATE_NOTE = "<!-- agentos:groomer=duplicate -->"
BRIEF_NOTE = "<!-- agentos:groomer=brief -->"
FREE_NOTE = "<!-- agentos:groomer=free -->"
DECISION_NOTE = "<!-- agentos:groomer=decision -->"
CARD_NOTE = "<!-- agentos:groomer=card -->"

JUDGED = (BoardStatus.IN_PROGRESS, BoardStatus.IN_REVIEW)  # the card columns the groomer repairs
FREEABLE = (BoardStatus.BACKLOG, BoardStatus.BLOCKED)  # Ready ones the dispatcher queues itself
DECIDABLE = (BoardStatus.BACKLOG, BoardStatus.READY, BoardStatus.BLOCKED)
ACTIONS = ("duplicates", "briefs", "free", "needs_decision", "repaired")  # what a run does
DRAFT_MAX = 3000  # characters of a model's draft brief quoted in a note

_AGENT_BRANCH = re.compile(r"^agent/(\d+)-")
_CLOSES = re.compile(
    r"(?<![A-Za-z0-9])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)[\s:*_]+#(\d+)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Card:
    """A card in a column Agent OS moves, and what is true about its issue."""

    status: BoardStatus | None
    is_open: bool
    escalated: bool  # carries agentos:blocked
    live_task: bool  # a task of the issue in inbox/ or processing/
    open_pr: bool  # an open PR works on it or closes it


@dataclass(frozen=True, slots=True)
class Repair:
    target: BoardStatus
    reason: str  # issue_closed | escalated | pr_open | no_task | no_pr


def repair(card: Card) -> Repair | None:
    """Return where a card belongs when its column disagrees with what is true; None: it agrees."""
    if card.status not in JUDGED:
        return None
    if not card.is_open:
        return Repair(BoardStatus.DONE, "issue_closed")
    if card.live_task:
        return None
    if card.escalated:
        return Repair(BoardStatus.BLOCKED, "escalated")
    if card.open_pr:
        return (
            None
            if card.status is BoardStatus.IN_REVIEW
            else Repair(BoardStatus.IN_REVIEW, "pr_open")
        )
    return Repair(
        BoardStatus.BACKLOG, "no_task" if card.status is BoardStatus.IN_PROGRESS else "no_pr"
    )


def pr_issues(head: str, body: str) -> set[int]:
    """Return the issues (of the PR's repo) a PR works on: its agent branch's, and `Closes #N`."""
    found = {int(n) for n in _CLOSES.findall(body or "")}
    branch = _AGENT_BRANCH.match(head)
    if branch:
        found.add(int(branch.group(1)))
    return found


@dataclass(frozen=True, slots=True)
class Blocker:
    ref: IssueRef
    is_open: bool  # an unreadable blocker counts as open: nothing is known of it
    not_planned: bool = False  # closed as not planned


def blockers_verdict(blockers: Sequence[Blocker]) -> str | None:
    """Return "not_planned" when a blocker was closed as not planned, "free" when every one is
    closed (as completed), None otherwise (no blocker, or one still open)."""
    if not blockers:
        return None
    if any(not b.is_open and b.not_planned for b in blockers):
        return "not_planned"
    return "free" if all(not b.is_open for b in blockers) else None


def needs_note(status: BoardStatus | None, verdict: str | None, labels: Iterable[str]) -> bool:
    """Return whether an issue in `status` gets the note `verdict` asks for.

    Free is said in Backlog and Blocked (the dispatcher queues a free Ready issue itself); an
    abandoned blocker in Backlog, Ready and Blocked. An escalated issue is a person's: no note.
    """
    if verdict is None or BLOCKED in labels:
        return False
    return status in (FREEABLE if verdict == "free" else DECIDABLE)


def blocked_since(events: Sequence[LabelEvent], opened: datetime) -> datetime:
    """Return when `agentos:blocked` was last added (when the trail is silent: the opening)."""
    added = [e.created_at for e in events if e.label == BLOCKED and e.added]
    return max(added, default=opened)


def stale_days(since: datetime, now: datetime, days: int) -> int | None:
    """Return how many whole days an escalation has waited, when that is `days` or more."""
    waited = (now - since).days
    return waited if waited >= days else None


# -- what is said --------------------------------------------------------------------------------
def _link(ref: IssueRef, repo: str) -> str:
    return f"#{ref.number}" if ref.repo == repo else str(ref)


def duplicate_text(original: int, why: str) -> str:
    return (
        f"Agent OS: possible duplicate of #{original} ({why}).\n\n"
        "Nothing is closed automatically: if it is one, close this issue yourself; if it is not, "
        f"remove the `{DUPLICATE}` label. This note is not repeated."
    )


def duplicate_why(verdict: str) -> str:
    """Word a noise verdict ("same_signature", "duplicate (title 96)", a model's) for a note."""
    if verdict == "same_signature":
        return "the same failure signature"
    if verdict.startswith("duplicate (model"):
        return "a model's check of the two"
    inner = verdict.removeprefix("duplicate (").removesuffix(")")
    return f"their words read alike: {inner}" if inner else "their words read alike"


def missing_text() -> str:
    return (
        "Agent OS: this issue is Ready but names no success criteria, so nothing says when the "
        "work is done. Please add a `## Success criteria` section (or a checklist of what must "
        "be true); until then the agent infers its own and says which it chose."
    )


def draft_text(draft: str) -> str:
    return (
        "Agent OS: this issue is Ready but names no success criteria. A model drafted the brief "
        "below from it; please confirm it by copying what is right into the issue under "
        "`## Success criteria` (the agent is given the issue as it reads then):\n\n"
        + quote_log(draft, DRAFT_MAX)
    )


def free_text(blockers: Sequence[IssueRef], repo: str) -> str:
    named = ", ".join(_link(ref, repo) for ref in blockers)
    return (
        f"Agent OS: all blockers are closed: free to start (it waited for {named}). "
        "Move it to Ready to have an agent pick it up."
    )


def decision_text(abandoned: Sequence[IssueRef], repo: str) -> str:
    named = ", ".join(_link(ref, repo) for ref in abandoned)
    return (
        f"Agent OS: this issue waits for {named}, closed as not planned: the work it depends on "
        "will not happen. It needs a decision: remove the dependency, or close this issue. "
        f"(`{NEEDS_DECISION}`: remove the label once decided.)"
    )


def card_text(before: BoardStatus, after: BoardStatus, reason: str) -> str:
    why = {
        "no_task": "no task of it waits or runs, no pull request is open for it, and it is not "
        "escalated",
        "no_pr": "no pull request is open for it, no task of it waits or runs, and it is not "
        "escalated",
    }.get(reason, reason.replace("_", " "))
    return (
        f"Agent OS moved this card from {before.value} to {after.value}: {why}. "
        "Move it to Ready to have an agent pick it up again."
    )


# -- the report the digest reads -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stale:
    """An escalation waiting for a person longer than `improve.stale_days`."""

    repo: str  # owner/name
    number: int
    title: str
    days: int


@dataclass(frozen=True, slots=True)
class GroomerDay:
    """The groomer's day: its counts summed over the day's runs, and the last run's stale list."""

    day: str  # the local date of the runs counted
    at: str  # ISO time of the last run
    counts: Mapping[str, int]
    stale: tuple[Stale, ...] = ()


def merged(earlier: GroomerDay | None, now: GroomerDay) -> GroomerDay:
    """Return today's report: the counts of an earlier run the same day added to this run's."""
    if earlier is None or earlier.day != now.day:
        return now
    counts = {k: earlier.counts.get(k, 0) + now.counts.get(k, 0) for k in ACTIONS}
    return GroomerDay(now.day, now.at, counts, now.stale)


def summary(report: GroomerDay) -> str:
    """Return one line of what the groomer did, for the digest."""
    words = {
        "duplicates": ("possible duplicate marked", "possible duplicates marked"),
        "briefs": ("brief asked for", "briefs asked for"),
        "free": ("issue noted free", "issues noted free"),
        "needs_decision": ("issue flagged for a decision", "issues flagged for a decision"),
        "repaired": ("card repaired", "cards repaired"),
    }
    done = [f"{n} {words[k][n != 1]}" for k in ACTIONS if (n := report.counts.get(k, 0)) > 0]
    return "Groomer: " + ("; ".join(done) if done else "nothing to tidy") + "."

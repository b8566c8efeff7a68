"""Noise control for every issue Agent OS files itself: one mechanism, used by every producer.

Before anything is filed, in this order: an issue already carrying the same failure signature
(a marker in its body) is updated instead, or reopened when it was closed as fixed and the
failure came back; then an open issue, or one closed in the last 90 days, whose title (and body)
reads the same is taken as a duplicate (rapidfuzz's token-set ratio, which ignores word order
and repeated words); then a per-repo daily cap stops a burst. Only a proposal that passes all
three is filed. Deterministic: the same inputs give the same verdict.

A proposal that is filed may still be *near* an issue: a title ratio of at least TITLE_MAYBE (60)
that did not make a duplicate above (below 80, or 80 to 92 with a body below 75). `judge` names
the nearest three in `FilingDecision.near`, and the filer may ask a model about them
(`improve.duplicate_check`); `judge` itself asks no one. Why 60: a person's own words for a
failure we detect score 65-80 against our title ("Queue crashes on KeyError" against "Job queue
crashed: KeyError task_id" is 77; "GitHub returns 502 Bad Gateway intermittently" against
"GitHub errors, 9 in an hour: 502 Bad Gateway" is 67), which the words alone cannot call, while
unrelated titles of one repo score 30-50. Two failures of one rule share the rule's title
template and land in the band too ("The same failure on 3 tasks: X" against "...: Y"), which
is what the body and the model tell apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz

MARKER = "<!-- agentos:signature={} -->"
_MARKER = re.compile(r"<!-- agentos:signature=([0-9a-f]{8,64}) -->")
RECENT = timedelta(days=90)  # a closed issue counts as a duplicate this long after closing
TITLE_SAME = 92.0  # token-set ratio at or above which two titles say the same thing
TITLE_NEAR, BODY_NEAR = 80.0, 75.0  # or both title and body this close
TITLE_MAYBE = 60.0  # a title this close that is no duplicate by the above: ask the model, if any
NEAR_MAX = 3  # nearest issues named in a decision to file
DAILY_CAP = 5  # issues one repo gets from Agent OS in a day, unless the config says otherwise


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a producer wants to file."""

    signature: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Known:
    """An issue already on GitHub, as the producer read it (open, or closed recently)."""

    number: int
    title: str
    body: str
    is_open: bool
    closed_at: datetime | None = None

    @property
    def signature(self) -> str | None:
        found = _MARKER.search(self.body or "")
        return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class FilingDecision:
    """What to do: `file` a new issue, `update` or `reopen` #issue, or `skip` (why says why).

    A decision to file names in `near` the issues whose titles were close but not close enough
    (at most NEAR_MAX, the nearest first): the borderline a model may settle.
    """

    action: str  # "file" | "update" | "reopen" | "skip"
    issue: int | None = None
    why: str = ""  # "same_signature", "duplicate (title 96)", "daily_cap", "new"
    near: tuple[int, ...] = ()


def judge(
    proposal: Proposal,
    known: Iterable[Known],
    filed_today: int,
    now: datetime,
    cap: int = DAILY_CAP,
) -> FilingDecision:
    """Return what to do with a proposal, given the repo's issues and today's count."""
    issues = list(known)
    same = [k for k in issues if k.signature == proposal.signature]
    if same:
        chosen = max(same, key=lambda k: (k.is_open, k.number))
        if chosen.is_open:
            return FilingDecision("update", chosen.number, "same_signature")
        return FilingDecision("reopen", chosen.number, "same_signature_came_back")
    near: list[tuple[float, int]] = []
    for other in issues:
        if not other.is_open and (other.closed_at is None or now - other.closed_at > RECENT):
            continue
        title = fuzz.token_set_ratio(_plain(proposal.title), _plain(other.title))
        close = _closeness(proposal, other, title)
        if close:
            return FilingDecision("skip", other.number, f"duplicate ({close})")
        if title >= TITLE_MAYBE:
            near.append((title, other.number))
    if filed_today >= cap:
        return FilingDecision("skip", None, "daily_cap")
    nearest = sorted(near, key=lambda pair: (-pair[0], -pair[1]))[:NEAR_MAX]
    return FilingDecision("file", None, "new", tuple(number for _, number in nearest))


def _closeness(proposal: Proposal, other: Known, title: float) -> str:
    """Say how `other` reads the same as the proposal ("" when it does not)."""
    if title >= TITLE_SAME:
        return f"title {title:.0f}"
    if title >= TITLE_NEAR:
        body = fuzz.token_set_ratio(_plain(proposal.body)[:4000], _plain(other.body)[:4000])
        if body >= BODY_NEAR:
            return f"title {title:.0f}, body {body:.0f}"
    return ""


def _plain(text: str) -> str:
    return _MARKER.sub("", text or "").lower()


def body_with_marker(body: str, signature: str) -> str:
    """Return an issue body that carries its signature, for the next proposal to find."""
    return f"{body.rstrip()}\n\n{MARKER.format(signature)}\n"

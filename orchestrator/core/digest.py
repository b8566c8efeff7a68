"""The daily digest: one short chat message with the last day's figures and what needs a person.

The scorer job sends it once a day and `/report` answers with it on demand. It is one message,
batched: the figures first (merged, merged rate, cost, lead time, escalated), then three lists
of what waits for a person: escalations (open issues labelled `agentos:blocked`), PRs awaiting
a person (open agent PRs of `dispatcher_only` repos, and those the PR monitor found waiting for
a person in full mode, each with why: `core.review.waits_for_person`), and the incidents filed in
the window; then the escalations waiting longest, and the groomer's line when it ran in the
window (`improve.grooming`). Each list shows at most `MAX_LISTED` lines and counts the rest, and
the whole text stays under `LIMIT` characters, below Telegram's 4,096, however much waits.

Titles are other people's words: the chat gets plain text (no parse mode, so markup stays
literal), and each title is made one line (no line breaks, control or invisible format
characters, so it cannot forge a line of the digest), cut to `TITLE_MAX`, and its `/command` and
`@mention` words are broken by a zero-width space so Telegram neither offers a tap that sends a
command nor notifies anyone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.core.dora import duration, rate
from orchestrator.core.markdown import ZERO_WIDTH_SPACE
from orchestrator.core.notify import shorten
from orchestrator.core.scoring import Report

LIMIT = 3500  # characters of the whole digest (Telegram's limit is 4,096)
MAX_LISTED = 5  # lines per list; the rest are counted
MAX_AGENTS = 5  # agents named on the figures' line
TITLE_MAX = 80  # characters of a title
_ACTIVE = re.compile(r"(?<![\w/@])([/@])(?=\w)")  # a /command or an @mention's first character


@dataclass(frozen=True, slots=True)
class Listed:
    """One thing waiting for a person: an issue or PR, linked as `owner/name#N`."""

    repo: str  # owner/name
    number: int
    title: str = ""
    why: str = ""  # why it waits, when the list's title does not say it all

    @property
    def link(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True, slots=True)
class Attention:
    """What needs a person, as the scorer gathered it."""

    escalations: tuple[Listed, ...] = ()  # open issues labelled agentos:blocked
    reviews: tuple[Listed, ...] = ()  # open agent PRs held for a person's review
    incidents: tuple[Listed, ...] = ()  # incidents filed in the window
    unreadable: tuple[str, ...] = ()  # repos (owner/name) GitHub could not be read for
    stale: tuple[Listed, ...] = ()  # escalations older than improve.stale_days (the groomer's)
    groomed: str = ""  # the groomer's line for the day, when it ran in the window

    @property
    def count(self) -> int:
        return len(self.escalations) + len(self.reviews) + len(self.incidents)


def digest(report: Report, attention: Attention) -> str:
    """Return the digest: one plain-text message of at most `LIMIT` characters."""
    lines = [f"Agent OS digest: the {_window(report.days)} since {_stamp(report.since)}"]
    lines += figures(report)
    lines += [
        "",
        "Needs you:" if attention.count or attention.unreadable else "Needs you: nothing.",
    ]
    if attention.count or attention.unreadable:
        lines += _section("Escalations waiting", attention.escalations, attention.unreadable)
        lines += _section("PRs awaiting your review", attention.reviews, attention.unreadable)
        lines += _section("Incidents filed", attention.incidents, ())
        if attention.stale:
            lines += _section("Escalations waiting longest", attention.stale, ())
    if attention.groomed:
        lines += ["", _clean(attention.groomed, 300)]
    return _cap("\n".join(lines), LIMIT)


def figures(report: Report) -> list[str]:
    """Return the window's figures, a line each."""
    total = report.overall
    if not total.attempts and not report.merges:
        return ["Nothing ended and nothing merged."]
    estimated = ", partly estimated" if total.estimated else ""
    per_merge = f", ${total.cost_per_merge:.2f} a merge" if total.cost_per_merge is not None else ""
    lines = [
        f"Merged: {report.merges} PR{'s' if report.merges != 1 else ''}; merged rate "
        f"{rate(total.merged_rate)} ({total.merged} of {total.attempts} attempts)",
        f"Cost: ${total.cost_usd:.2f}{per_merge}{estimated}",
        f"Lead time: {duration(report.fleet.lead_time_hours)} (median, queued to merged)",
        f"Escalated: {total.escalated} of {total.attempts} attempts"
        + (f" ({rate(total.escalated_share)})" if total.attempts else ""),
    ]
    if total.fix_rounds_per_merge is not None:
        lines.append(f"Fix rounds: {total.fix_rounds_per_merge:.1f} a merged PR")
    agents = sorted(report.agents.items(), key=lambda item: (-item[1].attempts, item[0]))
    if agents:
        named = [
            f"{_clean(name, 30)} {b.merged} of {b.attempts}" for name, b in agents[:MAX_AGENTS]
        ]
        more = f", and {len(agents) - MAX_AGENTS} more" if len(agents) > MAX_AGENTS else ""
        lines.append("By agent (merged of attempts): " + ", ".join(named) + more)
    return lines


def _section(title: str, items: Sequence[Listed], unreadable: Sequence[str]) -> list[str]:
    if not items and not unreadable:
        return [f"{title}: none"]
    lines = [f"{title} ({len(items)}):" if items else f"{title}:"]
    for item in items[:MAX_LISTED]:
        why = f" ({_clean(item.why, 60)})" if item.why else ""
        lines.append(f"  {item.link} {_clean(item.title)}".rstrip() + why)
    if len(items) > MAX_LISTED:
        lines.append(f"  and {len(items) - MAX_LISTED} more")
    if unreadable:
        named = ", ".join(_clean(repo, 60) for repo in unreadable[:MAX_LISTED])
        more = f" and {len(unreadable) - MAX_LISTED} more" if len(unreadable) > MAX_LISTED else ""
        lines.append(f"  {named}{more}: unreadable (GitHub could not be asked)")
    return lines


def _clean(text: str, limit: int = TITLE_MAX) -> str:
    """Return someone's words as one inert line of at most `limit` characters."""
    kept = []
    for char in text:
        kind = unicodedata.category(char)
        if kind == "Cf":  # invisible format characters: bidi overrides, zero-width joiners
            continue
        kept.append(" " if kind in ("Cc", "Zl", "Zp") or char.isspace() else char)
    flat = shorten(" ".join("".join(kept).split()), limit)
    return _ACTIVE.sub(lambda m: m.group(1) + ZERO_WIDTH_SPACE, flat)


def _cap(text: str, limit: int) -> str:
    """Return `text` cut at a line boundary to `limit` characters, saying it was cut."""
    if len(text) <= limit:
        return text
    tail = "… (cut to fit one message)"
    kept = text[: limit - len(tail) - 1]
    return kept[: kept.rfind("\n")] + "\n" + tail if "\n" in kept else kept + tail


def _stamp(since: str) -> str:
    return since[:16].replace("T", " ") + " UTC"


def _window(days: float) -> str:
    return f"{days * 24:g} h" if days <= 2 else f"{days:g} days"

"""Discovered follow-ups: what an agent noticed beyond its issue, as issues a person decides on.

An agent lists them under FOLLOW_UPS in its result (`core.contract`), one `<title> — <why>` a
line. Once the task's PR merges, each becomes an issue in Backlog (improve/discovered.py). The
text is the agent's, so it is treated as data: the title is one plain line (`quoting.one_line`:
no mention, no closing keyword, no link, secrets redacted), and the body says an agent wrote it,
names the parent issue and quotes the note in a fence (`quoting.quote_log`: redacted, defused,
so no `Closes #1` closes, no `@user` is pinged and no `<!-- agentos:signature=… -->` is forged).

The signature, which the noise control finds an earlier filing by, is the same for the same
title proposed for the same parent issue, however it is spaced, cased or punctuated.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.core.quoting import one_line, quote_log

KIND = "follow_up"  # the `kind` of its filing events (the ledger keeps it apart from incidents)
_SEPARATOR = re.compile(r"\s+(?:—|–|--|-)\s+|\s*—\s*")  # `title — why` (or -, --, –, spaced)
_WORDS = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One follow-up as the agent wrote it, split into a title and why it is worth doing."""

    text: str  # the whole line
    title: str
    why: str


def split(text: str) -> FollowUp:
    """Split `<title> — <why>` at its first dash; a line without one is all title."""
    line = " ".join(text.split())
    parts = _SEPARATOR.split(line, maxsplit=1)
    title, why = parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""
    return FollowUp(line, title or why, why if title else "")


def normalise(title: str) -> str:
    """Return the title as dedup compares it: case, accents' forms, punctuation, spacing folded."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_WORDS.sub(" ", folded).replace("_", " ").split())


def collect(results: Iterable[Sequence[str]], cap: int) -> tuple[tuple[str, ...], int]:
    """Return the follow-ups of a task's attempts, in order, deduplicated by title, at most `cap`.

    The second value is how many distinct ones were left out by the cap.
    """
    seen: set[str] = set()
    kept: list[str] = []
    over = 0
    for items in results:
        for item in items:
            key = normalise(split(item).title)
            if not key or key in seen:
                continue
            seen.add(key)
            if len(kept) < cap:
                kept.append(" ".join(item.split()))
            else:
                over += 1
    return tuple(kept), over


def signature(repo: str, parent: int, text: str) -> str:
    """Return the follow-up's signature: a hash of the repo, the parent issue and its title."""
    key = f"{repo.lower()}#{parent}:{normalise(split(text).title)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def title(text: str) -> str:
    """Return the issue title: the follow-up's title as one plain line of at most 90 characters."""
    return one_line(split(text).title)


def body(text: str, parent: int, pr: int) -> str:
    """Return the issue body: who wrote it and while doing what, then the agent's note as data."""
    return (
        f"Discovered while working on #{parent} (PR #{pr}): written by an agent, quoted below as "
        "it wrote it. A person decides whether it is worth doing; it stays in Backlog until "
        f"someone moves it to Ready.\n\n{quote_log(text)}\n"
    )

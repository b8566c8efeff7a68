"""Normalise an issue's blockers, from GitHub's records and from its body, into one list."""

from __future__ import annotations

import re

from orchestrator.core.markdown import blank_code_blocks
from orchestrator.core.model import Dependencies, IssueRef

_LINE = re.compile(
    r"^[\s>*-]*(?:depends\s+on|blocked\s+by)\b:?(?P<refs>.*)$", re.IGNORECASE | re.MULTILINE
)
_REF = re.compile(
    r"(?<![\w/.-])(?:(?P<repo>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+))?#(?P<number>\d+)\b"
)
_URL_REF = re.compile(
    r"https?://[^/\s]+/(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)/issues/(?P<number>\d+)\b"
)


def body_blockers(body: str, repo: str) -> tuple[IssueRef, ...]:
    """Return the issues a body names on `Depends on` / `Blocked by` lines, in order, once each.

    `#N` means an issue of `repo`; `owner/name#N` and issue URLs may point at any repo.
    References inside fenced code blocks are examples, not dependencies, and are ignored.
    """
    text = blank_code_blocks(body or "")
    found: list[IssueRef] = []
    for line in _LINE.finditer(text):
        refs = line.group("refs")
        for match in [*_REF.finditer(refs), *_URL_REF.finditer(refs)]:
            ref = IssueRef(match.group("repo") or repo, int(match.group("number")))
            if ref not in found:
                found.append(ref)
    return tuple(found)


def blockers(ref: IssueRef, body: str, recorded: Dependencies) -> tuple[IssueRef, ...]:
    """Return every issue `ref` waits for: native blocked-by, open-or-not sub-issues, body lines.

    Sub-issues count as blockers because a parent is an epic: it is done when its children are.
    The result is sorted and never contains `ref` itself.
    """
    every = {*recorded.blocked_by, *recorded.sub_issues, *body_blockers(body, ref.repo)}
    every.discard(ref)
    return tuple(sorted(every))

"""Failure signatures: the same failure, on another day, in another task, has the same signature.

A failure's words carry what changes from one run to the next (numbers, paths, task ids, hashes,
addresses, times, quoted values); `normalise` replaces each with a placeholder, and `signature`
hashes what is left with the failure's kind. Two failures that differ only in such details share a
signature; two with different words do not. Pure: the ledger and the incident scanner use it.
"""

from __future__ import annotations

import hashlib
import re

MAX_TEXT = 2000  # characters of the failure text considered: the head says what it is

# Order matters: the specific shapes before the generic number. The text is lowercased first.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z0-9][a-z0-9._-]*-\d+-g\d+-a\d+\b"), "<task>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d[t ]\d\d:\d\d(:\d\d(\.\d+)?)?(z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b(0x)?[0-9a-f]{7,64}\b", re.I), "<hex>"),
    (re.compile(r"https?://[^\s'\"<>)]+"), "<url>"),
    (re.compile(r"(?:~|\.{1,2})?(?:/[\w.@+-]+)+/?"), "<path>"),
    (re.compile(r"\b\d+(\.\d+)*"), "<n>"),  # with a unit after it too: 0.001s, 12ms
    (re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\""), "<value>"),
    (re.compile(r"[ \t]+"), " "),
)


def normalise(text: str) -> str:
    """Return the failure text with what varies between runs replaced by placeholders."""
    out = text[:MAX_TEXT].lower()
    for pattern, placeholder in _RULES:
        out = pattern.sub(placeholder, out)
    lines = [line.strip() for line in out.splitlines()]
    return "\n".join(line for line in lines if line)


def signature(kind: str, text: str) -> str:
    """Return a short stable hash of the failure's kind and normalised text (16 hex digits)."""
    digest = hashlib.sha256(f"{kind}\n{normalise(text)}".encode()).hexdigest()
    return digest[:16]

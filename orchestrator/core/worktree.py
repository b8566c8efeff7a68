"""Names for a task's branch and worktree: sanitised, bounded, and contained in their folder."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
MAX_SLUG = 40


def slug(title: str, limit: int = MAX_SLUG) -> str:
    """Return a lower-case ASCII slug of a title: `Fix login (SSO)!` -> `fix-login-sso`.

    Whatever the title holds, the slug is one ref component git accepts: only `a-z0-9._-`, no
    `..`, no leading or trailing `.` or `-`, and no `.lock` at its end (`remove-yarn-lock`).
    """
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = _UNSAFE.sub("-", ascii_text.lower())
    text = re.sub(r"\.{2,}", "-", text)  # `1..5` -> `1-5`: git refuses `..` anywhere in a ref
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    cut = text[:limit].rstrip("-.")
    if cut.endswith(".lock"):  # git keeps `<ref>.lock` as the ref's lock file
        cut = cut.removesuffix(".lock") + "-lock"
    return cut or "task"


def branch_name(issue: int, title: str) -> str:
    """Return the agent branch for an issue: `agent/<issue>-<slug>`, a name git accepts."""
    return f"agent/{issue}-{slug(title)}"


def is_valid_key(key: str) -> bool:
    """Return whether `key` is safe as one path segment: no separators, no dot-only names."""
    return bool(re.fullmatch(r"[A-Za-z0-9._-]{1,128}", key)) and key.strip(".") != ""


def contained(base: str, candidate: str) -> bool:
    """Return whether the normalised absolute path `candidate` lies strictly inside `base`.

    Both paths must already be absolute and normalised (the adapter resolves symlinks first);
    this is the pure check that no task key escapes the worktrees folder.
    """
    base = base.rstrip("/")
    return candidate.startswith(base + "/") and "/../" not in candidate + "/" and candidate != base

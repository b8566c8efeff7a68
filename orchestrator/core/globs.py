"""Path globs: `*` and `?` within a path component, `**` across components, the rest literal."""

from __future__ import annotations

import re


def path_pattern(glob: str) -> re.Pattern[str]:
    """Return a whole-path matcher for a glob (`**` across components), letters in either case.

    `**` crosses a line break too: a path may hold one, and must not slip past a glob by it.
    """
    return re.compile(glob_regex(glob.lower()), re.DOTALL)


def glob_regex(glob: str) -> str:
    """Translate a glob: `*` and `?` within a component, `**` across them, the rest literal."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(glob[i], re.escape(glob[i])))
            i += 1
    return "".join(out)

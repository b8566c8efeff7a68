"""How Agent OS quotes, in what it files on GitHub, text it did not write: log excerpts, a
model's words, names read from the ledger.

A log excerpt is data (`quote_log`): secrets redacted, mentions, closing keywords, character
references and HTML comments defused (`markdown.defuse`: so no marker such as the noise
control's `<!-- agentos:signature=… -->` can be forged, even inside the fence, where a regex
still finds it), cut, and fenced by more backticks than any run inside, so nothing in it closes
the fence. A title is one plain line (`one_line`); a name goes in a code span (`safe_name`); a
path an agent chose is its own code span (`code_span`).
Counts and windows are worded once (`times`, `window_text`).
"""

from __future__ import annotations

import re

from orchestrator.core.markdown import defuse
from orchestrator.core.redact import redact

TITLE_MAX = 90  # characters of an issue title
EXCERPT_MAX = 600  # characters of one excerpt quoted in a body

_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")  # [text](url) and ![alt](src)
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff`]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
PATH_MAX = 120  # characters of a path quoted in a code span


def one_line(text: str, limit: int = TITLE_MAX) -> str:
    """Return text as a plain title: one line, no Markdown link or image, no backtick, no live
    mention or closing keyword, secrets redacted, cut to `limit` characters."""
    text, before = redact(text), ""
    while text != before:  # [[a](b)](c) is a link again once unwrapped
        text, before = _LINK.sub(r"\1", text), text
    text = _INVISIBLE.sub(" ", text)
    text = defuse(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_name(text: str) -> str:
    """Return a name from the ledger (repo key, kind, task id, time) fit for a code span."""
    return re.sub(r"[^\w.:+/-]", "", text)[:80]


def code_span(text: str, limit: int = PATH_MAX) -> str:
    """Return text an agent chose (a file path) as one inline code span: one line, no control or
    invisible character, defused (no marker such as `<!-- /agentos:risk -->` can be forged), cut
    to `limit`, between more backticks than any run inside, so nothing in it ends the span and
    no Markdown, link or HTML in it renders."""
    text = defuse(" ".join(_CONTROL.sub(" ", text).split()))
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    ticks = "`" * (longest + 1)
    return f"{ticks}{pad}{text}{pad}{ticks}"


def quote_log(text: str, limit: int = EXCERPT_MAX) -> str:
    """Return log text fenced as data: redacted, defused, cut, in a fence nothing inside closes."""
    text = defuse(redact(text)).rstrip()
    if len(text) > limit:
        text = text[:limit] + f"\n[… {len(text) - limit} more characters]"
    return fence(text, "text")


def fence(text: str, info: str = "") -> str:
    """Wrap `text` in a backtick fence longer than any backtick run inside it, so nothing in it
    can close the fence (the prompt's fences and the failure context's are made here too)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def window_text(hours: float) -> str:
    if hours <= 0:
        return ""
    if hours % 24 == 0:
        return "in the last day" if hours == 24 else f"in the last {hours / 24:g} days"
    return "in the last hour" if hours == 1 else f"in the last {hours:g} h"

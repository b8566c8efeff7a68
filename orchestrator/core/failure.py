"""What a fixing agent is shown of a failed check: its words, annotations and log, within budget.

A check's output, annotations and its job's log are written by the code under test, so they are
untrusted: each part is redacted, trimmed to its share of the budget and fenced as check output
(`quoting.fence`: longer than any backtick run inside, so nothing in it closes the fence). A long
log keeps the lines around its first error and its end, where the failure usually shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.core.model import Annotation, Check, CheckDetails
from orchestrator.core.quoting import fence
from orchestrator.core.redact import redact

PER_CHECK = 8_000  # characters of one check's context, fences and labels included
TOTAL = 20_000  # characters of every failed check's context together
MAX_CHECKS = 8  # failed checks read and shown; the rest are named only
MAX_ANNOTATIONS = 20
SUMMARY_MAX = 500
MESSAGE_MAX = 300  # characters of one annotation's message
URL_MAX = 300
INFO = "check-output"
CONTEXT_LINES = 3  # lines kept before a log's first error

_STAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # after \r\n became \n; tabs stay
_TICKS = re.compile(r"`{16,}")
_ERROR = re.compile(
    r"Error\b|\berror\b|\bERROR\b|\bFAILED\b|\bFAIL\b|Traceback|\bassert|\bpanic|\bfatal\b"
)


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed check and what its fixer reads about it."""

    check: Check
    text: str  # Markdown: labelled parts, each fenced as check output; within the check's budget


def budget(count: int) -> int:
    """Return each check's share when `count` failed checks are shown."""
    return min(PER_CHECK, TOTAL // max(1, min(count, MAX_CHECKS)))


def describe(check: Check, details: CheckDetails | None = None, limit: int = PER_CHECK) -> Failure:
    """Return what the fixer reads about one failed check, in at most `limit` characters."""
    details = details or CheckDetails()
    head = [
        ("Summary", _cut(clean(check.summary), SUMMARY_MAX)),
        ("Annotations", annotation_lines(details.annotations, check.annotations)),
    ]
    tail = [("Details", _cut(clean(check.url or ""), URL_MAX))]
    room = limit - sum(_size(label, text, text) for label, text in head + tail if text)
    output, log = clean(check.text), clean(details.log)
    if output and log and output.strip() in log:
        output = ""  # CI that writes its whole output as the run's text would say it twice
    parts = [*head, *_share(output, log, max(0, room)), *tail]
    shown = [f"{label}:\n\n{fence(text, INFO)}" for label, text in parts if text.strip()]
    return Failure(check, "\n\n".join(shown) or "The check reported nothing beyond failing.")


LOG = "Job log (around the first error, and the end)"


def _share(output: str, log: str, room: int) -> list[tuple[str, str]]:
    """Split the room between the run's output text and the job's log; the log gets more."""
    if output and log:
        first = excerpt(output, room // 3 - _size("Output", "", output))
        rest = room - _size("Output", first, first) - _size(LOG, "", log)
        return [("Output", first), (LOG, excerpt(log, rest))]
    if output:
        return [("Output", excerpt(output, room - _size("Output", "", output)))]
    return [(LOG, excerpt(log, room - _size(LOG, "", log)))] if log else []


def _size(label: str, text: str, source: str) -> int:
    """Return the characters a part takes once fenced (its fence as long as `source` needs),
    the label and the blank line after it included."""
    longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
    return len(text) + len(label) + 2 * max(3, longest + 1) + len(INFO) + 8


def clean(text: str) -> str:
    """Return CI text as a reader wants it: redacted; no colours, timestamps, control characters
    or backtick runs long enough to make a fence swallow the budget."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", _STAMP.sub("", _ANSI.sub("", text)))
    return _TICKS.sub("`" * 15 + "[…]", redact(text))


def excerpt(text: str, limit: int) -> str:
    """Return `text` in at most `limit` characters: from just before its first error line as far
    as the budget's half allows, and its end, each cut noted. Without an error line: the end."""
    if len(text) <= limit:
        return text
    room = limit - 2 * len(_cut_note(len(text)))  # two notes at most
    if room <= 0:
        return text[len(text) - max(0, limit) :]
    first = _ERROR.search(text)
    tail_start = _next_line(text, len(text) - (room if first is None else room // 2))
    head_start = _line_start(text, first.start(), CONTEXT_LINES) if first else tail_start
    if first is None or head_start >= tail_start:  # no error line, or it is in the end anyway
        start = _next_line(text, len(text) - room)
        return _cut_note(start) + text[start:]
    head_room = room - (len(text) - tail_start)
    head_start = max(head_start, first.start() - head_room // 4)  # a long line leads to it
    head_end = head_start + head_room
    if head_end >= tail_start:  # the two windows meet
        return (_cut_note(head_start) if head_start else "") + text[head_start:]
    head_end = _line_end(text, head_start, head_end)
    return (
        (_cut_note(head_start) if head_start else "")
        + text[head_start:head_end]
        + _cut_note(tail_start - head_end)
        + text[tail_start:]
    )


def _cut_note(count: int) -> str:
    return f"[… {count} characters cut …]\n"


def _line_start(text: str, pos: int, back: int = 0) -> int:
    """Return where the line holding `pos` starts, or the line `back` lines before it."""
    start = text.rfind("\n", 0, pos) + 1
    for _ in range(back):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    return start


def _next_line(text: str, pos: int) -> int:
    """Return the start of the first line at or after `pos` (`pos` itself inside a long line)."""
    pos = max(0, pos)
    if pos == 0 or text[pos - 1] == "\n":
        return pos
    found = text.find("\n", pos)
    return found + 1 if 0 <= found < pos + 200 else pos


def _line_end(text: str, start: int, end: int) -> int:
    """Return `end` moved back to just after a line break, unless that loses the whole window."""
    found = text.rfind("\n", start, end)
    return found + 1 if found > start else end


def annotation_lines(annotations: tuple[Annotation, ...], count: int = 0) -> str:
    """Return annotations as `path:line: message` lines, the first MAX_ANNOTATIONS of them."""
    lines = []
    for note in annotations[:MAX_ANNOTATIONS]:
        where = f"{note.path}:{note.line}" if note.line is not None else note.path
        level = "" if note.level == "failure" else f"{note.level}: "
        lines.append(f"{where}: {level}{_cut(' '.join(note.message.split()), MESSAGE_MAX)}")
    more = max(count, len(annotations)) - len(lines)
    if more > 0 and lines:
        lines.append(f"[… {more} more annotations]")
    return clean("\n".join(lines))


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Turn pending notifications into as few chat messages as possible, and decide when to send them.

A burst becomes one message: repeats collapse into one line with a count, a storm keeps only its
newest lines plus a count of the rest, and each escalation keeps its own line and its Retry /
Close buttons, each proposed plan its Approve / Approve without new issues / Skip buttons. The
daily digest and a plan are never hidden in a storm and are shown whole. Text is split on
line boundaries, then word boundaries, to fit Telegram's 4,096-character limit; only a single
word longer than the limit is ever cut.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.notify import BUTTONED, Kind, Notification, action_token, shorten

LIMIT = 4096  # Telegram's limit for a message's text, in UTF-16 code units
MAX_LINES = 30  # lines of non-escalation events per batch; older ones are only counted
ROWS_PER_MESSAGE = 8  # escalations (button rows) per message
ACTIONS = {"retry": "Retry", "close": "Close as not planned"}
PLAN_ACTIONS = {"approve": "Approve", "only": "Approve without new issues", "skip": "Skip"}


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: plain text, and inline keyboard rows."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()


def units(text: str) -> int:
    """Return the length Telegram measures: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def button_data(task_id: str, action: str) -> str:
    """Return the callback data of an escalation button: `esc:<token>:<action>`."""
    return f"esc:{action_token(task_id)}:{action}"


def plan_button_data(plan_id: str, action: str) -> str:
    """Return the callback data of a plan's button: `plan:<token>:<action>`."""
    return f"plan:{action_token(plan_id)}:{action}"


def parse_button(data: str) -> tuple[str, str] | None:
    """Return (token, action) from an escalation's or a plan's button data, None for anything
    else."""
    parts = data.split(":")
    known = {"esc": ACTIONS, "plan": PLAN_ACTIONS}
    if len(parts) != 3 or parts[2] not in known.get(parts[0], ()) or len(parts[1]) != 16:
        return None
    return parts[1], parts[2]


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Split `text` into chunks of at most `limit` units, at line breaks, else at spaces."""
    chunks: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        for piece in _fit(line, limit):
            joined = piece if current is None else f"{current}\n{piece}"
            if current is not None and units(joined) > limit:
                chunks.append(current)
                joined = piece
            current = joined
    if current is not None:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def _fit(line: str, limit: int) -> list[str]:
    """Break one line into pieces of at most `limit` units at spaces.

    Only a word longer than that is cut.
    """
    if units(line) <= limit:
        return [line]
    pieces: list[str] = []
    current = ""
    for word in line.split(" "):
        if units(word) > limit:  # no boundary to honour: give it lines of its own, cut at the limit
            if current:
                pieces.append(current)
            while units(word) > limit:
                head, word = _cut(word, limit)
                pieces.append(head)
            current = word
            continue
        joined = f"{current} {word}" if current else word
        if units(joined) > limit:
            pieces.append(current)
            joined = word
        current = joined
    pieces.append(current)
    return pieces


def _cut(word: str, room: int) -> tuple[str, str]:
    size = 0
    for i, char in enumerate(word):
        size += units(char)
        if size > room:
            return word[:i], word[i:]
    return word, ""


@dataclass(frozen=True, slots=True)
class _Entry:
    note: Notification
    count: int = 1


def batch(
    notes: Sequence[Notification],
    *,
    limit: int = LIMIT,
    max_lines: int = MAX_LINES,
    rows_per_message: int = ROWS_PER_MESSAGE,
) -> list[Message]:
    """Return the messages that tell everything in `notes`, fewest first; [] for no notes."""
    entries, hidden = _entries(notes, max_lines)
    blocks: list[tuple[str, Notification | None]] = []
    if len(entries) > 1 or hidden:
        blocks.append(
            (f"Agent OS: {sum(e.count for e in entries) + sum(hidden.values())} updates", None)
        )
    if hidden:
        counts = ", ".join(
            f"{n} {kind.value.replace('_', ' ')}" for kind, n in hidden.most_common()
        )
        blocks.append((f"… {sum(hidden.values())} earlier not shown ({counts})", None))
    blocks += [(_render(e), e.note if e.note.kind in BUTTONED else None) for e in entries]
    return _pack(blocks, limit, rows_per_message)


def _entries(notes: Sequence[Notification], max_lines: int) -> tuple[list[_Entry], Counter[Kind]]:
    """Collapse repeats (an escalation: its latest note per task) and keep the newest lines."""
    latest: dict[object, tuple[int, Notification]] = {}
    counts: Counter[object] = Counter()
    for i, note in enumerate(notes):
        key: object = (
            (note.kind, note.task_id)
            if note.kind in BUTTONED
            else (note.kind, note.text, note.url, note.detail)
        )
        latest[key] = (i, note)
        counts[key] += 1
    ordered = sorted(latest.items(), key=lambda item: item[1][0])
    entries = [
        _Entry(note, 1 if note.kind in BUTTONED else counts[key]) for key, (_, note) in ordered
    ]
    kept = (*BUTTONED, Kind.DIGEST)  # never hidden in a storm: a person acts on them
    plain = [e for e in entries if e.note.kind not in kept]
    dropped = plain[: max(0, len(plain) - max_lines)]
    hidden: Counter[Kind] = Counter()
    for entry in dropped:
        hidden[entry.note.kind] += entry.count
    gone = {id(e) for e in dropped}
    return [e for e in entries if id(e) not in gone], hidden


def _render(entry: _Entry) -> str:
    note = entry.note
    lines = [f"{note.kind.icon} {note.text}" + (f" (×{entry.count})" if entry.count > 1 else "")]
    if note.kind in (Kind.DIGEST, Kind.PLAN):  # a whole message of its own: shown as it is
        return "\n".join([*lines, note.detail] if note.detail else lines)
    if note.detail:
        lines += [f"   {line}" for line in shorten(note.detail, 600).splitlines() if line.strip()][
            :8
        ]
    if note.url:
        lines.append(f"   {note.url}")
    if note.kind is Kind.ESCALATED:
        lines.append(
            f"   task {note.task_id}: /why {note.issue.number if note.issue else ''} for more"
        )
    return "\n".join(lines)


def _pack(
    blocks: list[tuple[str, Notification | None]], limit: int, rows_per_message: int
) -> list[Message]:
    messages: list[tuple[str, list[Notification]]] = []
    for text, escalation in blocks:
        for i, piece in enumerate(pieces := split(text, limit)):
            last = i == len(pieces) - 1
            current = messages[-1] if messages else None
            fits = current is not None and units(f"{current[0]}\n{piece}") <= limit
            room = current is not None and (
                not (escalation and last) or len(current[1]) < rows_per_message
            )
            if current is not None and fits and room:
                messages[-1] = (f"{current[0]}\n{piece}", current[1])
            else:
                messages.append((piece, []))
            if escalation is not None and last:
                messages[-1][1].append(escalation)
    return [Message(text, _rows(escalations)) for text, escalations in messages]


def _rows(escalations: list[Notification]) -> tuple[tuple[Button, ...], ...]:
    rows = []
    for note in escalations:
        if note.kind is Kind.PLAN:
            plan_id = note.task_id or ""
            rows.append(
                tuple(
                    Button(label, plan_button_data(plan_id, a)) for a, label in PLAN_ACTIONS.items()
                )
            )
            continue
        task_id = note.task_id or ""
        number = f" #{note.issue.number}" if len(escalations) > 1 and note.issue else ""
        rows.append(
            (
                Button(f"Retry{number}", button_data(task_id, "retry")),
                Button(f"Close{number} as not planned", button_data(task_id, "close")),
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How the long-running bot paces notifications (cron ticks send whatever is pending)."""

    quiet: timedelta = timedelta(seconds=3)  # wait this long after the newest note of a burst
    max_wait: timedelta = timedelta(seconds=30)  # but never longer than this after its first
    min_gap: timedelta = timedelta(seconds=30)  # and leave this long between flushes


def due(
    times: Sequence[datetime], now: datetime, last_sent: datetime | None, pacing: Pacing = Pacing()
) -> bool:
    """Return whether pending notes should go out now: the burst is over, or has waited long enough.

    A storm therefore yields at most a message every `min_gap`, however many notes it brings.
    """
    if not times:
        return False
    if now - min(times) >= pacing.max_wait:
        return True
    if last_sent is not None and now - last_sent < pacing.min_gap:
        return False
    return now - max(times) >= pacing.quiet


@dataclass(frozen=True, slots=True)
class MessageBatch:
    """The messages for one outbox batch; `sent` of them already went out (a resumed flush)."""

    messages: tuple[Message, ...]
    sent: int
    extent: tuple[int, int, int]  # the outbox's (inode, start, end) these messages cover

"""Gather one task's page: its task file, its row of the outcome ledger and its war-room record.

The war-room record (runtime/rooms/<task-id>/: lifecycle, result, prompt, the channel's last
lines) is read only when asked for: a static copy leaves it out unless `--include-rooms`. Like
collect.py it reads without writing (a damaged lifecycle.json is a note, never set aside).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orchestrator.config.model import Config
from orchestrator.core.lifecycle import from_dict
from orchestrator.core.tasks import MailboxState, Task, parse_id
from orchestrator.dashboard import events, figures
from orchestrator.dashboard.collect import UNREADABLE, say
from orchestrator.dashboard.listing import is_task_id
from orchestrator.dashboard.series import money
from orchestrator.store import ledger, mailbox, rooms

CHANNEL_LINES = 200  # the channel's last lines shown
MAX_TEXT = 100_000  # characters of a prompt or result shown


@dataclass(frozen=True, slots=True)
class LifecycleMove:
    """One move of the task's lifecycle."""

    state: str
    at: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChannelLine:
    """One line of the room's channel."""

    ts: str
    source: str
    event: str
    detail: str


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """Everything a task's page shows."""

    task_id: str
    repo_key: str
    issue: int
    title: str  # from its task file ('' when the mailbox has none)
    state: str  # its mailbox folder ('' when none)
    facts: tuple[tuple[str, str], ...]  # (label, value), from the task file and the ledger
    room_included: bool
    moves: tuple[LifecycleMove, ...] = ()
    result: str | None = None
    prompt: str | None = None
    channel: tuple[ChannelLine, ...] = ()
    notes: tuple[str, ...] = ()


def task_record(config: Config, task_id: str, *, include_room: bool) -> TaskRecord | None:
    """Return a task's page, or None when nothing (mailbox, ledger, room) knows the task."""
    parsed = parse_id(task_id) if is_task_id(task_id) else None
    if parsed is None:
        return None
    notes: list[str] = []
    state, task = _task_file(config.paths.mailbox_dir, task_id, notes)
    row = _row(config, task_id, notes)
    room = config.paths.rooms_dir / task_id
    has_room = room.is_dir()
    if state == "" and row is None and not has_room:
        return None
    facts = _facts(task, row)
    record = TaskRecord(
        task_id=task_id,
        repo_key=parsed[0],
        issue=parsed[1],
        title=task.title if task is not None else "",
        state=state,
        facts=facts,
        room_included=include_room,
    )
    if not include_room or not has_room:
        return replace(record, notes=tuple(notes))
    return replace(
        record,
        moves=_moves(room, notes),
        result=_text(room / rooms.RESULT, notes),
        prompt=_text(room / rooms.PROMPT, notes),
        channel=_channel(room / rooms.CHANNEL),
        notes=tuple(notes),
    )


def _task_file(root: Path, task_id: str, notes: list[str]) -> tuple[str, Task | None]:
    for state in MailboxState:
        path = root / state.value / f"{task_id}.md"
        try:
            return state.value, mailbox.parse(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            notes.append(f"The task file could not be read: {say(exc)}")
            return state.value, None
    return "", None


def _row(config: Config, task_id: str, notes: list[str]) -> dict[str, Any] | None:
    try:
        db = figures.connect(config.paths.runtime_dir / ledger.FILE_NAME)
    except UNREADABLE as exc:
        notes.append(f"The outcome ledger could not be read: {say(exc)}")
        return None
    try:
        return figures.task_row(db, task_id)
    except UNREADABLE as exc:
        notes.append(f"The outcome ledger could not be read: {say(exc)}")
        return None
    finally:
        db.close()


def _facts(task: Task | None, row: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    facts: list[tuple[str, str]] = []
    if task is not None:
        facts += [
            ("Repo", task.repo),
            ("Task type", task.task_type.value),
            ("Attempt", f"{task.attempt} of {task.max_attempts} (dispatch {task.generation})"),
            ("Agent chain", ", ".join(task.chain) or "–"),
            ("Branch", f"{task.branch} → {task.base}"),
            ("Queued because", task.reason or "–"),
        ]
    if row is not None:
        cost = row.get("cost_usd")
        estimated = " (estimated from tokens)" if row.get("cost_estimated") else ""
        facts += [
            ("Agents that ran", str(row.get("agents") or "–")),
            ("Model", str(row.get("model") or "–")),
            (
                "Tokens in / out",
                f"{row.get('input_tokens') or 0:,} / {row.get('output_tokens') or 0:,}",
            ),
            ("Cost", money(cost if isinstance(cost, (int, float)) else None) + estimated),
            ("Lifecycle state", str(row.get("state") or "–")),
            ("Queued", _time(row.get("queued_at"))),
            ("Started", _time(row.get("started_at"))),
            ("In review", _time(row.get("review_at"))),
            ("Judged", _time(row.get("judged_at"))),
            (
                "Judgement",
                " ".join(str(row.get(k) or "") for k in ("next", "reason")).strip() or "–",
            ),
            ("Failure", str(row.get("failure") or "–")),
            ("Pull request", f"#{row['pr']}" if isinstance(row.get("pr"), int) else "–"),
        ]
    return tuple(facts)


def _time(value: object) -> str:
    return str(value).replace("T", " ").removesuffix("Z")[:19] + " UTC" if value else "–"


def _moves(room: Path, notes: list[str]) -> tuple[LifecycleMove, ...]:
    try:
        found = from_dict(json.loads((room / rooms.LIFECYCLE).read_bytes()))
    except FileNotFoundError:
        return ()
    except UNREADABLE as exc:
        notes.append(f"The lifecycle record could not be read: {say(exc)}")
        return ()
    return tuple(
        LifecycleMove(e.state.value, e.at.strftime("%Y-%m-%d %H:%M:%S UTC"), e.reason)
        for e in found.history
    )


def _text(path: Path, notes: list[str]) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(f"{path.name} could not be read: {say(exc)}")
        return None
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n… (cut here)"


def _channel(path: Path) -> tuple[ChannelLine, ...]:
    """The channel's last lines, oldest first; a torn or damaged line is left out."""
    found = []
    for raw in events.backwards(path):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            continue
        shown = {k: v for k, v in data.items() if k not in ("source", "agent")}
        found.append(
            ChannelLine(
                str(data.get("ts", "")),
                str(data.get("agent") or data.get("source") or ""),
                str(data["event"]),
                events.detail(shown, value=300, total=600),
            )
        )
        if len(found) >= CHANNEL_LINES:
            break
    return tuple(reversed(found))

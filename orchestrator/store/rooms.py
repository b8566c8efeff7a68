"""The war-room record of a task: runtime/rooms/<task-id>/ and the files in it.

    prompt.md       what the agent was given (redacted)
    channel.jsonl   every agent and orchestrator event, one JSON line each, appended under flock
    lifecycle.json  state and the timestamp of every move (core.lifecycle validates them)
    result.md       the agent's result contract, as the orchestrator recorded it
    heartbeat       rewritten by the worker while it runs: a dead worker shows as a stale beat

Every file is written atomically and every string redacted; the record outlives the worktree.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.core.lifecycle import (
    Lifecycle,
    State,
    advance,
    from_dict,
    restart,
    start,
    to_dict,
)
from orchestrator.core.redact import redact, redact_all
from orchestrator.core.tasks import parse_id
from orchestrator.core.worktree import is_valid_key
from orchestrator.store import quarantine
from orchestrator.store.files import append_line, atomic_write, read_state

PROMPT, CHANNEL, LIFECYCLE, RESULT, HEARTBEAT = (
    "prompt.md",
    "channel.jsonl",
    "lifecycle.json",
    "result.md",
    "heartbeat",
)
MAX_FIELD = 20_000  # characters of one string field of a channel event
Clock = Callable[[], datetime]
Sink = Callable[[Mapping[str, Any]], None]  # what agent backends call with each event they see


def utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Room:
    """One task's record folder; safe to use from several processes at once."""

    def __init__(self, rooms_dir: Path, task_id: str, clock: Clock = utcnow) -> None:
        if not is_valid_key(task_id):
            raise ValueError(f"invalid task id {task_id!r}")
        self.task_id, self.path, self.clock = task_id, rooms_dir / task_id, clock

    def write_prompt(self, text: str) -> Path:
        """Record the prompt the agent gets (redacted).

        Return its path, for backends that read a file.
        """
        self._replace(PROMPT, redact(text))
        return self.path / PROMPT

    def write_result(self, text: str) -> None:
        """Record the result contract (redacted)."""
        self._replace(RESULT, redact(text))

    def record(self, event: str, source: str = "orchestrator", **fields: Any) -> None:
        """Append one event line to channel.jsonl: `ts`, `source`, `event`, then the fields."""
        self._write(event, source, fields)

    def sink(self, agent: str) -> Sink:
        """Return the callback an agent backend's events go through into this channel.

        Each event is a mapping whose `type` names it (`tool.called`, `agent.message`, … as
        core.agent's `event_record` gives them); its other keys become the line's fields.
        """

        def emit(data: Mapping[str, Any]) -> None:
            fields = {k: v for k, v in data.items() if k != "type"}
            self._write(str(data.get("type") or "output.line"), "agent", {"agent": agent, **fields})

        return emit

    def _write(self, event: str, source: str, fields: Mapping[str, Any]) -> None:
        head = {"ts": _stamp(self.clock()), "source": source, "event": event}
        line = {**head, **{k: v for k, v in redact_all(fields, MAX_FIELD).items() if k not in head}}
        text = json.dumps(line, ensure_ascii=False, default=str)
        try:
            append_line(self.path / CHANNEL, text)
        except IsADirectoryError:  # a directory where the channel belongs
            self._set_aside(CHANNEL)
            append_line(self.path / CHANNEL, text)

    def _replace(self, name: str, data: str) -> None:
        """Write one of the room's files atomically; a directory in its place is set aside."""
        try:
            atomic_write(self.path / name, data)
        except IsADirectoryError:
            self._set_aside(name)
            atomic_write(self.path / name, data)

    def _set_aside(self, name: str) -> None:
        quarantine.set_aside(self.path / name, self.path.parent.parent, f"{name} is not a file")

    # -- lifecycle ---------------------------------------------------------------------------------
    def lifecycle(self) -> Lifecycle | None:
        """Return the recorded lifecycle, or None before the first move (or once set aside)."""
        return self._lifecycle()[0]

    def _lifecycle(self) -> tuple[Lifecycle | None, bool]:
        """Return the recorded lifecycle and whether a damaged one was just set aside."""
        path = self.path / LIFECYCLE
        try:
            return from_dict(json.loads(read_state(path))), False
        except FileNotFoundError:
            return None, False
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            reason = f"unreadable lifecycle ({type(exc).__name__})"
            quarantine.set_aside(path, self.path.parent.parent, reason)
            return None, True

    def transition(self, to: State, reason: str = "", at: datetime | None = None) -> Lifecycle:
        """Move the task to `to`, write it and note it in the channel.

        InvalidTransition if the move is not allowed.
        """
        from filelock import FileLock

        at, reason = at or self.clock(), redact(reason)
        self.path.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path / ".lifecycle.lock")):
            current, damaged = self._lifecycle()
            if damaged:  # its moves are lost: begin the record again where the task is now
                moved = restart(self.task_id, to, at, f"{reason} (record restarted)".lstrip())
            else:
                base = current or start(self.task_id, at, reason if to is State.QUEUED else "")
                moved = advance(base, to, at, reason)
                current = base
            if moved is not current or not (self.path / LIFECYCLE).exists():
                self._replace(LIFECYCLE, json.dumps(to_dict(moved), indent=2) + "\n")
                self.record("lifecycle.changed", state=to.value, reason=reason)
        return moved

    # -- heartbeat ---------------------------------------------------------------------------------
    def beat(self, pid: int | None = None) -> None:
        """Say the worker is alive now: this process, or `pid` (a supervisor's fresh child)."""
        payload = {
            "at": self.clock().isoformat(),
            "pid": pid or os.getpid(),
            "host": socket.gethostname(),
        }
        self._replace(HEARTBEAT, json.dumps(payload) + "\n")

    def heartbeat(self) -> datetime | None:
        """Return the last beat, or None if the worker never beat."""
        return read_heartbeat(self.path)

    def heartbeat_age(self, now: datetime) -> float | None:
        """Seconds since the last beat (None: no beat yet).

        Stall detection compares this to its limit.
        """
        last = self.heartbeat()
        return None if last is None else (now - last).total_seconds()

    @contextmanager
    def beating(self, interval: float = 15.0) -> Iterator[None]:
        """Beat now and every `interval` seconds in a background thread until the block ends."""
        stop = threading.Event()
        self.beat()

        def loop() -> None:
            while not stop.wait(interval):
                self.beat()

        thread = threading.Thread(target=loop, name=f"heartbeat-{self.task_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def heartbeat_pid(path: Path) -> int | None:
    """Return the pid the last beat came from (on this host), or None."""
    try:
        data = json.loads(read_state(path / HEARTBEAT))
    except (OSError, ValueError):  # none yet, torn, or not a file: no beat
        return None
    pid = data.get("pid") if isinstance(data, dict) else None
    same_host = isinstance(data, dict) and data.get("host") == socket.gethostname()
    return pid if isinstance(pid, int) and same_host else None


def read_heartbeat(path: Path) -> datetime | None:
    try:
        data = json.loads(read_state(path / HEARTBEAT))
        beat = datetime.fromisoformat(data["at"])
    except (OSError, ValueError, KeyError, TypeError):  # none yet, torn, or not a file: no beat
        return None
    return beat if beat.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room read back: for /why, the demo's summary and the PR monitor."""

    task_id: str
    path: Path
    prompt: str | None
    events: tuple[dict[str, Any], ...]
    lifecycle: Lifecycle | None
    result: str | None
    heartbeat: datetime | None


def read(rooms_dir: Path, task_id: str, *, last_events: int | None = None) -> RoomRecord:
    """Read a room back; missing files come back as None (or no events), a torn line is skipped."""
    room = Room(rooms_dir, task_id)
    return RoomRecord(
        task_id,
        room.path,
        _text(room.path / PROMPT),
        _events(room.path / CHANNEL, last_events),
        room.lifecycle(),
        _text(room.path / RESULT),
        room.heartbeat(),
    )


def _text(path: Path) -> str | None:
    """Return a record file's text (bytes that are not UTF-8 replaced); None if unreadable."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:  # missing, or not a file
        return None


def _events(path: Path, last: int | None) -> tuple[dict[str, Any], ...]:
    events = []
    try:
        with path.open("rb") as f:
            for raw in f:
                try:
                    event = json.loads(raw)
                except ValueError:  # a line torn by a full disk, or bytes that are not UTF-8
                    continue
                if isinstance(event, dict):
                    events.append(event)
    except OSError:  # missing, or not a file
        return ()
    return tuple(events[-last:] if last else events)


def room_ids(rooms_dir: Path) -> list[str]:
    """Return the task ids that have a room, sorted."""
    try:
        return sorted(e.name for e in os.scandir(rooms_dir) if e.is_dir() and is_valid_key(e.name))
    except FileNotFoundError:
        return []


def earlier_results(
    rooms_dir: Path, task_id: str, limit: int = 2, *, same_generation: bool = False
) -> list[tuple[str, str]]:
    """Return (task id, result.md) of the latest `limit` earlier attempts at the same issue.

    Oldest first; only this dispatch's attempts with `same_generation`.
    """
    this = parse_id(task_id)
    if this is None:
        return []
    earlier = []
    for other in room_ids(rooms_dir):
        parsed = parse_id(other)
        if (
            parsed
            and parsed[:2] == this[:2]
            and parsed[2:] < this[2:]
            and (not same_generation or parsed[2] == this[2])
        ):
            text = _text(rooms_dir / other / RESULT)
            if text is not None:
                earlier.append((parsed[2:], other, text))
    earlier.sort()
    return [(other, text) for _, other, text in earlier[-limit:]] if limit > 0 else []

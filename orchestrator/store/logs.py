"""The JSONL event log: one line per event in runtime/logs/<job>.jsonl, plus a short stderr line."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.core.redact import redact, redact_all
from orchestrator.store.files import append_line

# LogRecord attributes that are not event fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_MAX_FIELD = 2000
_MAX_TRACEBACK = 8000
FINISH_EVENTS = ("run.finished", "run.crashed", "run.unauthorized")


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields a record carries through `extra=`, redacted and trimmed."""
    return {
        key: redact_all(value, _MAX_TRACEBACK if key == "traceback" else _MAX_FIELD)
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: ts, level, job, run_id, event, then the fields."""

    def __init__(self, job: str, run_id: str) -> None:
        super().__init__()
        self.job, self.run_id = job, run_id

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        head = {
            "ts": ts[:-4] + "Z",
            "level": record.levelname.lower(),
            "job": self.job,
            "run_id": self.run_id,
            "event": redact(record.getMessage()),
        }
        return json.dumps({**head, **event_fields(record)}, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """Render a record as `job event key=value ...` for stderr (and so for cron's log file)."""

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job

    def format(self, record: logging.LogRecord) -> str:
        fields = event_fields(record)
        fields.pop("traceback", None)
        pairs = " ".join(f"{k}={v}" for k, v in fields.items())
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        return f"{stamp} {self.job} {redact(record.getMessage())} {pairs}".rstrip()


class JsonlHandler(logging.Handler):
    """Append each record to the job's JSONL file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            append_line(self.path, self.format(record))
        except Exception:  # a full disk must not crash the job; logging reports it on stderr
            self.handleError(record)


def event_log(logs_dir: Path, job: str) -> Path:
    return logs_dir / f"{job}.jsonl"


def setup(logs_dir: Path, job: str, run_id: str, *, stderr: bool = True) -> logging.Logger:
    """Return the `agentos` logger writing this run's events to the job's log (and stderr)."""
    logger = logging.getLogger("agentos")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    jsonl = JsonlHandler(event_log(logs_dir, job))
    jsonl.setFormatter(JsonFormatter(job, run_id))
    logger.addHandler(jsonl)
    if stderr:
        human = logging.StreamHandler(sys.stderr)
        human.setFormatter(HumanFormatter(job))
        logger.addHandler(human)
    return logger


def last_event(path: Path, events: tuple[str, ...] = FINISH_EVENTS) -> dict[str, Any] | None:
    """Return the newest event of the given kinds, reading the file backwards in blocks."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return None
    with f:
        end = f.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            tail = f.read(end - start) + tail
            lines = tail.split(b"\n")
            tail = lines[0] if start > 0 else b""
            for raw in reversed(lines[1:] if start > 0 else lines):
                found = _match(raw, events)
                if found is not None:
                    return found
            end = start
    return None


def _match(raw: bytes, events: tuple[str, ...]) -> dict[str, Any] | None:
    if not raw.strip() or not any(e.encode() in raw for e in events):
        return None
    try:
        record = json.loads(raw)
    except ValueError:  # a line torn by a full disk: skip it
        return None
    return record if isinstance(record, dict) and record.get("event") in events else None

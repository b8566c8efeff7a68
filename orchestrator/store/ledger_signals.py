"""The ledger's `signals`: one row per thing that went wrong, from the logs as they were written.

| kind | from | signature of |
|---|---|---|
| job_crashed | `run.crashed`, any job log | the job and the first line of `error` |
| escalated | `task.escalated`, any job log | `reason` |
| task_failed | `attempt.judged` (next not `open_pr`), a room | the task row's failure signature |
| worker_recovered | `task.recovered`, the job log (not the room's copy) | `reason` |
| quota | `cooldown.started`, a room | `backend` and `reason` |
| github_error | GITHUB_ERRORS below (`run.unauthorized` of service github only) | event, `error` |
| gate_refused | `gate.refused` (code not `canary_tripped`), a room | `code` and `rules` |
| canary | `security.canary_tripped`, a job log | `code` and `places` |
| (the line's) | `signal.received`, runtime/logs/signals.jsonl | as given |

The repo key comes from the task id when there is one, else from the line's `repo` (a repo key,
or "owner/name" mapped through the config's repos, else kept as written), else ''. The detail is
at most 300 characters of the line's own words (already redacted when the line was written).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from orchestrator.core.evidence import as_int, clip_detail
from orchestrator.core.signatures import signature
from orchestrator.core.tasks import parse_id

GITHUB_ERRORS = (
    "board.unreadable",
    "pulls.unreadable",
    "pr.failed",
    "board.update_failed",
    "comment.failed",
    "run.unauthorized",
)
CANARY_CODE = "canary_tripped"  # a gate refusal of this code is the job log's `canary` signal


def add(
    db: sqlite3.Connection,
    *,
    ts: str,
    repo_key: str,
    kind: str,
    signature: str,
    task_id: str | None = None,
    issue: int | None = None,
    detail: str = "",
) -> None:
    """Insert one signal."""
    db.execute(
        "INSERT INTO signals (ts, repo_key, kind, signature, task_id, issue, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ts, repo_key, kind, signature, task_id or None, issue, clip_detail(detail)),
    )


def task_failed(db: sqlite3.Connection, task_id: str, ts: str) -> None:
    """A judged attempt that failed: its signature and failure as the task row has them."""
    row = db.execute(
        "SELECT repo_key, issue, signature, failure, reason FROM tasks WHERE task_id = ?",
        (task_id,),
    ).fetchone()
    if row is None or not row[2]:
        return
    repo_key, issue, sig, failure, reason = row
    add(
        db,
        ts=ts,
        repo_key=repo_key,
        kind="task_failed",
        signature=sig,
        task_id=task_id,
        issue=issue,
        detail=_telling(failure) or reason or "",
    )


_ERROR = re.compile(r"\b\w*(Error|Exception)\b")  # ModuleNotFoundError: ..., a Go "panic" not
_TELLING = re.compile(r"error|exception|assert|fail|refused|denied|timed? ?out", re.IGNORECASE)


def _telling(failure: str | None) -> str:
    """Return the failure with its telling line first: the error, not the command that ran.

    A test run's failure is its command line and then the output's tail; the excerpt an incident
    quotes (and its title) should start with the last line that names an error.
    """
    lines = [line.strip() for line in (failure or "").splitlines() if line.strip()]
    telling = [line for line in lines[1:] if _ERROR.search(line)] or [
        line for line in lines[1:] if _TELLING.search(line)
    ]
    if not telling:
        return "\n".join(lines)
    first = telling[-1]
    return "\n".join([first, *(line for line in lines if line != first)])


def quota(db: sqlite3.Connection, task_id: str, event: Mapping[str, Any]) -> None:
    backend, reason = text(event.get("backend")), text(event.get("reason"))
    _room_signal(db, task_id, event, "quota", f"{backend} {reason}", f"{backend}: {reason}")


def gate_refused(db: sqlite3.Connection, task_id: str, event: Mapping[str, Any]) -> None:
    code = text(event.get("code"))
    if code == CANARY_CODE:
        return
    rules = sorted({text(r) for r in _items(event.get("rules"))})
    places = ", ".join(text(p) for p in _items(event.get("places")))
    said = f"{code}: {', '.join(rules)}" + (f" in {places}" if places else "")
    _room_signal(db, task_id, event, "gate_refused", f"{code} {' '.join(rules)}", said)


def _room_signal(
    db: sqlite3.Connection,
    task_id: str,
    event: Mapping[str, Any],
    kind: str,
    words: str,
    detail: str,
) -> None:
    parsed = parse_id(task_id)
    add(
        db,
        ts=text(event.get("ts")),
        repo_key=parsed[0] if parsed else "",
        kind=kind,
        signature=signature(kind, words),
        task_id=task_id,
        issue=parsed[1] if parsed else None,
        detail=detail,
    )


def from_log(
    db: sqlite3.Connection, repo_keys: Mapping[str, str], job: str, event: Mapping[str, Any]
) -> None:
    """Insert the signal a job log's line makes, if it makes one."""
    found = _log_signal(text(event.get("job")) or job, event)
    if found is None:
        return
    kind, sig, detail = found
    key = text(event.get("key"))
    seen = "INSERT OR IGNORE INTO signal_keys (key) VALUES (?)"
    if key and not db.execute(seen, (key,)).rowcount:
        return  # a source's line recorded twice (a kill before its cursor moved) counts once
    task_id = text(event.get("task_id"))
    parsed = parse_id(task_id)
    issue = as_int(event.get("issue"))
    add(
        db,
        ts=text(event.get("ts")),
        repo_key=repo_key_of(repo_keys, task_id, event.get("repo") or event.get("repo_key")),
        kind=kind,
        signature=sig,
        task_id=task_id if parsed else None,
        issue=issue if issue is not None or parsed is None else parsed[1],
        detail=detail,
    )


def _log_signal(job: str, event: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """Return (kind, signature, detail) of a job log's line, or None when it is no signal."""
    name = text(event.get("event"))
    error = text(event.get("error"))
    if name == "run.crashed":
        first = error.strip().splitlines()[0] if error.strip() else ""
        return "job_crashed", signature("job_crashed", f"{job}\n{first}"), f"{job}: {first}"
    if name in ("task.escalated", "task.recovered"):
        kind = "escalated" if name == "task.escalated" else "worker_recovered"
        reason = text(event.get("reason"))
        deaths = as_int(event.get("deaths"))
        said = reason if deaths is None else f"{reason} (death {deaths})"
        return kind, signature(kind, reason), said
    if name in GITHUB_ERRORS:
        if name == "run.unauthorized" and text(event.get("service")) not in ("", "github"):
            return None  # Telegram's refusal is no GitHub error
        return "github_error", signature("github_error", f"{name} {error}"), f"{name}: {error}"
    if name == "security.canary_tripped":
        code = text(event.get("code"))
        places = ", ".join(text(p) for p in _items(event.get("places")))
        return "canary", signature("canary", f"{code} {places}"), f"{code}: {places}"
    if name == "signal.received":
        kind = text(event.get("kind")) or "source"
        detail, source = text(event.get("detail")), text(event.get("source"))
        sig = text(event.get("signature")) or signature(kind, f"{source}\n{detail}")
        return kind, sig, f"{source}: {detail}" if source else detail
    return None


def repo_key_of(repo_keys: Mapping[str, str], task_id: str, repo: object) -> str:
    """The repo key: the task id's, else the line's repo (mapped when "owner/name"), else ''."""
    parsed = parse_id(task_id) if task_id else None
    if parsed is not None:
        return parsed[0]
    name = text(repo)
    return repo_keys.get(name, name)


def _items(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    return [] if value is None or value == "" else [value]


def text(value: object) -> str:
    """A field as text: '' for an absent one."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

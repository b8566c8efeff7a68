"""Applying one event line to the ledger's rows: a room's channel line, or a job log's line.

A room (runtime/rooms/<task-id>/channel.jsonl) makes its task's row: lifecycle times, task type,
agents, tokens and cost, the failure and its signature, the judgement, the PR; and the signals
of what went wrong in it (`store.ledger_signals`). A job log (runtime/logs/<job>.jsonl, any job)
makes the merges, the reverts, the incidents, when an issue was first queued, which tasks fixed
a PR, and the signals of the jobs' own failures.

Cost: a backend that reports its cost (claude) is taken at its word; for one that reports only
tokens (codex, anthropic) each `usage.reported` is priced by the model its session named (or the
backend's configured model) in the price table, and the row is marked `cost_estimated`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.core.evidence import DEFAULT_PRICES, Price, as_int, price_for
from orchestrator.core.signatures import signature
from orchestrator.core.tasks import TaskType, parse_id
from orchestrator.store import ledger_signals
from orchestrator.store.ledger_signals import as_number, text

# lifecycle state -> the column that keeps when the attempt first entered it
_ENTERED = {"developing": "started_at", "review": "review_at"}
_ENDS = ("passed", "failed")
_FAILURES = ("tests.finished", "task.crashed", "gate.refused", "push.rejected")
_TYPES = {t.value for t in TaskType}


@dataclass(frozen=True, slots=True)
class Reading:
    """What turns lines into rows besides the lines: prices, models, repo keys."""

    prices: Mapping[str, Price] = field(default_factory=lambda: DEFAULT_PRICES)
    models: Mapping[str, str] = field(default_factory=dict)  # backend name -> configured model
    repo_keys: Mapping[str, str] = field(default_factory=dict)  # "owner/name" -> repo key


def apply_room(
    db: sqlite3.Connection, reading: Reading, task_id: str, event: dict[str, Any]
) -> None:
    """Apply one line of a task's channel."""
    if not add_task(db, task_id):
        return
    name, ts = event["event"], text(event.get("ts"))
    if name == "lifecycle.changed":
        _lifecycle(db, task_id, ts, text(event.get("state")))
    elif name == "worktree.prepared":
        kind = text(event.get("task_type"))
        if kind in _TYPES:
            db.execute("UPDATE tasks SET task_type = ? WHERE task_id = ?", (kind, task_id))
    elif name in ("attempt.started", "session.started", "usage.reported"):
        _run(db, reading, task_id, name, event)
    elif name == "chain.finished":
        _chain_finished(db, reading, task_id, event)
    elif name in _FAILURES:
        failure = _failure(name, event)
        if failure:  # the failure's own kind and words make its signature, not the verdict
            db.execute(
                "UPDATE tasks SET failure = ?, signature = ? WHERE task_id = ?",
                (failure, signature(name, failure), task_id),
            )
        if name == "gate.refused":
            ledger_signals.gate_refused(db, task_id, event)
    elif name == "attempt.judged":
        _judged(db, task_id, event)
    elif name == "pr.opened":
        db.execute(
            "UPDATE tasks SET pr = ? WHERE task_id = ?", (as_int(event.get("number")), task_id)
        )
    elif name == "cooldown.started":
        ledger_signals.quota(db, task_id, event)


def apply_log(db: sqlite3.Connection, reading: Reading, job: str, event: dict[str, Any]) -> None:
    """Apply one line of a job's event log."""
    name = event["event"]
    task_id = text(event.get("task_id"))
    if name == "pr.merged" and isinstance(as_int(event.get("pr")), int):
        db.execute(
            "INSERT OR IGNORE INTO merges (repo, pr, issue, sha, merged_at) VALUES (?, ?, ?, ?, ?)",
            (
                text(event.get("repo")),
                as_int(event.get("pr")),
                as_int(event.get("issue")),
                text(event.get("sha")),
                text(event.get("ts")),
            ),
        )
    elif name == "task.queued" and add_task(db, task_id):  # the issue's lead time starts here
        db.execute(
            "UPDATE tasks SET queued_at = coalesce(queued_at, ?), "
            "task_type = coalesce(task_type, ?) WHERE task_id = ?",
            (text(event.get("ts")), TaskType.IMPLEMENTATION.value, task_id),
        )
    elif name == "pr.fixing" and add_task(db, task_id):
        db.execute(
            "UPDATE tasks SET task_type = coalesce(task_type, ?) WHERE task_id = ?",
            (TaskType.FIXING.value, task_id),
        )
    elif name == "change.reverted":
        _reverted(db, event)
    elif name.startswith("incident."):
        _incident(db, name, event)
    else:
        ledger_signals.from_log(db, reading.repo_keys, job, event)


def add_task(db: sqlite3.Connection, task_id: str) -> bool:
    """Make the task's row if it has none; False for a name that is no task id."""
    parsed = parse_id(task_id)
    if parsed is None:
        return False
    db.execute(
        "INSERT OR IGNORE INTO tasks (task_id, repo_key, issue, generation, attempt) "
        "VALUES (?, ?, ?, ?, ?)",
        (task_id, *parsed),
    )
    return True


def _lifecycle(db: sqlite3.Connection, task_id: str, ts: str, state: str) -> None:
    column = _ENTERED.get(state)
    if column:
        db.execute(
            f"UPDATE tasks SET {column} = coalesce({column}, ?) WHERE task_id = ?", (ts, task_id)
        )
    ended = ts if state in _ENDS else None
    db.execute(
        "UPDATE tasks SET state = ?, ended_at = coalesce(?, ended_at) WHERE task_id = ?",
        (state, ended, task_id),
    )


def _run(
    db: sqlite3.Connection, reading: Reading, task_id: str, name: str, event: dict[str, Any]
) -> None:
    """Follow one backend's run inside a chain: which backend, which model, what each call cost."""
    db.execute("INSERT OR IGNORE INTO chains (task_id) VALUES (?)", (task_id,))
    if name == "attempt.started":
        db.execute(
            "UPDATE chains SET backend = ?, model = NULL WHERE task_id = ?",
            (text(event.get("backend")) or None, task_id),
        )
        return
    if name == "session.started":
        if text(event.get("model")):
            db.execute(
                "UPDATE chains SET model = ? WHERE task_id = ?", (text(event["model"]), task_id)
            )
        return
    usage = event.get("usage")
    if not isinstance(usage, dict):
        return
    backend, model = db.execute(
        "SELECT backend, model FROM chains WHERE task_id = ?", (task_id,)
    ).fetchone()
    cost, estimated = as_number(usage.get("cost_usd")), 0
    if cost is None:
        price = price_for(reading.prices, model or reading.models.get(backend or ""))
        if price is not None:
            tokens = (as_int(usage.get(k)) or 0 for k in _TOKENS)
            cost, estimated = price.cost(*tokens), 1
    db.execute(
        "UPDATE chains SET runs = runs + 1, estimated = max(estimated, ?), "
        "cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + ? END "
        "WHERE task_id = ?",
        (estimated if cost is not None else 0, cost, cost, task_id),
    )


_TOKENS = ("input_tokens", "output_tokens", "cached_input_tokens")


def _chain_finished(
    db: sqlite3.Connection, reading: Reading, task_id: str, event: dict[str, Any]
) -> None:
    """Add the chain's tokens and cost to its task: its calls' costs, or else its own total."""
    backend = text(event.get("backend")) or "-"
    tokens_in = as_int(event.get("input_tokens")) or 0
    tokens_out = as_int(event.get("output_tokens")) or 0
    row = db.execute(
        "SELECT runs, cost_usd, estimated, model FROM chains WHERE task_id = ?", (task_id,)
    ).fetchone()
    runs, cost, estimated, model = row if row is not None else (0, None, 0, None)
    if not runs:  # no call was reported one by one: the chain's total is all there is
        cost, estimated = as_number(event.get("cost_usd")), 0
        price = price_for(reading.prices, model or reading.models.get(backend))
        if cost is None and price is not None:
            cost, estimated = price.cost(tokens_in, tokens_out), 1
    db.execute(
        "UPDATE tasks SET agents = CASE WHEN agents = '' THEN ? ELSE agents || ',' || ? END, "
        "input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
        "cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + ? END, "
        "cost_estimated = max(cost_estimated, ?), model = coalesce(?, model) WHERE task_id = ?",
        (
            backend,
            backend,
            tokens_in,
            tokens_out,
            cost,
            cost,
            estimated if cost is not None else 0,
            model,
            task_id,
        ),
    )
    db.execute("DELETE FROM chains WHERE task_id = ?", (task_id,))


def _failure(name: str, event: dict[str, Any]) -> str:
    if name == "tests.finished":
        if event.get("passed"):
            return ""
        return f"{text(event.get('line'))}\n{text(event.get('tail'))}"[:4000]
    if name == "gate.refused":
        return f"{text(event.get('code'))} {text(event.get('rules'))}"
    return text(event.get("error"))[:4000]


def _judged(db: sqlite3.Connection, task_id: str, event: dict[str, Any]) -> None:
    nxt, reason, ts = text(event.get("next")), text(event.get("reason")), text(event.get("ts"))
    # a failure without words of its own (no test, crash or gate line) is signed by the verdict
    sig = None if nxt == "open_pr" else signature("verdict", reason)
    db.execute(
        "UPDATE tasks SET next = ?, reason = ?, judged_at = ?, "
        "signature = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(signature, ?) END "
        "WHERE task_id = ?",
        (nxt, reason, ts, sig, sig, task_id),
    )
    if sig is not None:
        ledger_signals.task_failed(db, task_id, ts)


def _reverted(db: sqlite3.Connection, event: dict[str, Any]) -> None:
    """A merged PR was reverted: the earliest revert of a PR is the one kept."""
    repo, pr = text(event.get("repo")), as_int(event.get("pr"))
    ts = text(event.get("at")) or text(event.get("ts"))  # when the revert landed, if known
    if not repo or pr is None:
        return
    db.execute(
        "INSERT INTO reverts (repo, pr, reverted_at, by_sha) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (repo, pr) DO UPDATE SET "
        "by_sha = CASE WHEN excluded.reverted_at < reverted_at THEN excluded.by_sha "
        "ELSE by_sha END, reverted_at = min(reverted_at, excluded.reverted_at)",
        (repo, pr, ts, text(event.get("by"))),
    )


_INCIDENT_UPSERT = """
INSERT INTO incidents (repo_key, issue, signature, kind, severity, first_seen, last_seen, count,
                       filed_at, reopened_at, updated_at)
VALUES (:repo_key, :issue, :signature, :kind, :severity, :first_seen, :last_seen, :count,
        :filed_at, :reopened_at, :ts)
ON CONFLICT (repo_key, issue) DO UPDATE SET
    signature = CASE WHEN :ts >= coalesce(updated_at, '') THEN :signature ELSE signature END,
    kind = CASE WHEN :ts >= coalesce(updated_at, '') THEN :kind ELSE kind END,
    severity = CASE WHEN :ts >= coalesce(updated_at, '') THEN :severity ELSE severity END,
    last_seen = CASE WHEN :ts >= coalesce(updated_at, '') THEN :last_seen ELSE last_seen END,
    count = CASE WHEN :ts >= coalesce(updated_at, '') THEN :count ELSE count END,
    first_seen = coalesce(min(first_seen, :first_seen), first_seen, :first_seen),
    filed_at = coalesce(min(filed_at, :filed_at), filed_at, :filed_at),
    reopened_at = coalesce(max(reopened_at, :reopened_at), reopened_at, :reopened_at),
    updated_at = max(coalesce(updated_at, ''), :ts)
"""


def _incident(db: sqlite3.Connection, name: str, event: dict[str, Any]) -> None:
    """An incident issue filed, updated, reopened or fixed; the newest line says what it is."""
    key, issue, ts = text(event.get("repo_key")), as_int(event.get("issue")), text(event.get("ts"))
    if not key or issue is None:
        return
    if name == "incident.fixed":
        fixed = text(event.get("merged_at")) or ts
        db.execute(
            "INSERT INTO incidents (repo_key, issue, signature, fixed_at, fixed_by_pr) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo_key, issue) DO UPDATE SET "
            "fixed_by_pr = CASE WHEN excluded.fixed_at >= coalesce(fixed_at, '') "
            "THEN excluded.fixed_by_pr ELSE fixed_by_pr END, "
            "fixed_at = max(coalesce(fixed_at, ''), excluded.fixed_at)",
            (key, issue, text(event.get("signature")), fixed, as_int(event.get("pr"))),
        )
        return
    if name not in ("incident.filed", "incident.updated", "incident.reopened"):
        return  # .skipped, .failed: nothing was filed
    values = {
        "repo_key": key,
        "issue": issue,
        "ts": ts,
        "signature": text(event.get("signature")),
        "kind": text(event.get("kind")),
        "severity": text(event.get("severity")),
        "first_seen": text(event.get("first_seen")) or None,
        "last_seen": text(event.get("last_seen")) or None,
        "count": as_int(event.get("count")) or 0,
        "filed_at": ts if name == "incident.filed" else None,
        "reopened_at": ts if name == "incident.reopened" else None,
    }
    db.execute(_INCIDENT_UPSERT, values)

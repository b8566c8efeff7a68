"""What Agent OS's own records say about a PR's head: who wrote it, whether its gate saw it, and
whether its tests ran on it.

- The authors: every backend that ran in an attempt of the PR's generation (`attempt.started` in
  the room's channel), with the model its session reported (`session.started`), else the model
  the config gives it. Known only now, at run time: the chain may have fallen back.
- The gate: the head is a commit Agent OS pushed (`branch.pushed` in the audit log, and a push
  happens only after the outbound gate passed: `delivery/attempt.py`), or a rebase it pushed of
  one (`branch.rebased`). Someone else's push never met the gate.
- The tests: the attempt that pushed the head recorded `tests.finished`, passed, for it.
- What the agents said (their results): where removing a test is owned up to.
- Who pushed it: the task whose `branch.pushed` names the head, and the backend that ran last in
  it (the agent the outcome ledger credits with that attempt: the risk tier's track record).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.config.model import Config
from orchestrator.core.audit import AuditEntry, parse
from orchestrator.core.tasks import parse_id
from orchestrator.core.verifier import Author
from orchestrator.errors import AuditError
from orchestrator.store import rooms
from orchestrator.store.audit import audit_dir, read_lines

PUSHED = ("branch.pushed", "branch.rebased")


@dataclass(frozen=True, slots=True)
class HeadRecord:
    """Agent OS's own record of a PR's head commit."""

    authors: tuple[Author, ...]
    through_gate: bool  # Agent OS pushed this commit (after its gate), or a rebase of one
    tested: str  # the line of Agent OS's passing test run on this very commit; "" if none
    results: str  # the agents' results of this generation, joined
    pusher: str = ""  # the task that pushed this very commit; "" if none did (a rebase, a person)
    pushed_by: str = ""  # the backend that ran last in that task's attempt; "" if unknown


def read(
    config: Config, repo_key: str, issue: int, generation: int, branch: str, sha: str
) -> HeadRecord:
    """Read the rooms of the PR's generation and the audit log's pushes of its head."""
    ids = [
        task_id
        for task_id in rooms.room_ids(config.paths.rooms_dir)
        if (parsed := parse_id(task_id)) and parsed[:3] == (repo_key, issue, generation)
    ]
    records = {task_id: rooms.read(config.paths.rooms_dir, task_id) for task_id in ids}
    authors: dict[Author, None] = {}
    for record in records.values():
        authors.update(dict.fromkeys(_authors(record.events, config)))
    pushes = [e for e in _pushes(config, sha) if e.fields.get("branch") == branch]
    pusher = next((str(e.fields.get("task")) for e in pushes if e.act == "branch.pushed"), "")
    pushed = records.get(pusher)
    ran = _authors(pushed.events, config) if pushed else []
    return HeadRecord(
        authors=tuple(authors),
        through_gate=bool(pushes),
        tested=_tested(pushed.events) if pushed else "",
        results="\n\n".join(r.result for r in records.values() if r.result),
        pusher=pusher,
        pushed_by=ran[-1].backend if ran else "",
    )


def _authors(events: tuple[dict[str, Any], ...], config: Config) -> list[Author]:
    """Return each backend run of one attempt, with the model its session reported."""
    found: list[Author] = []
    for event in events:
        name = event.get("event")
        if name == "attempt.started" and isinstance(event.get("backend"), str):
            backend = config.agents.backends.get(event["backend"])
            found.append(Author(event["backend"], backend.model if backend else None))
        elif name == "session.started" and found and isinstance(event.get("model"), str):
            found[-1] = Author(found[-1].backend, event["model"])
    return found


def _tested(events: tuple[dict[str, Any], ...]) -> str:
    """Return the line of the attempt's last test run when it passed, else ""."""
    runs = [e for e in events if e.get("event") == "tests.finished"]
    last = runs[-1] if runs else {}
    return str(last.get("line") or "tests passed") if last.get("passed") is True else ""


def _pushes(config: Config, sha: str) -> list[AuditEntry]:
    """Return the audit log's pushes and rebases of `sha` (none when there is no log)."""
    try:
        lines = read_lines(audit_dir(config.paths.runtime_dir))
    except AuditError:
        return []
    needle = sha.encode()
    found = [parse(line) for line in lines if needle in line]  # a cheap filter before JSON
    return [e for e in found if e is not None and e.act in PUSHED and e.fields.get("sha") == sha]

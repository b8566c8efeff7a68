"""The planner's state per repo: the last plan and its decision, and when to plan next.

One JSON file per repo key, `runtime/state/plans/<repo key>.json`, changed only through
`Plans.change` under a file lock (the planner job and the chat's button press both write it),
and written atomically. A file that cannot be read, or is not the shape written here, is set
aside in runtime/quarantine/ and the repo starts afresh: no plan waiting, the next one due.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from orchestrator.core.planning import Draft, SprintPick
from orchestrator.core.worktree import is_valid_key
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

PROPOSED, APPROVED, APPROVED_ONLY, SKIPPED, EXPIRED, APPLIED = (
    "proposed",
    "approved",
    "approved_without_new",
    "skipped",
    "expired",
    "applied",
)
DECIDED = (APPROVED, APPROVED_ONLY)  # waiting to be applied
STATES = (PROPOSED, APPROVED, APPROVED_ONLY, SKIPPED, EXPIRED, APPLIED)


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """One proposed sprint and what became of it."""

    id: str
    repo: str
    state: str
    created_at: str  # ISO, UTC
    expires_at: str
    picks: tuple[SprintPick, ...]
    drafts: tuple[Draft, ...]
    dropped: tuple[SprintPick, ...] = ()  # picked, but an open blocker was not
    planning_issue: int | None = None
    decided_by: str = ""
    decided_at: str = ""
    moved: tuple[int, ...] = ()  # applied so far: issues moved to Ready
    created: tuple[str, ...] = ()  # drafts filed so far, by title


@dataclass(frozen=True, slots=True)
class PlanState:
    """A repo's planner state."""

    plan: PlanRecord | None = None
    last_plan_at: str = ""  # when the last plan was proposed: the cadence counts from it
    failures: int = 0  # model failures in a row
    next_try: str = ""  # no model call before this (backoff)
    requested_by: str = ""  # `/plan`: plan at the next tick, whatever the cadence
    notes: dict[str, str] = field(default_factory=dict)  # what was said once (expiry, ...)


class Plans:
    """The plan files of every repo."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / "plans"

    def read(self, repo_key: str) -> PlanState:
        """Return the repo's state (a fresh one when there is none or it was damaged)."""
        path = self._path(repo_key)
        try:
            return _state(json.loads(read_state(path)))
        except FileNotFoundError:
            return PlanState()
        except (OSError, ValueError, TypeError, KeyError) as exc:
            quarantine.set_aside(
                path, self.folder.parent.parent, f"unreadable plan ({type(exc).__name__})"
            )
            return PlanState()

    def change(self, repo_key: str, edit: Callable[[PlanState], PlanState]) -> PlanState:
        """Apply `edit` to the repo's state under the lock; write and return the result."""
        with self._locked(repo_key):
            state = edit(self.read(repo_key))
            atomic_write(self._path(repo_key), json.dumps(_plain(state), indent=1) + "\n")
            return state

    def find(self, plan_id: str) -> PlanState | None:
        """Return the state whose plan has this id, if any."""
        repo_key = plan_id.rsplit("-", 1)[0]
        if not is_valid_key(repo_key):
            return None
        state = self.read(repo_key)
        return state if state.plan is not None and state.plan.id == plan_id else None

    def _path(self, repo_key: str) -> Path:
        if not is_valid_key(repo_key):
            raise ValueError(f"unsafe repo key {repo_key!r}")
        return self.folder / f"{repo_key}.json"

    @contextmanager
    def _locked(self, repo_key: str) -> Iterator[None]:
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.folder / f".{repo_key}.lock"), timeout=30):
            yield


def decide(state: PlanState, plan_id: str, decision: str, who: str, at: str) -> PlanState:
    """Return the state with the plan decided, when it is the plan proposed and not yet decided."""
    plan = state.plan
    if plan is None or plan.id != plan_id or plan.state != PROPOSED:
        return state
    return replace(state, plan=replace(plan, state=decision, decided_by=who, decided_at=at))


def _plain(state: PlanState) -> dict[str, Any]:
    return asdict(state)


def _state(data: Any) -> PlanState:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    plan = data.get("plan")
    notes = data.get("notes") or {}
    if not isinstance(notes, dict):
        raise ValueError("notes is not an object")
    return PlanState(
        plan=None if plan is None else _plan(plan),
        last_plan_at=str(data.get("last_plan_at") or ""),
        failures=int(data.get("failures") or 0),
        next_try=str(data.get("next_try") or ""),
        requested_by=str(data.get("requested_by") or ""),
        notes={str(k): str(v) for k, v in notes.items()},
    )


def _plan(data: Any) -> PlanRecord:
    if not isinstance(data, dict) or data.get("state") not in STATES:
        raise ValueError("not a plan")
    issue = data.get("planning_issue")
    return PlanRecord(
        id=str(data["id"]),
        repo=str(data["repo"]),
        state=str(data["state"]),
        created_at=str(data["created_at"]),
        expires_at=str(data["expires_at"]),
        picks=tuple(_pick(p) for p in data.get("picks") or ()),
        drafts=tuple(_draft(d) for d in data.get("drafts") or ()),
        dropped=tuple(_pick(p) for p in data.get("dropped") or ()),
        planning_issue=None if issue is None else int(issue),
        decided_by=str(data.get("decided_by") or ""),
        decided_at=str(data.get("decided_at") or ""),
        moved=tuple(int(n) for n in data.get("moved") or ()),
        created=tuple(str(t) for t in data.get("created") or ()),
    )


def _pick(data: Any) -> SprintPick:
    return SprintPick(int(data["issue"]), str(data["reason"]), str(data["objective"]))


def _draft(data: Any) -> Draft:
    return Draft(
        str(data["title"]),
        str(data["goal"]),
        tuple(str(c) for c in data["success_criteria"]),
        tuple(str(c) for c in data["constraints"]),
        str(data["objective"]),
    )

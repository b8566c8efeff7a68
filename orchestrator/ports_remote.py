"""The Protocols of remote executors (docs/scale-out.md): where an attempt's agent runs when it is
not this machine, and the refs and patches that carry its work across."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from orchestrator.core.remote import Parcel, RemoteRun, RemoteTask, RunState
from orchestrator.core.workspace import Workspace


class Executor(Protocol):
    """Where an attempt's agent runs if not here (docs/scale-out.md): only a task id, a start
    commit and a ref cross to the engine; the parcel that comes back is judged at home."""

    @property
    def name(self) -> str: ...
    @property
    def slots(self) -> int: ...
    def start(self, task: RemoteTask) -> RemoteRun:
        """Start the run (the prompt already on `task.task_ref`); ExecutorError if refused."""

    def find(self, task_id: str, start: str) -> RemoteRun | None:
        """Return the run an earlier `start` made for this task from `start`, or None."""

    def state(self, run: RemoteRun) -> RunState:
        """Return where it is (VANISHED when unknown); ExecutorError when it cannot be asked."""

    def collect(self, run: RemoteRun) -> Parcel:
        """Return what a SUCCEEDED run handed back (an empty parcel when it left nothing)."""

    def stop(self, run: RemoteRun) -> None:
        """Cancel the run; one over or gone is a no-op."""

    def release(self, run: RemoteRun) -> None:
        """Delete what the collected run left on the engine (best effort)."""


class TaskRefs(Protocol):
    """Task refs for remote runs (`refs/agentos/tasks/<id>`), and their patches applied here."""

    def publish(self, ws: Workspace, ref: str, files: Mapping[str, bytes]) -> str:
        """Commit `files` as a tree on the worktree's start commit, force-push it to `ref`."""

    def apply(self, ws: Workspace, patch: bytes) -> tuple[str, ...]:
        """Apply a binary patch in the worktree, all or nothing; WorktreeError if git refuses."""

    def drop(self, repo_key: str, ref: str) -> None:
        """Delete `ref` on origin; a missing one is a no-op."""

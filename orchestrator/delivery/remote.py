"""An attempt's agent run by a remote executor, behind the same Agent port as a local backend.

    push the prompt on refs/agentos/tasks/<id> → start the run (or adopt the one already under
    way) → wait, asking every `poll_seconds` → collect the parcel → apply its patch to the
    worktree at home, its result contract beside it

What comes back is then judged exactly as a local run's files are: the chain reads the contract,
the attempt commits the files, the outbound gate checks them (the canary too), the repo's tests
run, and only then is anything pushed. The remote side never holds a token that can push.

A run is written down in the room (store/remote_runs.py) as soon as it starts. With `park` (as
the attempt runs it), the worker does not wait: once the run is under way it raises Parked and
leaves, the task stays in processing/, and the queue supervisor follows the run
(jobs/remote_follow.py) and starts a worker again when it is over, which adopts it and collects.
A worker killed while waiting is likewise replaced by one that follows the same run. A run the
engine no longer knows raises RunVanished: the worker dies and the supervisor recovers the task
as it does a dead worker's. `off --now` (Stopped while waiting, or `abandon`) cancels the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.config.executor_model import ExecutorConfig
from orchestrator.config.model import RepoConfig
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentEvent,
    AgentOutcome,
    AgentRequest,
    OutcomeKind,
    OutputLine,
    Usage,
    UsageReported,
)
from orchestrator.core.redact import encoded_forms
from orchestrator.core.remote import (
    MAX_UNANSWERED,
    PROMPT_NAME,
    Parcel,
    Phase,
    RemoteRun,
    RemoteTask,
    RunState,
    deadline,
    reported_usage,
    task_ref,
)
from orchestrator.core.workspace import Workspace
from orchestrator.errors import ExecutorError, Parked, RunVanished, Stopped, WorktreeError
from orchestrator.ports_remote import Executor, TaskRefs
from orchestrator.store import rooms
from orchestrator.store.files import atomic_write
from orchestrator.store.remote_runs import RunRecords

LOG_LINES = 200  # lines of the agent's output kept in the room (the parcel's tail)
TIMEOUT_CODES = (124, 137)  # `timeout` killed the agent: its own deadline, not a crash


class RemoteAgent:
    """The Agent port over one executor, for one attempt (its worktree and room)."""

    def __init__(
        self,
        executor: Executor,
        settings: ExecutorConfig,
        refs: TaskRefs,
        repo: RepoConfig,
        ws: Workspace,
        room: rooms.Room,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        park: bool = False,
    ) -> None:
        self.executor, self.settings, self.refs = executor, settings, refs
        self.repo, self.ws, self.room = repo, ws, room
        self.records = RunRecords(room.path.parent)
        self.clock, self.sleep, self.park = clock, sleep, park

    @property
    def name(self) -> str:
        return self.executor.name

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        began = time.monotonic()
        run = self._start_or_adopt(request)
        try:
            state = self._wait(run)
        except Stopped:  # `off --now`: the run is cancelled, nothing of it is kept
            self._stop(run, "stopped")
            raise
        self.room.record(
            "remote.ended", handle=run.handle, phase=state.phase.value, detail=state.detail
        )
        if state.phase is Phase.VANISHED:
            self.records.clear(request.task_id)
            raise RunVanished(f"{self.name} run {run.handle} vanished: {state.detail}"[:300])
        outcome = self._outcome(request, run, state, on_event, time.monotonic() - began)
        self.records.clear(request.task_id)
        self._release(run)
        return outcome

    # -- start -------------------------------------------------------------------------------------
    def _start_or_adopt(self, request: AgentRequest) -> RemoteRun:
        """Return the run this attempt follows: the one written down, one found, or a new one."""
        task_id, start = request.task_id, self.ws.start_sha
        kept = self.records.load(task_id)
        if kept is not None and (kept.executor != self.name or kept.start != start):
            self._stop(kept, "superseded")  # started from another commit: its patch would not fit
            kept = None
        if kept is not None:
            self.room.record("remote.adopted", executor=self.name, handle=kept.handle)
            return kept
        found = self.executor.find(task_id, start)
        if found is not None:  # its canary is lost with its record: this attempt's is looked for
            found = replace(found, canary=request.canary)
            self.records.save(task_id, found)
            self.room.record("remote.adopted", executor=self.name, handle=found.handle)
            return found
        ref = task_ref(task_id)
        files = {
            PROMPT_NAME: request.prompt.encode("utf-8"),
            "canary": request.canary.encode(),
            "task_id": task_id.encode(),
        }
        self.refs.publish(self.ws, ref, files)
        timeout = request.timeout_s or self.settings.timeout_minutes * 60
        task = RemoteTask(task_id, self.repo.github, self.ws.base, start, ref, timeout)
        run = replace(self.executor.start(task), canary=request.canary)
        self.records.save(task_id, run)
        self.room.record("remote.started", executor=self.name, handle=run.handle, start=start)
        return run

    # -- wait --------------------------------------------------------------------------------------
    def _wait(self, run: RemoteRun) -> RunState:
        """Ask for the run until it is over, or past its deadline (then it is cancelled)."""
        ends = deadline(run, self.settings.timeout_minutes)
        unanswered = 0
        while True:
            try:
                state = self.executor.state(run)
                unanswered = 0
            except ExecutorError as error:
                unanswered += 1
                if unanswered >= MAX_UNANSWERED:
                    return RunState(Phase.VANISHED, f"no answer {unanswered} times: {error}")
                state = RunState(Phase.RUNNING, str(error))
            if state.phase.final:
                return state
            if self.clock() > ends:
                self._stop(run, "deadline")
                return RunState(Phase.TIMED_OUT, "past its deadline at home")
            if self.park:  # the supervisor follows it, and starts a worker to collect it
                self.room.record("remote.parked", handle=run.handle, phase=state.phase.value)
                raise Parked(run.handle)
            self.sleep(self.settings.poll_seconds)

    def abandon(self, task_id: str) -> None:
        """Cancel the run a parked attempt left, if any (`off --now` before the wait resumed)."""
        kept = self.records.load(task_id)
        if kept is not None:
            self._stop(kept, "stopped")

    def _stop(self, run: RemoteRun, why: str) -> None:
        try:
            self.executor.stop(run)
        except ExecutorError as error:
            self.room.record("remote.unstopped", handle=run.handle, error=str(error)[:300])
        self.records.clear(self.ws.task_id)
        self.room.record("remote.cancelled", handle=run.handle, reason=why)

    def _release(self, run: RemoteRun) -> None:
        try:
            self.executor.release(run)
            self.refs.drop(self.ws.repo_key, task_ref(self.ws.task_id))
        except (ExecutorError, WorktreeError) as error:  # it expires on its own
            self.room.record("remote.unreleased", handle=run.handle, error=str(error)[:300])

    # -- what came back ----------------------------------------------------------------------------
    def _outcome(
        self,
        request: AgentRequest,
        run: RemoteRun,
        state: RunState,
        on_event: Callable[[AgentEvent], None],
        took: float,
    ) -> AgentOutcome:
        if state.phase is not Phase.SUCCEEDED:
            kind = OutcomeKind.TIMED_OUT if state.phase is Phase.TIMED_OUT else OutcomeKind.CRASHED
            error = f"{self.name} run {run.handle} {state.phase.value}: {state.detail}"
            return AgentOutcome(self.name, kind, None, took, error=error[:500])
        parcel = self.executor.collect(run)
        for problem in parcel.problems:
            self.room.record("remote.parcel_refused", handle=run.handle, problem=problem[:300])
        tail = parcel.log.splitlines()[-LOG_LINES:]
        for line in tail:
            on_event(OutputLine("stdout", line))
        seen = "agent output" if _holds(parcel, request.canary) else ""
        usage = reported_usage(parcel.log) or Usage()  # counted against the task's cost cap
        if usage != Usage():
            on_event(UsageReported(usage))
        try:
            touched = self.refs.apply(self.ws, parcel.patch) if parcel.patch else ()
        except WorktreeError as error:
            why = f"{self.name} run {run.handle}: its change does not apply: {error}"
            return AgentOutcome(
                self.name,
                OutcomeKind.CRASHED,
                parcel.exit_code,
                took,
                error=why[:500],
                canary_seen=seen,
            )
        self.room.record(
            "remote.collected",
            handle=run.handle,
            files=list(touched)[:200],
            exit_code=parcel.exit_code,
        )
        if parcel.result_text is not None:
            atomic_write(Path(request.worktree) / RESULT_FILE, parcel.result_text)
        if parcel.exit_code == 0:
            return AgentOutcome(
                self.name, OutcomeKind.FINISHED, 0, took, usage=usage, canary_seen=seen
            )
        kind = OutcomeKind.TIMED_OUT if parcel.exit_code in TIMEOUT_CODES else OutcomeKind.CRASHED
        said = (
            f"the agent exited {parcel.exit_code} on {self.name}"
            if parcel.exit_code is not None
            else f"{self.name} run {run.handle} left no exit code"
        )
        last = next((line.strip() for line in reversed(tail) if line.strip()), "")
        said = f"{said}: {last[:300]}" if last else said
        return AgentOutcome(
            self.name, kind, parcel.exit_code, took, usage=usage, error=said, canary_seen=seen
        )


def _holds(parcel: Parcel, canary: str) -> bool:
    """True when the agent's words carry the canary in any encoding (the patch is the gate's)."""
    if not canary:
        return False
    texts = (parcel.log, parcel.result_text or "")
    return any(form in text for form in encoded_forms(canary) for text in texts)

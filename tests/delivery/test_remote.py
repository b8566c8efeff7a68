"""RemoteAgent: a remote run started, followed, adopted after a restart, and collected at home.

The executor here is a double standing for the engine (GitHub Actions, Kubernetes; their own
adapters are tested against the sandboxes); the git side is real: the task ref is pushed to a
bare origin, and a "run" executes the real job script (adapters/executors/job.sh) in a clone of
that ref, so the parcel is what a runner would hand back.
"""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.adapters.executors import parcels
from orchestrator.adapters.git import GitWorktrees
from orchestrator.adapters.git_task_refs import GitTaskRefs
from orchestrator.adapters.memory_audit import MemoryAudit
from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind
from orchestrator.config.model import AutomationMode, RepoConfig
from orchestrator.core.agent import RESULT_FILE, AgentRequest, OutcomeKind, Usage, UsageReported
from orchestrator.core.remote import Parcel, Phase, RemoteRun, RemoteTask, RunState
from orchestrator.core.workspace import Workspace
from orchestrator.delivery import remote as remote_agent
from orchestrator.delivery.remote import RemoteAgent
from orchestrator.errors import ExecutorError, Parked, RunVanished, Stopped
from orchestrator.store import rooms
from orchestrator.store.remote_runs import RunRecords
from tests.contract.gitworlds import LocalWorld, Remote, git
from tests.contract.test_worktrees import _isolated_git  # noqa: F401 (fixture)

JOB = Path(remote_agent.__file__).parent.parent / "adapters" / "executors" / "job.sh"
CANARY = "ghp_" + "C" * 36
SETTINGS = ExecutorConfig("cloud", ExecutorKind.KUBERNETES, "true", poll_seconds=0.0)
COMPLETE = "STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: did it\\n"


class Engine:
    """An executor double: each state() answers the next scripted phase; a run runs job.sh."""

    name, slots = "cloud", 3

    def __init__(self, origin: str, tmp: Path, command: str = "true") -> None:
        self.origin, self.tmp, self.command = origin, tmp, command
        self.phases: list[Phase | Exception] = [Phase.RUNNING, Phase.SUCCEEDED]
        self.started: list[RemoteTask] = []
        self.stopped: list[str] = []
        self.released: list[str] = []
        self.found: RemoteRun | None = None
        self.parcel: Parcel | None = None

    def start(self, task: RemoteTask) -> RemoteRun:
        self.started.append(task)
        if self.parcel is None:
            self.parcel = self._run(task)
        return RemoteRun(self.name, f"run-{len(self.started)}", task.start, datetime.now(UTC))

    def _run(self, task: RemoteTask) -> Parcel:
        """Do what a runner does: check the task ref out, run the job script, zip its output."""
        checkout = self.tmp / f"runner-{len(self.started)}"
        git("clone", "-q", self.origin, str(checkout))
        git("fetch", "-q", "origin", task.task_ref, cwd=checkout)
        git("checkout", "-q", "FETCH_HEAD", cwd=checkout)
        out = self.tmp / f"out-{len(self.started)}"
        env = {
            **os.environ,
            "AGENTOS_COMMAND": self.command,
            "AGENTOS_START": task.start,
            "AGENTOS_OUT": str(out),
            "AGENTOS_TIMEOUT": "60",
        }
        subprocess.run(["bash", str(JOB)], cwd=checkout, env=env, check=True, capture_output=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for file in out.iterdir():
                archive.write(file, file.name)
        return parcels.read_zip(buffer.getvalue())

    def find(self, task_id: str, start: str) -> RemoteRun | None:
        return self.found

    def state(self, run: RemoteRun) -> RunState:
        step = self.phases.pop(0) if len(self.phases) > 1 else self.phases[0]
        if isinstance(step, Exception):
            raise step
        return RunState(step, "scripted")

    def collect(self, run: RemoteRun) -> Parcel:
        return self.parcel or Parcel()

    def stop(self, run: RemoteRun) -> None:
        self.stopped.append(run.handle)

    def release(self, run: RemoteRun) -> None:
        self.released.append(run.handle)


class Setup:
    def __init__(self, tmp: Path) -> None:
        world = LocalWorld(tmp)
        self.origin: Remote = world.new_remote()
        self.trees: GitWorktrees = world.worktrees(self.origin)
        self.audit = MemoryAudit()
        self.refs = GitTaskRefs(self.trees, self.audit, "agentos:test")
        self.ws: Workspace = self.trees.prepare(self.origin.key, "app-7-g1-a1", "agent/7-x", "main")
        self.room = rooms.Room(tmp / "runtime" / "rooms", self.ws.task_id)
        self.tmp = tmp
        self.repo = RepoConfig("app", "acme/app", None, "main", None, None, AutomationMode.FULL, 2)

    def engine(self, command: str = "true") -> Engine:
        return Engine(self.origin.url, self.tmp, command)

    def agent(self, engine: Engine, **kw: object) -> RemoteAgent:
        return RemoteAgent(engine, SETTINGS, self.refs, self.repo, self.ws, self.room, **kw)  # type: ignore[arg-type]

    def request(self) -> AgentRequest:
        return AgentRequest(self.ws.task_id, "Do #7.\n", "", self.ws.path, canary=CANARY)

    def events(self) -> list[str]:
        return [e["event"] for e in rooms.read(self.room.path.parent, self.ws.task_id).events]


@pytest.fixture
def setup(tmp_path: Path, _isolated_git: None) -> Setup:  # noqa: F811
    return Setup(tmp_path)


def test_a_run_comes_back_as_files_in_the_worktree_and_a_contract_beside_them(setup: Setup) -> None:
    command = f"cat \"$AGENTOS_PROMPT_FILE\" > seen.txt && printf '{COMPLETE}' > {RESULT_FILE}"
    engine = setup.engine(command)
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.FINISHED and outcome.canary_seen == ""
    assert (Path(setup.ws.path) / "seen.txt").read_text() == "Do #7.\n"  # the prompt travelled
    assert (Path(setup.ws.path) / RESULT_FILE).read_text().startswith("STATUS: complete")
    task = engine.started[0]
    assert (task.base, task.start, task.task_ref) == (
        "main",
        setup.ws.start_sha,
        "refs/agentos/tasks/app-7-g1-a1",
    )
    assert RunRecords(setup.room.path.parent).load(setup.ws.task_id) is None  # collected: forgotten
    assert engine.released == ["run-1"]
    assert git("ls-remote", setup.origin.url, "refs/agentos/*", cwd=setup.tmp) == ""  # dropped
    assert setup.audit.acts() == ["task_ref.pushed"]
    assert setup.events() == ["remote.started", "remote.ended", "remote.collected"]


def test_a_worker_killed_while_waiting_is_followed_by_one_that_adopts_the_same_run(
    setup: Setup,
) -> None:
    engine = setup.engine(f"echo x > a.txt && printf '{COMPLETE}' > {RESULT_FILE}")
    engine.phases = [ExecutorError("the worker dies here")]
    first = setup.agent(engine, sleep=_die)
    with pytest.raises(KeyboardInterrupt):
        first.run(setup.request(), lambda event: None)
    engine.phases = [Phase.SUCCEEDED]
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.FINISHED and len(engine.started) == 1
    assert (Path(setup.ws.path) / "a.txt").read_text() == "x\n"
    assert "remote.adopted" in setup.events()


def _die(seconds: float) -> None:
    raise KeyboardInterrupt  # a SIGKILL, as far as this worker's code goes


def test_a_run_started_but_never_written_down_is_found_not_started_twice(setup: Setup) -> None:
    engine = setup.engine()
    engine.found = RemoteRun("cloud", "run-earlier", setup.ws.start_sha, datetime.now(UTC))
    engine.parcel = Parcel(exit_code=0, result_text="STATUS: complete\n")
    setup.agent(engine).run(setup.request(), lambda event: None)
    assert engine.started == [] and engine.released == ["run-earlier"]


def test_a_run_from_another_start_is_cancelled_and_a_new_one_started(setup: Setup) -> None:
    old = RemoteRun("cloud", "run-old", "0" * 40, datetime.now(UTC))
    RunRecords(setup.room.path.parent).save(setup.ws.task_id, old)
    engine = setup.engine()
    setup.agent(engine).run(setup.request(), lambda event: None)
    assert engine.stopped == ["run-old"] and len(engine.started) == 1


def test_a_vanished_run_is_a_dead_worker_and_is_forgotten(setup: Setup) -> None:
    engine = setup.engine()
    engine.phases = [Phase.RUNNING, Phase.VANISHED]
    with pytest.raises(RunVanished, match="cloud run run-1 vanished"):
        setup.agent(engine).run(setup.request(), lambda event: None)
    assert RunRecords(setup.room.path.parent).load(setup.ws.task_id) is None


def test_an_engine_that_never_answers_counts_as_vanished(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_agent, "MAX_UNANSWERED", 3)
    engine = setup.engine()
    engine.phases = [ExecutorError("503")]
    with pytest.raises(RunVanished, match="no answer 3 times: 503"):
        setup.agent(engine).run(setup.request(), lambda event: None)


def test_a_run_past_its_deadline_at_home_is_cancelled_as_timed_out(setup: Setup) -> None:
    engine = setup.engine()
    engine.phases = [Phase.RUNNING]
    later = datetime.now(UTC) + timedelta(minutes=SETTINGS.timeout_minutes) + timedelta(hours=1)
    outcome = setup.agent(engine, clock=lambda: later).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.TIMED_OUT and engine.stopped == ["run-1"]


def test_off_now_while_waiting_cancels_the_run(setup: Setup) -> None:
    engine = setup.engine()
    engine.phases = [Phase.RUNNING]

    def stop_now(seconds: float) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        setup.agent(engine, sleep=stop_now).run(setup.request(), lambda event: None)
    assert engine.stopped == ["run-1"]
    assert RunRecords(setup.room.path.parent).load(setup.ws.task_id) is None


@pytest.mark.parametrize(
    "phase, kind",
    [
        (Phase.FAILED, OutcomeKind.CRASHED),
        (Phase.TIMED_OUT, OutcomeKind.TIMED_OUT),
        (Phase.CANCELLED, OutcomeKind.CRASHED),
    ],
)
def test_a_run_that_ended_badly_is_the_local_outcome_of_the_same_kind(
    setup: Setup, phase: Phase, kind: OutcomeKind
) -> None:
    engine = setup.engine()
    engine.phases = [phase]
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.kind is kind and f"run-1 {phase.value}" in outcome.error


@pytest.mark.parametrize("code, kind", [("1", OutcomeKind.CRASHED), ("124", OutcomeKind.TIMED_OUT)])
def test_the_agents_exit_code_decides_as_for_a_local_process(
    setup: Setup, code: str, kind: OutcomeKind
) -> None:
    engine = setup.engine(f"exit {code}")
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert (outcome.kind, outcome.exit_code) == (kind, int(code))


def test_the_canary_in_the_agents_output_is_seen_in_any_encoding(setup: Setup) -> None:
    engine = setup.engine('echo "$GH_TOKEN" | base64')
    lines: list[object] = []
    outcome = setup.agent(engine).run(setup.request(), lines.append)
    assert outcome.canary_seen == "agent output"
    assert lines  # the output reached the room's sink


@pytest.mark.parametrize(
    "path",
    [".git/hooks/post-checkout", "../outside.txt", "/tmp/absolute.txt"],
)
def test_a_patch_that_writes_outside_the_tree_is_refused_whole(setup: Setup, path: str) -> None:
    patch = (
        f"diff --git a/{path} b/{path}\nnew file mode 100755\n--- /dev/null\n+++ b/{path}\n"
        "@@ -0,0 +1 @@\n+echo owned\n"
        "diff --git a/ok.txt b/ok.txt\nnew file mode 100644\n--- /dev/null\n+++ b/ok.txt\n"
        "@@ -0,0 +1 @@\n+fine\n"
    ).encode()
    engine = setup.engine()
    engine.parcel = Parcel(patch=patch, exit_code=0, result_text="STATUS: complete\n")
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.CRASHED and "does not apply" in outcome.error
    assert not (Path(setup.ws.path) / "ok.txt").exists()  # all or nothing
    assert not (Path(setup.ws.path) / ".git/hooks/post-checkout").exists()
    assert not (Path(setup.ws.path).parent / "outside.txt").exists()
    assert not Path("/tmp/absolute.txt").exists()


def test_a_patch_through_a_symlink_it_creates_is_refused(setup: Setup) -> None:
    patch = (
        "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n"
        f"@@ -0,0 +1 @@\n+{setup.tmp}\n\\ No newline at end of file\n"
        "diff --git a/link/escaped.txt b/link/escaped.txt\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/link/escaped.txt\n@@ -0,0 +1 @@\n+owned\n"
    ).encode()
    engine = setup.engine()
    engine.parcel = Parcel(patch=patch, exit_code=0)
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.CRASHED
    assert not (setup.tmp / "escaped.txt").exists()


def test_parked_the_worker_leaves_once_the_run_is_under_way_and_a_later_one_collects(
    setup: Setup,
) -> None:
    engine = setup.engine(f"echo x > a.txt && printf '{COMPLETE}' > {RESULT_FILE}")
    engine.phases = [Phase.QUEUED]
    with pytest.raises(Parked, match="run-1"):
        setup.agent(engine, park=True).run(setup.request(), lambda event: None)
    kept = RunRecords(setup.room.path.parent).load(setup.ws.task_id)
    assert kept is not None and kept.handle == "run-1" and kept.canary == CANARY
    engine.phases = [Phase.SUCCEEDED]  # the supervisor saw it end and started a worker
    outcome = setup.agent(engine, park=True).run(setup.request(), lambda event: None)
    assert outcome.kind is OutcomeKind.FINISHED and len(engine.started) == 1
    assert (Path(setup.ws.path) / "a.txt").read_text() == "x\n"
    assert setup.events()[:3] == ["remote.started", "remote.parked", "remote.adopted"]


def test_abandon_cancels_the_run_a_parked_attempt_left(setup: Setup) -> None:
    engine = setup.engine()
    engine.phases = [Phase.RUNNING]
    with pytest.raises(Parked):
        setup.agent(engine, park=True).run(setup.request(), lambda event: None)
    setup.agent(engine).abandon(setup.ws.task_id)
    assert engine.stopped == ["run-1"]
    assert RunRecords(setup.room.path.parent).load(setup.ws.task_id) is None
    setup.agent(engine).abandon(setup.ws.task_id)  # nothing left: a no-op
    assert engine.stopped == ["run-1"]


def test_the_cost_a_remote_claude_reports_is_counted_like_a_local_runs(setup: Setup) -> None:
    result = (
        '{"type":"result","subtype":"success","total_cost_usd":0.42,'
        '"usage":{"input_tokens":100,"cache_read_input_tokens":50,"output_tokens":7}}'
    )
    engine = setup.engine(
        f"echo '{{\"type\":\"system\"}}'; echo '{result}'; printf '{COMPLETE}' > {RESULT_FILE}"
    )
    events: list[object] = []
    outcome = setup.agent(engine).run(setup.request(), events.append)
    assert outcome.usage == Usage(150, 7, 50, 0.42)
    assert [e for e in events if isinstance(e, UsageReported)] == [UsageReported(outcome.usage)]


def test_output_that_reports_nothing_costs_nothing_known(setup: Setup) -> None:
    engine = setup.engine('echo \'{"type":"result","usage":"not a dict"}\'; echo plain')
    events: list[object] = []
    outcome = setup.agent(engine).run(setup.request(), events.append)
    assert outcome.usage == Usage() and not any(isinstance(e, UsageReported) for e in events)


@pytest.mark.parametrize("cost", ["-100", "NaN", "Infinity", "true", '"0.5"'])
def test_a_cost_that_would_lower_or_jam_the_caps_tally_is_not_taken(
    setup: Setup, cost: str
) -> None:
    forged = (
        f'{{"type":"result","total_cost_usd":{cost},'
        '"usage":{"input_tokens":-5000000,"output_tokens":3}}'
    )
    engine = setup.engine(f"echo '{forged}'")
    outcome = setup.agent(engine).run(setup.request(), lambda event: None)
    assert outcome.usage == Usage(0, 3, 0, None)  # the output count kept, nothing below zero

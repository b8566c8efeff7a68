"""ActionsExecutor against the sandbox: the rendered workflow installed, a task ref pushed, the
run dispatched on the base branch, followed, collected, cancelled, deleted, found again."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from github import Github

from orchestrator.adapters.executors import actions_workflow
from orchestrator.adapters.executors.actions import ActionsExecutor
from orchestrator.adapters.github_http import Rest
from orchestrator.config.executor_model import ActionsSettings, ExecutorConfig, ExecutorKind
from orchestrator.core.remote import Phase, RemoteRun, RemoteTask, task_ref
from orchestrator.errors import ExecutorError
from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import client
from tests.support.github_sandbox import git_environment

REPO = "agentos/app"
CANARY = "canary-7f3a"
RESULT = "STATUS: complete\nSUMMARY: wrote new.txt\n"
AGENT = f"printf 'hello\\n' > new.txt && printf '{RESULT}' > .agent_result.md"


@dataclass
class World:
    sandbox: Sandbox
    rest: Rest
    clone: Path
    env: dict[str, str]

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.clone, env=self.env, capture_output=True, text=True
        )
        if check and done.returncode:
            raise AssertionError(f"git {args} failed: {done.stderr}")
        return done.stdout.strip()

    def executor(self, command: str = AGENT, **actions: object) -> ActionsExecutor:
        """Install the workflow rendered for `command` on main and return its executor."""
        config = ExecutorConfig(
            name="gha",
            kind=ExecutorKind.GITHUB_ACTIONS,
            command=command,
            slots=2,
            timeout_minutes=2,
            actions=replace(ActionsSettings(), **actions),  # type: ignore[arg-type]
        )
        self.git("checkout", "-q", "--detach", "origin/main")
        path = self.clone / actions_workflow.workflow_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actions_workflow.render(config))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "workflow", check=False)
        self.git("push", "-q", "origin", "HEAD:main")
        self.git("fetch", "-q", "origin")
        return ActionsExecutor(config, REPO, self.rest)

    def task(self, task_id: str) -> RemoteTask:
        """Push the task's ref (prompt.md and canary over main's head); return the task."""
        start = self.git("rev-parse", "origin/main")
        self.git("checkout", "-q", "--detach", start)
        (self.clone / "prompt.md").write_text("write new.txt\n")
        (self.clone / "canary").write_text(CANARY)
        self.git("add", "prompt.md", "canary")
        self.git("commit", "-q", "-m", f"task {task_id}")
        self.git("push", "-q", "-f", "origin", f"HEAD:{task_ref(task_id)}")
        self.git("checkout", "-q", "--detach", start)
        return RemoteTask(task_id, REPO, "main", start, task_ref(task_id), 60.0)


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> Iterator[World]:
    env = git_environment(tmp_path / "home")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(REPO), str(clone)], env=env, check=True)
    github: Github = client(sandbox, sandbox.token)
    yield World(sandbox, Rest(github.requester, 100), clone, env)
    github.close()


def ended(executor: ActionsExecutor, run: RemoteRun, timeout: float = 90) -> Phase:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = executor.state(run).phase
        if phase.final:
            return phase
        time.sleep(0.1)
    raise AssertionError(f"run {run.handle} did not end")


def log_of(world: World, run: RemoteRun) -> str:
    (job,) = world.rest.get(f"/repos/{REPO}/actions/runs/{run.handle}/jobs")["jobs"]
    where = world.rest.location(f"/repos/{REPO}/actions/jobs/{job['id']}/logs")
    return requests.get(where, timeout=10).text


def test_a_task_runs_remotely_and_its_parcel_applies_on_the_start(world: World) -> None:
    executor = world.executor()
    task = world.task("t-1")
    run = executor.start(task)
    assert run.handle.isdigit() and run.start == task.start and run.executor == "gha"
    assert ended(executor, run) is Phase.SUCCEEDED, log_of(world, run)
    found = world.rest.get(f"/repos/{REPO}/actions/runs/{run.handle}")
    assert (found["head_branch"], found["event"]) == ("main", "workflow_dispatch")
    assert found["display_title"] == "agentos t-1"
    again = executor.find("t-1", task.start)
    assert again is not None and (again.handle, again.start) == (run.handle, task.start)
    assert executor.find("t-2", task.start) is None

    parcel = executor.collect(run)
    assert parcel.problems == () and parcel.exit_code == 0
    assert parcel.result_text == RESULT
    world.git("checkout", "-q", "--detach", task.start)
    (world.clone.parent / "p.patch").write_bytes(parcel.patch)
    world.git("apply", "--check", str(world.clone.parent / "p.patch"))
    world.git("apply", str(world.clone.parent / "p.patch"))
    assert (world.clone / "new.txt").read_text() == "hello\n"
    assert not (world.clone / ".agent_result.md").exists()

    executor.release(run)
    assert world.rest.get(f"/repos/{REPO}/actions/runs/{run.handle}/artifacts")["artifacts"] == []
    assert executor.collect(run).problems == (f"run {run.handle} left no parcel artifact",)
    executor.release(run)  # nothing left: still no error


def test_an_agent_that_fails_still_hands_back_a_parcel(world: World) -> None:
    executor = world.executor("echo trying; exit 1")
    run = executor.start(world.task("t-3"))
    assert ended(executor, run) is Phase.SUCCEEDED, log_of(world, run)
    parcel = executor.collect(run)
    assert (parcel.exit_code, parcel.log, parcel.patch) == (1, "trying\n", b"")
    assert parcel.result_text is None


def test_a_failing_setup_line_fails_the_run(world: World) -> None:
    executor = world.executor(setup=("echo installing", "false"))
    run = executor.start(world.task("t-4"))
    assert ended(executor, run) is Phase.FAILED
    state = executor.state(run)
    assert state.detail == "failure"
    assert executor.collect(run).problems == (f"run {run.handle} left no parcel artifact",)


def test_stop_cancels_and_a_deleted_run_has_vanished(world: World) -> None:
    executor = world.executor("sleep 300")
    run = executor.start(world.task("t-5"))
    deadline = time.monotonic() + 30
    while executor.state(run).phase is not Phase.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # the agent is sleeping
    executor.stop(run)
    assert ended(executor, run, timeout=30) is Phase.CANCELLED
    executor.stop(run)  # already over: a no-op
    world.rest.send("DELETE", f"/repos/{REPO}/actions/runs/{run.handle}")
    assert executor.state(run).phase is Phase.VANISHED
    executor.stop(run)  # gone: a no-op
    executor.release(run)  # never raises


def test_a_hostile_agent_sees_no_token_and_cannot_push(world: World) -> None:
    hostile = (
        "env; cat .git/config; git config --list --show-origin;"
        " git -c user.name=x -c user.email=x@y commit -q --allow-empty -m evil;"
        " git push origin HEAD:refs/heads/evil 2>&1; echo push-exit=$?"
    )
    executor = world.executor(hostile)
    run = executor.start(world.task("t-6"))
    assert ended(executor, run) is Phase.SUCCEEDED, log_of(world, run)
    parcel = executor.collect(run)
    seen = parcel.log + log_of(world, run)
    for leak in ("ghs_", "ghp_", "x-access-token", "extraheader", world.sandbox.token):
        assert leak not in seen, leak
    assert f"GITHUB_TOKEN={CANARY}" in parcel.log and f"GH_TOKEN={CANARY}" in parcel.log
    assert "push-exit=0" not in parcel.log and "push-exit=" in parcel.log
    assert "refs/heads/evil" not in world.git("ls-remote", "origin")


def test_a_missing_workflow_is_refused_in_one_line(world: World) -> None:
    config = ExecutorConfig(name="gha", kind=ExecutorKind.GITHUB_ACTIONS, command="true")
    executor = ActionsExecutor(config, REPO, world.rest)
    with pytest.raises(ExecutorError, match="run agentos executor install agentos/app"):
        executor.start(world.task("t-7"))
    assert executor.find("t-7", "0" * 40) is None

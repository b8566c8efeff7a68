"""KubeExecutor end to end: Jobs on the Kubernetes stand-in check out a task ref from the GitHub
sandbox over smart HTTP, run a scripted agent with job.sh, and hand the parcel back on the log."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client, config

from orchestrator.adapters.executors.kube_manifest import job_name
from orchestrator.adapters.executors.kubernetes import KubeExecutor
from orchestrator.adapters.git_clone import git_url
from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind, KubernetesSettings
from orchestrator.core import contract
from orchestrator.core.remote import (
    BEGIN_MARK,
    END_MARK,
    Phase,
    RemoteRun,
    RemoteTask,
    RunState,
    task_ref,
)
from orchestrator.errors import ExecutorError
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.kubernetes import KubernetesSandbox
from tests.support.github_sandbox import git_environment

REPO = "agentos/kube"  # private: the checkout cannot read it without the token
NS = "default"
RESULT = "STATUS: complete\nSUMMARY: wrote hello\nDONE:\n- hello.txt\n"
WRITES = f"printf 'hello\\n' > hello.txt; printf '{RESULT}' > .agent_result.md; echo agent-ran"


@pytest.fixture
def kube() -> Iterator[KubernetesSandbox]:
    with KubernetesSandbox() as running:
        yield running


@pytest.fixture
def core(kube: KubernetesSandbox) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig_path())))


@pytest.fixture
def git(tmp_path: Path) -> Any:
    env = git_environment(tmp_path / "home")

    def run(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:  # noqa: A002
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, input=input, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    return run


@pytest.fixture
def repo(sandbox: Sandbox, git: Any, tmp_path: Path) -> Path:
    """A clone of a private sandbox repo whose main holds one file (the test side's token)."""
    sandbox.create_repo(REPO, private=True)
    clone = tmp_path / "clone"
    git("clone", "-q", sandbox.clone_url(REPO), str(clone))
    (clone / "app.txt").write_text("app\n")
    git("add", "app.txt", cwd=clone)
    git("commit", "-q", "-m", "app", cwd=clone)
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    return clone


def push_task(git: Any, clone: Path, task_id: str, prompt: bool = True) -> str:
    """Push the task ref as Agent OS does (prompt.md and canary over main); return main's head."""
    start = git("rev-parse", "origin/main", cwd=clone).strip()
    git("checkout", "-q", "--detach", start, cwd=clone)
    (clone / "canary").write_text("canary-not-a-token\n")
    if prompt:
        (clone / "prompt.md").write_text("Write hello.txt\n")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", f"task {task_id}", cwd=clone)
    git("push", "-q", "-f", "origin", f"HEAD:{task_ref(task_id)}", cwd=clone)
    git("checkout", "-q", "--detach", start, cwd=clone)
    return start


def secret(core: client.CoreV1Api, name: str, data: dict[str, str]) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}
    core.create_namespaced_secret(NS, body)


def executor(
    kube: KubernetesSandbox, sandbox: Sandbox, command: str, margin_s: int = 120, **settings: Any
) -> KubeExecutor:
    config = ExecutorConfig(
        name="cluster",
        kind=ExecutorKind.KUBERNETES,
        command=command,
        kubernetes=KubernetesSettings(
            image="agentos/executor:test", kubeconfig=kube.kubeconfig_path(), **settings
        ),
    )
    return KubeExecutor(config, git_url(sandbox.api_url, REPO), margin_s=margin_s)


def task(task_id: str, start: str, timeout_s: float = 60) -> RemoteTask:
    return RemoteTask(task_id, REPO, "main", start, task_ref(task_id), timeout_s)


def final(kube_executor: KubeExecutor, run: RemoteRun, timeout: float = 30) -> RunState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = kube_executor.state(run)
        if state.phase.final:
            return state
        time.sleep(0.1)
    raise AssertionError(f"{run.handle} did not end: {kube_executor.state(run)}")


@pytest.fixture
def ready(sandbox: Sandbox, core: client.CoreV1Api, repo: Path) -> Path:
    """The git Secret holds the sandbox's token: the checkout can read the private repo."""
    secret(core, "agentos-git", {"token": sandbox.token})
    return repo


def test_a_job_runs_the_agent_and_its_parcel_applies_on_the_start_commit(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    start = push_task(git, ready, "app-1")
    kube_executor = executor(kube, sandbox, WRITES)
    run = kube_executor.start(task("app-1", start))
    assert (run.executor, run.handle, run.start) == ("cluster", job_name("app-1", start), start)
    assert kube_executor.find("app-1", start) == run
    assert kube_executor.find("app-1", "b" * 40) is None
    assert final(kube_executor, run) == RunState(Phase.SUCCEEDED)
    parcel = kube_executor.collect(run)
    assert parcel.problems == () and parcel.exit_code == 0
    assert "agent-ran" in parcel.log
    assert parcel.result_text == RESULT
    assert contract.parse(parcel.result_text).status is contract.Status.COMPLETE
    git("apply", "--check", "-", cwd=ready, input=parcel.patch)
    git("apply", "-", cwd=ready, input=parcel.patch)
    assert (ready / "hello.txt").read_text() == "hello\n"
    kube_executor.release(run)
    assert kube.wait_for(lambda: not kube.jobs() and not kube.pods(), 10)
    assert kube_executor.state(run).phase is Phase.VANISHED
    kube_executor.release(run)  # gone already: a no-op


def test_starting_twice_adopts_the_same_job(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    start = push_task(git, ready, "app-2")
    kube_executor = executor(kube, sandbox, "true")
    first = kube_executor.start(task("app-2", start))
    second = kube_executor.start(task("app-2", start))
    assert second == first
    assert [j["metadata"]["name"] for j in kube.jobs()] == [first.handle]
    assert final(kube_executor, first).phase is Phase.SUCCEEDED


def test_an_agent_exiting_1_still_succeeds_with_its_exit_code_in_the_parcel(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    start = push_task(git, ready, "app-3")
    kube_executor = executor(kube, sandbox, "echo giving up; exit 1")
    run = kube_executor.start(task("app-3", start))
    assert final(kube_executor, run).phase is Phase.SUCCEEDED
    parcel = kube_executor.collect(run)
    assert (parcel.exit_code, parcel.patch, parcel.result_text) == (1, b"", None)
    assert "giving up" in parcel.log


def test_a_checkout_refused_by_git_fails_the_job_with_the_reason(
    kube: KubernetesSandbox, sandbox: Sandbox, core: client.CoreV1Api, repo: Path, git: Any
) -> None:
    secret(core, "agentos-git", {"token": "not-the-token"})
    start = push_task(git, repo, "app-4")
    kube_executor = executor(kube, sandbox, WRITES)
    run = kube_executor.start(task("app-4", start))
    state = final(kube_executor, run)
    assert state.phase is Phase.FAILED
    assert state.detail.startswith("checkout exited 128 (Error)"), state.detail
    assert "\n" not in state.detail and "not-the-token" not in state.detail
    parcel = kube_executor.collect(run)
    assert parcel.patch == b"" and parcel.problems


def test_a_task_ref_without_a_prompt_fails_and_leaves_no_parcel(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    start = push_task(git, ready, "app-5", prompt=False)
    kube_executor = executor(kube, sandbox, WRITES)
    run = kube_executor.start(task("app-5", start))
    state = final(kube_executor, run)
    assert (state.phase, state.detail) == (Phase.FAILED, "agent exited 3 (Error)")
    parcel = kube_executor.collect(run)
    assert parcel.problems == ("the agent's log holds no parcel between the marks",)


def test_the_deadline_times_the_job_out(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    """job.sh's own timeout sends TERM, which this agent ignores: the Job's deadline ends it."""
    start = push_task(git, ready, "app-6")
    kube_executor = executor(kube, sandbox, "trap '' TERM; sleep 30", margin_s=2)
    run = kube_executor.start(task("app-6", start, timeout_s=1))
    state = final(kube_executor, run, timeout=15)
    assert state.phase is Phase.TIMED_OUT and "deadline" in state.detail
    assert kube.wait_for(lambda: not kube.pids(), 5)


def test_stop_deletes_the_running_job_and_the_run_vanishes(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any
) -> None:
    start = push_task(git, ready, "app-7")
    kube_executor = executor(kube, sandbox, "sleep 30")
    run = kube_executor.start(task("app-7", start))
    assert kube.wait_for(lambda: len(kube.pids()) == 1, 10)
    assert kube_executor.state(run).phase is Phase.RUNNING
    kube_executor.stop(run)
    assert kube.wait_for(lambda: not kube.pids() and not kube.pods(), 10)
    assert kube_executor.state(run).phase is Phase.VANISHED
    kube_executor.stop(run)  # gone already: a no-op
    assert kube_executor.find("app-7", start) is None


HOSTILE = """\
env
echo '--- config'; cat .git/config
echo '--- remotes'; git remote -v
echo '--- push'; git push origin HEAD:refs/heads/evil; echo "push exit $?"
echo '--- service account'; cat /var/run/secrets/kubernetes.io/serviceaccount/token
echo '--- proc'; cat /proc/self/environ | tr '\\0' '\\n'
env > leaked.txt; cat .git/config >> leaked.txt
printf 'STATUS: complete\\nSUMMARY: %s\\n' "$(env | tr '\\n' ' ')" > .agent_result.md
"""


def test_a_hostile_agent_finds_no_token_and_cannot_push(
    kube: KubernetesSandbox, sandbox: Sandbox, ready: Path, git: Any, core: client.CoreV1Api
) -> None:
    start = push_task(git, ready, "app-8")
    secret(core, "agent-keys", {"MODEL_KEY": "model-key-for-the-agent"})
    kube_executor = executor(
        kube, sandbox, HOSTILE, agent_secret="agent-keys", agent_env=("MODEL_KEY",)
    )
    run = kube_executor.start(task("app-8", start))
    assert final(kube_executor, run).phase is Phase.SUCCEEDED
    parcel = kube_executor.collect(run)
    assert parcel.exit_code == 0 and "MODEL_KEY=model-key-for-the-agent" in parcel.log
    assert "push exit 128" in parcel.log, parcel.log
    assert "serviceaccount/token: No such file" in parcel.log
    (pod,) = kube.pods()
    logs = "".join(
        core.read_namespaced_pod_log(pod["metadata"]["name"], NS, container=name)
        for name in ("checkout", "agent")
    )
    basic = base64.b64encode(f"x-access-token:{sandbox.token}".encode()).decode()
    seen = parcel.log + (parcel.result_text or "") + parcel.patch.decode() + logs
    assert "leaked.txt" in parcel.patch.decode()
    for token in (sandbox.token, kube.token, basic):
        assert token not in seen
    heads = git("ls-remote", "origin", cwd=ready)
    assert "refs/heads/evil" not in heads


def test_probe_checks_the_api_the_namespace_the_secrets_and_a_dry_run(
    kube: KubernetesSandbox, sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    kube_executor = executor(
        kube, sandbox, "true", agent_secret="agent-keys", agent_env=("MODEL_KEY", "OTHER")
    )
    verdicts = kube_executor.probe()
    assert verdicts[:2] == [
        (True, "kubernetes: the API answers (v1.30.0)"),
        (True, "kubernetes: namespace default exists"),
    ]
    assert [ok for ok, _ in verdicts[2:]] == [False, False, True], verdicts
    secret(core, "agentos-git", {"token": "t"})
    secret(core, "agent-keys", {"MODEL_KEY": "k"})
    verdicts = kube_executor.probe()
    assert verdicts[2:] == [
        (True, "kubernetes: secret default/agentos-git exists"),
        (False, "kubernetes: secret default/agent-keys lacks OTHER"),
        (True, "kubernetes: a Job would be accepted (server-side dry run)"),
    ]
    assert kube.jobs() == []  # the dry run created nothing
    other = executor(kube, sandbox, "true", namespace="absent")
    assert other.probe()[1][0] is False and "absent" in other.probe()[1][1]


def test_an_unreachable_api_is_an_executor_error_and_an_unknown_job_vanished(
    kube: KubernetesSandbox, sandbox: Sandbox
) -> None:
    kube_executor = executor(kube, sandbox, "true")
    run = RemoteRun("cluster", "agentos-nothing-12345678", "a" * 40, datetime.now(UTC))
    assert kube_executor.state(run).phase is Phase.VANISHED
    kube.stop()
    with pytest.raises(ExecutorError, match="could not be reached"):
        kube_executor.state(run)
    assert kube_executor.probe()[0][0] is False


def test_without_the_kubernetes_package_the_executor_says_how_to_install_it(
    kube: KubernetesSandbox, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(ExecutorError, match="requirements-kubernetes.txt"):
        executor(kube, sandbox, "true")


@pytest.mark.parametrize(
    ("log", "problem"),
    [
        (f"{BEGIN_MARK}\nnot base64 !!\n{END_MARK}\n", "not base64"),
        (
            f"{BEGIN_MARK}\n{base64.b64encode(b'plain').decode()}\n{END_MARK}\n",
            "not a readable tar",
        ),
        (f"{BEGIN_MARK}\nAAAA\n", "no parcel between the marks"),
    ],
)
def test_a_damaged_parcel_on_the_log_is_an_empty_parcel_with_a_problem(
    kube: KubernetesSandbox,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    log: str,
    problem: str,
) -> None:
    kube_executor = executor(kube, sandbox, "true")
    pod = SimpleNamespace(metadata=SimpleNamespace(name="p"))
    monkeypatch.setattr(kube_executor, "_pod", lambda name: pod)
    answer = SimpleNamespace(data=log.encode())
    monkeypatch.setattr(kube_executor._core, "read_namespaced_pod_log", lambda *a, **k: answer)
    run = RemoteRun("cluster", "agentos-x-12345678", "a" * 40, datetime.now(UTC))
    parcel = kube_executor.collect(run)
    assert (parcel.patch, parcel.exit_code) == (b"", None)
    assert len(parcel.problems) == 1 and problem in parcel.problems[0], parcel.problems

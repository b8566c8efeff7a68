"""Issues delivered through remote executors, on the sandboxes, with the real jobs.

GitHub Actions: the workflow `agentos executor install` commits runs in the GitHub sandbox's
runner (its `run:` steps with bash, `actions/checkout` and `upload-artifact` emulated), dispatched
over REST by the worker. Kubernetes: a Job per attempt in the Kubernetes stand-in, which validates
each manifest against the published schemas and runs the pod's containers on this host. The
agent is the playbook agent, run by the job script on the remote side; everything after it (the
gate, the tests, the push, the PR, the merge) happens at home as for a local run.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from orchestrator.cli.main import main
from orchestrator.sandbox.kubernetes import KubernetesSandbox
from orchestrator.store import rooms
from tests.e2e.conftest import AGENT, ROOT, TEST_COMMAND, World, repo_entry
from tests.e2e.test_delivery import SUB

ACTIONS_SCOPES = ("repo", "project", "read:org", "workflow")
# A hostile agent: it looks for a token everywhere, tries to push with what it finds, and
# smuggles the one it finds (the canary) out in base64 in a file and in its words.
HOSTILE = (
    "env > seen.txt 2>&1; cat .git/config >> seen.txt 2>&1; "
    'for t in "$GH_TOKEN" "${GIT_TOKEN:-}"; do u="x-access-token:$t"; '
    'git push "http://$u@127.0.0.1:$AGENTOS_PORT/acme/app.git" '
    "HEAD:refs/heads/stolen >> seen.txt 2>&1; done; "
    "git push origin HEAD:refs/heads/stolen >> seen.txt 2>&1; "
    "printf '%s' \"$GH_TOKEN\" | base64 > leak.txt; "
    'echo "token: $(printf \'%s\' "$GH_TOKEN" | base64)"; '
    "printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: done\\n' > .agent_result.md"
)


def _playbook_command(world: World) -> str:
    return f'{sys.executable} {AGENT} {world.root / "playbook.json"} "$PWD" "$AGENTOS_PROMPT_FILE"'


def _use(world: World, name: str, executor: dict[str, Any]) -> None:
    data = yaml.safe_load(world.config_path.read_text())
    data["executors"] = {name: {"poll_seconds": 0.2, **executor}}
    data["repos"] = [repo_entry("app", "acme/app", executor=name)]
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))


def _actions(world: World, command: str, **extra: Any) -> None:
    _use(world, "actions", {"kind": "github_actions", "command": command, **extra})
    world.sandbox.add_user("acme", scopes=ACTIONS_SCOPES)
    args = ["--config", str(world.config_path), "executor", "install", "app"]
    assert main(args, environ=world.env) == 0


@pytest.fixture
def kube(world: World) -> Iterator[KubernetesSandbox]:
    with KubernetesSandbox() as running:
        api = config.new_client_from_config(config_file=str(running.kubeconfig_path()))
        reader = world.sandbox.add_user("reader")  # a read-only token for the checkout
        world.sandbox.store.repo("acme", "app")["collaborators"]["reader"] = "pull"
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "agentos-git"},
            "stringData": {"token": reader},
        }
        client.CoreV1Api(api).create_namespaced_secret("default", body)
        yield running


def _cluster(world: World, kube: KubernetesSandbox, command: str, **extra: Any) -> None:
    settings = {"image": "agentos/agent:test", "kubeconfig": str(kube.kubeconfig_path())}
    _use(
        world,
        "cluster",
        {"kind": "kubernetes", "command": command, "kubernetes": settings, **extra},
    )


def _supervisor(world: World) -> subprocess.Popen[bytes]:
    """Start a queue tick as cron does, in a process of its own (to kill, or to stop)."""
    return subprocess.Popen(
        [str(ROOT / "bin" / "agentos"), "--config", str(world.config_path), "run", "queue"],
        env=world.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until_the_agent_runs(world: World) -> None:
    """Wait for the remote agent of issue 1 to be under way (its playbook count is written)."""
    counter = world.root / "playbook.json.app-1.count"
    deadline = time.monotonic() + 60
    while not counter.exists():
        assert time.monotonic() < deadline, "the remote agent never started"
        time.sleep(0.1)


def _events(world: World, task_id: str) -> list[dict[str, Any]]:
    return rooms.read(world.root / "runtime" / "rooms", task_id).events


def _merge(world: World, issue_number: int) -> None:
    [pr] = world.tracker.open_pulls("acme/app")
    assert pr.body.startswith(f"Closes #{issue_number}") and "`calc/sub.py`" in pr.body
    assert f"{TEST_COMMAND}: passed" in pr.body  # the tests ran here, on what came back
    assert world.sandbox.wait_ci_idle(60)
    assert world.run("pr_monitor") == 0
    assert world.tracker.open_pulls("acme/app") == []
    assert not world.tracker.issue(world.issue_ref(issue_number)).is_open
    assert world.main_tests_pass("acme/app")


def test_an_issue_delivered_through_github_actions_to_a_merged_pr(world: World) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    _actions(world, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"files": SUB, "summary": "Added calc.sub."}]})
    world.sandbox.clear_requests()
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    kinds = [e["event"] for e in _events(world, "app-1-g1-a1")]
    assert (
        kinds.index("remote.started") < kinds.index("remote.collected") < kinds.index("pr.opened")
    )
    runs = world.tracker.rest.get("/repos/acme/app/actions/runs")["workflow_runs"]
    [run] = [r for r in runs if r["name"] == "Agent OS task"]
    # dispatched on the base branch, never the agent's (whose workflow file it may edit)
    assert (run["event"], run["head_branch"]) == ("workflow_dispatch", "main")
    assert run["display_title"] == "agentos app-1-g1-a1" and run["conclusion"] == "success"
    refs = world.git("ls-remote", world.sandbox.clone_url("acme/app"), cwd=world.root)
    assert "refs/agentos/tasks/" not in refs  # dropped once collected
    _merge(world, issue.number)


def test_an_issue_delivered_through_a_kubernetes_job_to_a_merged_pr(
    world: World, kube: KubernetesSandbox
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    _cluster(world, kube, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"files": SUB, "summary": "Added calc.sub."}]})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    [started] = [e for e in _events(world, "app-1-g1-a1") if e["event"] == "remote.started"]
    assert started["executor"] == "cluster" and started["handle"].startswith("agentos-app-1-g1-a1")
    assert kube.jobs() == []  # collected, then deleted
    _merge(world, issue.number)


def test_a_remote_agent_that_crashes_is_retried_with_the_crash_in_its_prompt(world: World) -> None:
    _actions(world, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook(
        {
            str(issue.number): [
                {"exit": 139, "error": "Segmentation fault (core dumped)"},
                {"files": SUB},
            ]
        }
    )
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    first = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: runner_failure" in first and "Segmentation fault" in first
    prompt = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a2").prompt or ""
    assert "Segmentation fault" in prompt
    assert world.mailbox("retried") == ["app-1-g1-a1"]
    assert world.mailbox("delivered") == ["app-1-g1-a2"]


def test_a_remote_agent_past_its_timeout_is_timed_out_and_the_retry_delivers(
    world: World, kube: KubernetesSandbox
) -> None:
    _cluster(world, kube, _playbook_command(world), timeout_minutes=0.05)  # 3 s
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 60}, {"files": SUB}]})
    began = time.monotonic()
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert time.monotonic() - began < 50  # not the 60 s sleep: the job's timeout ended it
    first = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: timeout" in first
    assert world.mailbox("retried") == ["app-1-g1-a1"]
    assert world.mailbox("delivered") == ["app-1-g1-a2"]


def test_a_setup_that_fails_on_the_runner_is_a_crashed_run(world: World) -> None:
    _actions(world, _playbook_command(world), github_actions={"setup": ["exit 7"]})
    world.issue("acme/app", "Add subtraction")
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    first = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: runner_failure" in first and "failed: failure" in first
    assert world.mailbox("escalated") and world.tracker.open_pulls("acme/app") == []


def test_a_run_that_vanishes_is_recovered_and_run_again(
    world: World, kube: KubernetesSandbox
) -> None:
    _cluster(world, kube, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 30}, {"files": SUB}]})
    api = client.BatchV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig_path())))

    counter = world.root / "playbook.json.app-1.count"  # the agent is under way

    def delete_the_first_job() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not counter.exists():
            time.sleep(0.1)
        [job] = api.list_namespaced_job("default").items
        api.delete_namespaced_job(job.metadata.name, "default", propagation_policy="Background")

    deleter = threading.Thread(target=delete_the_first_job)
    deleter.start()
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    deleter.join()
    events = _events(world, "app-1-g1-a1")
    kinds = [e["event"] for e in events]
    assert "task.recovered" in kinds and kinds.count("remote.started") == 2
    [vanished] = [e for e in events if e["event"] == "remote.ended" and e["phase"] == "vanished"]
    assert vanished["handle"].startswith("agentos-app-1-g1-a1")
    assert world.mailbox("delivered") == ["app-1-g1-a1"]  # the same attempt, run again


@pytest.mark.parametrize("engine", ["actions", "kubernetes"])
def test_a_hostile_agent_in_each_executor_cannot_push_or_leak_the_token(
    world: World, engine: str, request: pytest.FixtureRequest
) -> None:
    command = HOSTILE.replace("$AGENTOS_PORT", str(world.sandbox.port))
    if engine == "actions":
        _actions(world, command)
    else:
        _cluster(world, request.getfixturevalue("kube"), command)
    world.issue("acme/app", "Add subtraction")
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("escalated") == ["app-1-g1-a1"]
    result = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: canary_tripped" in result
    heads = world.git_ls_remote("acme/app")
    assert heads == {"refs/heads/main"}, heads  # not `stolen`, not the agent's branch
    assert world.tracker.open_pulls("acme/app") == []
    token = world.sandbox.token
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    runtime = world.root / "runtime"
    for path in runtime.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and basic.encode() not in data, path


def test_off_now_cancels_the_remote_run_and_requeues_its_task(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _actions(world, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 60, "files": SUB}]})
    assert world.run("dispatcher") == 0
    supervisor = _supervisor(world)
    try:
        _until_the_agent_runs(world)
        args = ["--config", str(world.config_path), "off", "--now"]
        assert main(args, environ=world.env) == 0
        assert supervisor.wait(60) == 0
    finally:
        supervisor.kill()
    assert world.mailbox("inbox") == ["app-1-g1-a1"]  # back, to go on once switched on
    events = _events(world, "app-1-g1-a1")
    [cancelled] = [e for e in events if e["event"] == "remote.cancelled"]
    assert cancelled["reason"] == "stopped"
    run = world.tracker.rest.get(f"/repos/acme/app/actions/runs/{cancelled['handle']}")
    assert run["conclusion"] == "cancelled"
    assert "stopped" in capsys.readouterr().out


def test_a_killed_agent_os_follows_its_remote_run_again_instead_of_starting_another(
    world: World,
) -> None:
    _actions(world, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 4, "files": SUB}]})
    assert world.run("dispatcher") == 0
    supervisor = _supervisor(world)
    _until_the_agent_runs(world)
    worker = rooms.heartbeat_pid(world.root / "runtime" / "rooms" / "app-1-g1-a1")
    supervisor.kill()  # the machine goes down: the supervisor, and the worker if it is there
    if worker is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
    supervisor.wait(10)
    assert world.run("queue") == 0  # the next tick
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    kinds = [e["event"] for e in _events(world, "app-1-g1-a1")]
    assert kinds.count("remote.started") == 1 and "remote.collected" in kinds
    runs = world.tracker.rest.get("/repos/acme/app/actions/runs")["workflow_runs"]
    assert len([r for r in runs if r["name"] == "Agent OS task"]) == 1
    assert len(world.tracker.open_pulls("acme/app")) == 1


def test_a_parked_run_holds_its_slot_with_no_worker_process_until_it_is_collected(
    world: World, kube: KubernetesSandbox
) -> None:
    _cluster(world, kube, _playbook_command(world))
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 4, "files": SUB}]})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    events = _events(world, "app-1-g1-a1")
    kinds = [e["event"] for e in events]
    # the worker left once the Job ran; the supervisor followed it and started one to collect
    assert (
        kinds.index("remote.parked")
        < kinds.index("remote.resumed")
        < kinds.index("remote.collected")
    )
    assert [e["event"] for e in world.events("queue") if e["event"] == "task.parked"]
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    # `started` once for the claim; the collecting worker is counted as resumed
    [finished] = world.events("queue", "run.finished")
    assert (finished["started"], finished["resumed"]) == (1, 1)


def test_what_a_remote_run_reports_it_spent_counts_against_the_days_cap(world: World) -> None:
    report = '{"type":"result","subtype":"success","total_cost_usd":0.6,"usage":{}}'
    command = (
        f"printf 'def sub(a, b):\\n    return a - b\\n' > calc/sub.py; echo '{report}'; "
        "printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: done\\n' > .agent_result.md"
    )
    _actions(world, command)
    data = yaml.safe_load(world.config_path.read_text())
    data["limits"]["max_cost_per_day"] = 0.5
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    world.issue("acme/app", "Add subtraction")
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"]  # under the cap when it started
    [chain] = [e for e in _events(world, "app-1-g1-a1") if e["event"] == "chain.finished"]
    assert chain["cost_usd"] == 0.6  # Claude Code's own report, read from the run's output
    later = world.issue("acme/app", "Add multiplication")
    assert world.run("dispatcher") == 0
    assert world.mailbox("inbox") == []  # the day's cap holds: nothing more is queued
    [capped] = world.events("dispatcher", "spend.capped")
    assert (capped["scope"], capped["spent"], capped["cap"]) == ("global", 0.6, 0.5)
    assert "status:ready" in world.tracker.issue(later.ref).labels

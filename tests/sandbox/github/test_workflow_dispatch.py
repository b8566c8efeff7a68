"""workflow_dispatch: a workflow committed to the repo runs locally, is followed over REST, and
its artifact is downloaded through the signed redirect (issue 21's first brick)."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from github.Repository import Repository
from nacl.public import PublicKey, SealedBox

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, commit

AGENT = """\
name: Agent task
on:
  workflow_dispatch:
    inputs:
      task_id:
        description: the task
        required: true
      base:
        required: false
        default: main
permissions:
  contents: read
jobs:
  agent:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - uses: actions/checkout@v4
        with:
          ref: refs/agentos/tasks/${{ inputs.task_id }}
      - name: Run the agent
        env:
          TASK: ${{ github.event.inputs.task_id }}
          KEY: ${{ secrets.AGENT_KEY }}
        run: |
          mkdir -p out
          echo "task=$TASK base=${{ inputs.base }} key=$KEY" > out/result.txt
          cat prompt.md >> out/result.txt
          echo "run $GITHUB_RUN_ID on $GITHUB_REF by $GITHUB_EVENT_NAME"
      - uses: actions/upload-artifact@v4
        with:
          name: change
          path: out/
"""


def _workflow(body: str) -> str:
    return f"name: W\non:\n  workflow_dispatch:\njobs:\n  one:\n    runs-on: x\n    steps:\n{body}"


@pytest.fixture
def http(sandbox: Sandbox) -> Any:
    with httpx.Client(
        base_url=sandbox.api_url, headers={"Authorization": f"token {sandbox.token}"}
    ) as client:
        yield client


def _push(git: Git, clone: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        commit(git, clone, path, text, f"add {path}")
    git("push", "-q", "origin", "HEAD:main", cwd=clone)


def _dispatch(http: httpx.Client, full: str, workflow: str, **body: Any) -> httpx.Response:
    return http.post(f"/repos/{full}/actions/workflows/{workflow}/dispatches", json=body)


def _finished(http: httpx.Client, full: str, run_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = http.get(f"/repos/{full}/actions/runs/{run_id}").json()
        if run["status"] == "completed":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not complete")


def _log(http: httpx.Client, full: str, run_id: int) -> str:
    (job,) = http.get(f"/repos/{full}/actions/runs/{run_id}/jobs").json()["jobs"]
    found = http.get(f"/repos/{full}/actions/jobs/{job['id']}/logs")
    assert found.status_code == 302
    return httpx.get(found.headers["Location"]).text


def _set_secret(http: httpx.Client, full: str, name: str, value: str) -> int:
    key = http.get(f"/repos/{full}/actions/secrets/public-key").json()
    sealed = SealedBox(PublicKey(base64.b64decode(key["key"]))).encrypt(value.encode())
    body = {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key["key_id"]}
    return http.put(f"/repos/{full}/actions/secrets/{name}", json=body).status_code


def test_a_dispatched_workflow_checks_out_runs_and_uploads_an_artifact(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, http: httpx.Client
) -> None:
    full = repo.full_name
    _push(git, clone, {".github/workflows/agent.yml": AGENT})
    commit(git, clone, "prompt.md", "do the thing\n", "prompt")
    git("push", "-q", "origin", "HEAD:refs/agentos/tasks/t-7", cwd=clone)
    assert _set_secret(http, full, "AGENT_KEY", "s3cret") == 201
    assert _set_secret(http, full, "AGENT_KEY", "s3cret") == 204

    (workflow,) = http.get(f"/repos/{full}/actions/workflows").json()["workflows"]
    assert (workflow["name"], workflow["path"]) == ("Agent task", ".github/workflows/agent.yml")
    assert http.get(f"/repos/{full}/actions/workflows/{workflow['id']}").json() == workflow
    answer = _dispatch(
        http, full, "agent.yml", ref="main", inputs={"task_id": "t-7"}, return_run_details=True
    )
    assert answer.status_code == 200, answer.text
    run = _finished(http, full, answer.json()["workflow_run_id"])
    assert (run["status"], run["conclusion"], run["event"]) == (
        "completed",
        "success",
        "workflow_dispatch",
    ), _log(http, full, run["id"])
    assert run["workflow_id"] == workflow["id"] and run["head_branch"] == "main"
    listed = http.get(f"/repos/{full}/actions/runs", params={"event": "workflow_dispatch"})
    assert [r["id"] for r in listed.json()["workflow_runs"]] == [run["id"]]
    none = http.get(f"/repos/{full}/actions/runs", params={"status": "failure"}).json()
    assert none["total_count"] == 0
    log = _log(http, full, run["id"])
    assert f"run {run['id']} on refs/heads/main by workflow_dispatch" in log

    (artifact,) = http.get(f"/repos/{full}/actions/runs/{run['id']}/artifacts").json()["artifacts"]
    assert artifact["name"] == "change"
    redirect = http.get(f"/repos/{full}/actions/artifacts/{artifact['id']}/zip")
    assert redirect.status_code == 302
    data = httpx.get(redirect.headers["Location"]).content  # signed: no token
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = archive.read("result.txt").decode()
    assert text == "task=t-7 base=main key=s3cret\ndo the thing\n"
    assert not sandbox.violations


def test_a_dispatch_is_refused_as_github_refuses_it(
    repo: Repository, clone: Path, git: Git, http: httpx.Client
) -> None:
    full = repo.full_name
    push_only = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n"
    _push(git, clone, {".github/workflows/agent.yml": AGENT, ".github/workflows/p.yml": push_only})
    unknown = _dispatch(http, full, "agent.yml", ref="main", inputs={"task_id": "1", "x": "2"})
    assert unknown.status_code == 422 and "Unexpected inputs" in unknown.json()["message"]
    missing = _dispatch(http, full, "agent.yml", ref="main", inputs={})
    assert missing.status_code == 422 and "task_id" in missing.json()["message"]
    no_trigger = _dispatch(http, full, "p.yml", ref="main")
    assert no_trigger.status_code == 422
    assert "workflow_dispatch" in no_trigger.json()["message"]
    assert _dispatch(http, full, "absent.yml", ref="main").status_code == 404
    assert _dispatch(http, full, "agent.yml", ref="nope", inputs={}).status_code == 422
    assert http.get(f"/repos/{full}/actions/runs").json()["total_count"] == 0


def test_cancelling_a_sleeping_run_kills_it(
    repo: Repository, clone: Path, git: Git, http: httpx.Client
) -> None:
    full = repo.full_name
    _push(git, clone, {".github/workflows/s.yml": _workflow("      - run: sleep 600\n")})
    answer = _dispatch(http, full, "s.yml", ref="main", return_run_details=True)
    run_id = answer.json()["workflow_run_id"]
    deadline = time.monotonic() + 30
    while http.get(f"/repos/{full}/actions/runs/{run_id}").json()["status"] != "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # the step is sleeping
    started = time.monotonic()
    assert http.post(f"/repos/{full}/actions/runs/{run_id}/cancel").status_code == 202
    run = _finished(http, full, run_id, timeout=20)
    assert run["conclusion"] == "cancelled" and time.monotonic() - started < 20
    (job,) = http.get(f"/repos/{full}/actions/runs/{run_id}/jobs").json()["jobs"]
    assert job["conclusion"] == "cancelled"
    assert http.post(f"/repos/{full}/actions/runs/{run_id}/cancel").status_code == 409


def test_a_read_only_token_cannot_push_and_unknown_actions_fail(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, http: httpx.Client
) -> None:
    full = repo.full_name
    push = _workflow(
        "      - uses: actions/checkout@v4\n"
        "      - run: |\n"
        "          git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x\n"
        "          git push origin HEAD:refs/heads/sneaky\n"
    )
    other = _workflow("      - uses: actions/setup-python@v5\n      - run: echo never\n")
    _push(git, clone, {".github/workflows/push.yml": push, ".github/workflows/o.yml": other})
    pushed = _dispatch(http, full, "push.yml", ref="main", return_run_details=True)
    run = _finished(http, full, pushed.json()["workflow_run_id"])
    assert run["conclusion"] == "failure"
    log = _log(http, full, run["id"])
    assert "denied" in log and "Process completed with exit code" in log
    assert "refs/heads/sneaky" not in git("ls-remote", "origin", cwd=clone)

    used = _dispatch(http, full, "o.yml", ref="main", return_run_details=True)
    run = _finished(http, full, used.json()["workflow_run_id"])
    assert run["conclusion"] == "failure"
    log = _log(http, full, run["id"])
    assert "##[error]not emulated: actions/setup-python@v5" in log and "never" not in log
    (job,) = http.get(f"/repos/{full}/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert [s["conclusion"] for s in job["steps"]] == ["failure", "skipped"]


def test_a_write_token_pushes_and_rich_expressions_fail_clearly(
    repo: Repository, clone: Path, git: Git, http: httpx.Client
) -> None:
    full = repo.full_name
    push = _workflow(
        "      - uses: actions/checkout@v4\n      - run: git push origin HEAD:refs/heads/from-run\n"
    ).replace("jobs:", "permissions:\n  contents: write\njobs:")
    rich = _workflow("      - run: echo ${{ format('{0}', github.sha) }}\n")
    _push(git, clone, {".github/workflows/w.yml": push, ".github/workflows/r.yml": rich})
    run = _finished(
        http,
        full,
        _dispatch(http, full, "w.yml", ref="main", return_run_details=True).json()[
            "workflow_run_id"
        ],
    )
    assert run["conclusion"] == "success", _log(http, full, run["id"])
    assert "refs/heads/from-run" in git("ls-remote", "origin", cwd=clone)
    run = _finished(
        http,
        full,
        _dispatch(http, full, "r.yml", ref="main", return_run_details=True).json()[
            "workflow_run_id"
        ],
    )
    assert run["conclusion"] == "failure"
    assert "expression not emulated: ${{ format('{0}', github.sha) }}" in _log(
        http, full, run["id"]
    )

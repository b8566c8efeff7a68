"""Run a dispatched workflow locally, as a GitHub-hosted runner would, within what is emulated.

Each job (in file order) runs its `run:` steps with bash in a scratch workspace, with GitHub's
environment and the simple `${{ ctx.name }}` forms of `inputs`, `github.event.inputs`,
`secrets`, `env` and `github`; richer expressions, `if:`, matrices, containers and services
fail the step or job with a line saying so. `uses:` is emulated for `actions/checkout@v4` and
`actions/upload-artifact@v4` only (steps.py). Each job is an Actions job (a check run of the
run's check suite, whose id is the run's); its log is written as Actions writes one.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from orchestrator.sandbox.github import actions, shapes, steps, webhooks, workflows
from orchestrator.sandbox.github.actions import log_file
from orchestrator.sandbox.github.api import Call
from orchestrator.sandbox.github.check_events import conclusion
from orchestrator.sandbox.github.checks import CI_APP, change_check_run, new_check_run
from orchestrator.sandbox.github.state import Json, now_iso
from orchestrator.sandbox.github.steps import stamp

log = logging.getLogger(__name__)
WRITER = "github-actions[bot]"  # GITHUB_TOKEN with `contents: write`
READER = "github-actions-readonly"  # `contents: read`: a user, since every sandbox Bot may push
DEFAULT_JOB_MINUTES = 360


@dataclass
class Active:
    """A run being executed: its thread, and what cancelling it must stop."""

    run_id: int
    cancelled: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    step: steps.Running = field(default_factory=steps.Running)


_ACTIVE: dict[tuple[str, int], Active] = {}
_GUARD = threading.Lock()


def dispatch(
    call: Call, repo: Json, path: str, doc: Json, ref: str, sha: str, inputs: dict[str, Any]
) -> Json:
    """Record a `workflow_dispatch` run with a queued job per job of `doc`, and start it."""
    workflow = workflows.record(call.store, repo, path)
    jobs = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    counts: Json = repo.setdefault("workflow_run_numbers", {})
    counts[path] = counts.get(path, 0) + 1
    first: Json | None = None
    job_ids: list[int] = []
    for key, spec in (jobs or {"(no jobs)": {}}).items():
        name = str(spec.get("name") or key) if isinstance(spec, dict) else str(key)
        check = new_check_run(
            call.store,
            repo,
            {"name": name, "head_sha": sha, "status": "queued", "output": {}},
            CI_APP["slug"],
            own_suite=first is None,
        )
        first = first or check
        check.update(job=True, suite=first["suite"], job_key=key, dispatched=True)
        job_ids.append(check["id"])
    assert first is not None
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    run: Json = {
        "id": first["suite"],
        "workflow_path": path,
        "workflow_id": workflow["id"],
        "name": str(doc.get("name") or path),
        "display_title": workflows.display_title(doc, path, inputs),
        "run_number": counts[path],
        "event": "workflow_dispatch",
        "status": "queued",
        "conclusion": None,
        "head_sha": sha,
        "head_branch": branch,
        "ref": ref,
        "actor": call.login,
        "inputs": inputs,
        "jobs": job_ids,
        "created_at": now_iso(),
        "run_started_at": now_iso(),
        "updated_at": now_iso(),
    }
    repo.setdefault("workflow_runs", {})[str(run["id"])] = run
    call.store.save()
    _announce(call, repo, run, "requested")
    active = Active(run["id"])
    key = (str(call.store.data_dir), run["id"])
    with _GUARD:
        _ACTIVE[key] = active
    active.thread = threading.Thread(
        target=_execute,
        args=(replace(call, login=call.login), repo, run, doc, active, key),
        name=f"sandbox-run-{run['id']}",
        daemon=True,
    )
    active.thread.start()
    return run


def cancel(call: Call, run: Json) -> None:
    """Stop a queued or running run: its running step's process group is killed."""
    run["cancel_requested"] = True
    with _GUARD:
        active = _ACTIVE.get((str(call.store.data_dir), run["id"]))
    if active is not None:
        active.cancelled.set()
        active.step.kill()


def stop_all(data_dir: Path, timeout: float = 30.0) -> None:
    """Cancel every run of a sandbox (it is stopping) and wait for their threads."""
    with _GUARD:
        mine = [a for (where, _), a in _ACTIVE.items() if where == str(data_dir)]
    for active in mine:
        active.cancelled.set()
        active.step.kill()
    for active in mine:
        if active.thread is not None:
            active.thread.join(timeout)


def wait(data_dir: Path, timeout: float = 60.0) -> bool:
    """Block until no dispatched run of the sandbox is running; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _GUARD:
            if not any(where == str(data_dir) for where, _ in _ACTIVE):
                return True
        time.sleep(0.05)
    return False


def _announce(call: Call, repo: Json, run: Json, action: str) -> None:
    with call.store.lock:
        webhooks.emit(
            call,
            repo,
            "workflow_run",
            action,
            lambda: {
                "workflow": workflows.render(call, repo, run["workflow_path"], run["name"]),
                "workflow_run": render_run(call, repo, run),
            },
        )


def _job(repo: Json, job_id: int) -> Json:
    found: Json = repo["check_runs"][str(job_id)]
    return found


def _execute(
    call: Call, repo: Json, run: Json, doc: Json, active: Active, key: tuple[str, int]
) -> None:
    token = "ghs_" + secrets.token_hex(18)
    work = Path(tempfile.mkdtemp(prefix="sandbox-run-"))
    try:
        with call.store.lock:
            run.update(status="in_progress", updated_at=now_iso())
            login = _grant(call, repo, doc, token)
        _announce(call, repo, run, "in_progress")
        failed: set[str] = set()
        for job_id in run["jobs"]:
            job = _job(repo, job_id)
            spec = (doc.get("jobs") or {}).get(job["job_key"], {})
            _run_job(call, repo, run, doc, job, spec, active, failed, work, token, login)
        with call.store.lock:
            jobs = [_job(repo, j) for j in run["jobs"]]
            if active.cancelled.is_set():
                run["conclusion"] = "cancelled"
            else:
                run["conclusion"] = conclusion(jobs) or "success"
            run.update(status="completed", updated_at=now_iso())
            call.store.save()
        _announce(call, repo, run, "completed")
    except Exception:  # a sandbox bug must end the run, not leave it running
        log.exception("sandbox.workflow_run_crashed")
        with call.store.lock:
            run.update(status="completed", conclusion="failure", updated_at=now_iso())
    finally:
        with call.store.lock:
            call.store.tokens.pop(token, None)  # GITHUB_TOKEN expires with its run
            call.store.save()
        shutil.rmtree(work, ignore_errors=True)
        with _GUARD:
            _ACTIVE.pop(key, None)


def _grant(call: Call, repo: Json, doc: Json, token: str) -> str:
    """Give the run's GITHUB_TOKEN: write access as the Actions bot only with `contents: write`."""
    perms = doc.get("permissions")
    jobs = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    for spec in (jobs or {}).values():
        if isinstance(spec, dict) and "permissions" in spec:
            perms = spec["permissions"]  # the sandbox keeps one token per run: the last job's
    writes = perms == "write-all" or (isinstance(perms, dict) and perms.get("contents") == "write")
    login = WRITER if writes else READER
    if call.store.user(login) is None:
        call.store.users[login] = {
            "login": login,
            "id": call.store.new_id(),
            "type": "Bot" if writes else "User",
            "name": "GitHub Actions",
            "email": f"{login}@users.noreply.sandbox",
            "created_at": now_iso(),
        }
    if not writes and repo["private"]:
        repo["collaborators"].setdefault(READER, "pull")
    call.store.tokens[token] = {"login": login, "scopes": []}
    return login


def _run_job(
    call: Call,
    repo: Json,
    run: Json,
    doc: Json,
    job: Json,
    spec: Any,
    active: Active,
    failed: set[str],
    work: Path,
    token: str,
    login: str,
) -> None:
    lines: list[str] = []
    spec = spec if isinstance(spec, dict) else {}
    needs = spec.get("needs") or []
    needs = [needs] if isinstance(needs, str) else list(needs)
    if active.cancelled.is_set() or any(n in failed for n in needs):
        outcome = "cancelled" if active.cancelled.is_set() else "skipped"
        _finish(call, repo, job, outcome, [], lines)
        failed.add(job["job_key"])
        return
    with call.store.lock:
        change_check_run(job, {"status": "in_progress", "started_at": now_iso()})
        call.store.save()
    call.hooks.checked(repo, job["head_sha"])
    workspace = work / job["job_key"] / repo["name"]
    workspace.mkdir(parents=True)
    context = steps.Context(
        call=call,
        repo=repo,
        run=run,
        token=token,
        workspace=workspace,
        temp=work / job["job_key"] / "_temp",
        secrets=_secrets(repo, token),
        env={},
        lines=lines,
        running=active.step,
        cancelled=active.cancelled,
        login=login,
    )
    records: list[Json] = []
    minutes = spec.get("timeout-minutes", DEFAULT_JOB_MINUTES)
    outcome = steps.run_all(context, doc, spec, records, time.monotonic() + float(minutes) * 60)
    if outcome == "timed_out":
        lines.append(
            stamp(
                "##[error]The job running on runner sandbox has exceeded the maximum execution"
                f" time of {minutes} minutes."
            )
        )
        outcome = "cancelled"
    if outcome != "success":
        failed.add(job["job_key"])
    _finish(call, repo, job, outcome, records, lines)


def _secrets(repo: Json, token: str) -> dict[str, str]:
    found = {name: str(s["value"]) for name, s in repo.get("actions_secrets", {}).items()}
    return {**found, "GITHUB_TOKEN": token}


def _finish(
    call: Call, repo: Json, job: Json, outcome: str, records: list[Json], lines: list[str]
) -> None:
    path = log_file(call.store, job["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    with call.store.lock:
        job["steps"] = records
        title = {"success": "Passed", "failure": "Failed"}.get(outcome, outcome.capitalize())
        text = "".join(line.split(" ", 1)[-1] for line in lines)
        change_check_run(
            job, {"conclusion": outcome, "output": {"title": title, "summary": "", "text": text}}
        )
        call.store.save()
    call.hooks.checked(repo, job["head_sha"])


def render_run(call: Call, repo: Json, run: Json) -> Json:
    """Return GitHub's `workflow-run` for a dispatched run."""
    full = f"{repo['owner']}/{repo['name']}"
    user = call.store.user(run["actor"]) or call.store.users[repo["owner"]]
    actor = shapes.simple_user(call.api, call.base, user)
    first = repo["check_runs"][str(run["jobs"][0])]
    shown = actions.render_workflow_run(call, repo, {**first, **_as_ci(run)}, actor)
    api = f"{call.api}/repos/{full}"
    shown.update(
        name=run["name"],
        path=run["workflow_path"],
        display_title=run.get("display_title") or run["name"],
        workflow_id=run["workflow_id"],
        workflow_url=f"{api}/actions/workflows/{run['workflow_id']}",
        pull_requests=[],
        updated_at=run["updated_at"],
        run_started_at=run["run_started_at"],
        created_at=run["created_at"],
    )
    return shown


def _as_ci(run: Json) -> Json:
    return {
        "suite": run["id"],
        "head_sha": run["head_sha"],
        "head_branch": run["head_branch"],
        "run_number": run["run_number"],
        "workflow_id": run["workflow_id"],
        "event": run["event"],
        "status": run["status"],
        "conclusion": run["conclusion"],
        "created_at": run["created_at"],
        "started_at": run["run_started_at"],
        "completed_at": run["updated_at"] if run["status"] == "completed" else None,
    }

"""Serve the local CI's runs as GitHub Actions serves a job: the job, and its log.

Each check run the local CI makes is a job whose id is the run's (GitHub's Actions check runs
share their job's id) in a workflow run numbered by the check suite, of the repository's one
workflow, "Sandbox CI". Its log is written the way Actions writes one (a timestamp on every
line, `##[group]`, `##[error]`), and served as GitHub does: `…/actions/jobs/{job_id}/logs`
answers 302 with a URL that is signed, lives a minute and needs no token (`LOG_PATH`, answered
by the sandbox before it asks who is calling). The workflow run is what `workflow_run` webhooks
carry (`render_workflow_run`). Dispatched workflows' jobs (runner.py) are served by the same
job endpoints; their artifacts' zips are signed the same way (`ARTIFACT_PATH`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

from orchestrator.sandbox.github import gitrepo, pulls, shapes
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import Call, Reply, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.server import Incoming, Outgoing
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso

SIGNED_PREFIX = "/_actions/"  # signed URLs: answered before the sandbox asks for a token
LOG_PATH = "/_actions/signedlogcontent/"  # + owner/name/job id ?expires=…&signature=…
ARTIFACT_PATH = "/_actions/signedartifact/"  # + owner/name/artifact id ?expires=…&signature=…
URL_LIFETIME = 60  # seconds, as GitHub's "This link expires after 1 minute"
WORKFLOW = "Sandbox CI"
WORKFLOW_PATH = ".github/workflows/sandbox-ci.yml"  # what Actions would name it; no such file
HEADS = "refs/heads/"
PER_LEVEL = 10  # annotations per level, as Actions keeps per step
_KEY = secrets.token_bytes(32)  # signs log URLs; a URL outlives no sandbox process
_LOCATED = re.compile(
    r"^(?P<path>[\w.-][\w./-]*\.\w+):(?P<line>\d+)(?::\d+)?:\s*(?P<message>\S.*)$"
)
_COMMAND = re.compile(r"^::(?P<level>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<message>.*)$")
_LEVELS = {"error": "failure", "warning": "warning", "notice": "notice"}


def job_url(base: str, repo: Json, run: Json) -> str:
    """Return the job's page, which its check run's details_url and html_url name."""
    return f"{base}/{repo['owner']}/{repo['name']}/actions/runs/{run['suite']}/job/{run['id']}"


def new_run(store: Store, repo: Json, run: Json) -> None:
    """Make a local CI check run the next run of the repository's workflow, recording what
    triggered it (`trigger`) while that is still true."""
    workflow = repo.setdefault("ci_workflow", {"id": store.new_id(), "created_at": now_iso()})
    workflow["runs"] = workflow.get("runs", 0) + 1
    event, branch = trigger(store, repo, run["head_sha"])
    run.update(
        job=True,
        run_number=workflow["runs"],
        event=event,
        head_branch=branch,
        created_at=run["started_at"],
    )


def trigger(store: Store, repo: Json, sha: str) -> tuple[str, str | None]:
    """Return the event that runs CI on `sha` and its branch, as a workflow run names them:
    `merge_group` for a merge queue group, `pull_request` for an open pull request's head, else
    `push` (a branch at `sha`, if any)."""
    for line in repo.get("merge_queues", {}).values():
        for entry in line["entries"]:
            if entry["group"] == sha and entry["ref"]:
                return "merge_group", str(entry["ref"]).removeprefix(HEADS)
    tips = {ref.removeprefix(HEADS): tip for ref, tip in gitrepo.refs(store.git_dir(repo), HEADS)}
    for issue in repo["issues"].values():
        pull = issue["pull"]
        if pull and issue["state"] == "open" and tips.get(pull["head"]) == sha:
            return "pull_request", str(pull["head"])
    return "push", next((branch for branch, tip in tips.items() if tip == sha), None)


def render_workflow(call: Call, repo: Json) -> Json:
    """Return the `workflow` a `workflow_run` webhook carries: the repository's one workflow."""
    workflow, full = repo["ci_workflow"], f"{repo['owner']}/{repo['name']}"
    return {
        "badge_url": f"{call.base}/{full}/workflows/sandbox-ci/badge.svg",
        "created_at": workflow["created_at"],
        "html_url": f"{call.base}/{full}/blob/{repo['default_branch']}/{WORKFLOW_PATH}",
        "id": workflow["id"],
        "name": WORKFLOW,
        "node_id": node_id("Workflow", workflow["id"]),
        "path": WORKFLOW_PATH,
        "state": "active",
        "updated_at": workflow["created_at"],
        "url": f"{call.api}/repos/{full}/actions/workflows/{workflow['id']}",
    }


def render_workflow_run(call: Call, repo: Json, run: Json, actor: Json) -> Json:
    """Return the `workflow_run` a webhook carries for a local CI run (its check suite's id)."""
    full, suite = f"{repo['owner']}/{repo['name']}", run["suite"]
    api, workflow = f"{call.api}/repos/{full}", run.get("workflow_id")
    workflow = workflow or repo["ci_workflow"]["id"]
    url = f"{api}/actions/runs/{suite}"
    owner = call.store.users[repo["owner"]]
    whole = shapes.repository(call.api, call.base, repo, owner)
    lite = {k: v for k, v in whole.items() if k in _LITE or k.endswith("_url") and k not in _FULL}
    commit = head_commit(call.store, repo, run["head_sha"])
    return {
        "id": suite,
        "name": WORKFLOW,
        "node_id": node_id("WorkflowRun", suite),
        "check_suite_id": suite,
        "check_suite_node_id": node_id("CheckSuite", suite),
        "head_branch": run.get("head_branch"),
        "head_sha": run["head_sha"],
        "path": WORKFLOW_PATH,
        "display_title": commit["message"].split("\n", 1)[0],
        "run_number": run.get("run_number", 1),
        "event": run.get("event", "push"),
        "status": run["status"],
        "conclusion": run["conclusion"],
        "workflow_id": workflow,
        "url": url,
        "html_url": f"{call.base}/{full}/actions/runs/{suite}",
        "pull_requests": [] if run.get("event") == "merge_group" else pulls_at(call, repo, run),
        "created_at": run.get("created_at", run["started_at"]),
        "updated_at": run["completed_at"] or run["started_at"],
        "actor": actor,
        "triggering_actor": actor,
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": run["started_at"],
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{api}/check-suites/{suite}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{workflow}",
        "head_commit": commit,
        "repository": lite,
        "head_repository": lite,
    }


# GitHub's "Repository Lite", which a workflow run carries: names and API links, no clone URLs.
_LITE = {"id", "node_id", "name", "full_name", "private", "owner", "description", "fork", "url"}
_FULL = {"git_url", "ssh_url", "clone_url", "svn_url", "mirror_url"}


def pulls_at(call: Call, repo: Json, run: Json) -> list[Json]:
    """Return the open pull requests whose head is the run's commit, as check runs list them."""
    return [
        pulls.minimal(call, repo, issue)
        for issue in repo["issues"].values()
        if issue["pull"]
        and issue["state"] == "open"
        and pulls.head_sha(call.store, repo, issue) == run["head_sha"]
    ]


def head_commit(store: Store, repo: Json, sha: str) -> Json:
    """Return the `head_commit` check suite and workflow run webhooks carry."""
    found = gitrepo.commit(store.git_dir(repo), sha)
    return {
        "id": found.sha,
        "tree_id": found.tree,
        "message": found.message,
        "timestamp": found.committer[2],
        "author": {"name": found.author[0], "email": found.author[1]},
        "committer": {"name": found.committer[0], "email": found.committer[1]},
    }


def log_file(store: Store, job_id: int) -> Path:
    """Return where a job's log is kept (beside the state, not in it: logs are long)."""
    return store.data_dir / "actions-logs" / f"{job_id}.log"


def write_log(store: Store, job_id: int, command: str, output: str, code: int) -> None:
    """Write a job's log as Actions does: the step's command in a group, its output, the end."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    lines = [f"##[group]Run {command}", command, "shell: /usr/bin/bash -e {0}", "##[endgroup]"]
    lines += output.splitlines()
    if code:
        lines.append(f"##[error]Process completed with exit code {code}.")
    path = log_file(store, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeff" + "".join(f"{stamp} {line}\n" for line in lines), encoding="utf-8")


def annotations_in(output: str, failed: bool) -> list[Json]:
    """Return the annotations a run's output asks for: `::error file=F,line=N::message` workflow
    commands, and `path:line: message` lines (failures when the run failed), 10 per level."""
    found: list[Json] = []
    for line in output.splitlines():
        command, located = _COMMAND.match(line), _LOCATED.match(line)
        if command:
            props = dict(p.split("=", 1) for p in (command["props"] or "").split(",") if "=" in p)
            level, path = _LEVELS[command["level"]], props.get("file", ".github")
            number = int(props["line"]) if props.get("line", "").isdigit() else 1
            message = command["message"]
        elif located:
            level = "failure" if failed else "warning"
            path, number, message = located["path"], int(located["line"]), located["message"]
        else:
            continue
        if sum(n["annotation_level"] == level for n in found) < PER_LEVEL:
            note = {"path": path, "start_line": number, "end_line": number}
            found.append({**note, "annotation_level": level, "message": message.strip()})
    return found


def render_job(call: Call, repo: Json, run: Json) -> Json:
    """Return GitHub's `job` for a local CI run."""
    api = f"{call.api}/repos/{repo['owner']}/{repo['name']}"
    done = run["status"] == "completed"
    return {
        "id": run["id"],
        "run_id": run["suite"],
        "run_url": f"{api}/actions/runs/{run['suite']}",
        "run_attempt": 1,
        "node_id": node_id("CheckRun", run["id"]),
        "head_sha": run["head_sha"],
        "url": f"{api}/actions/jobs/{run['id']}",
        "html_url": job_url(call.base, repo, run),
        "status": run["status"],
        "conclusion": run["conclusion"],
        "created_at": run["started_at"],
        "started_at": run["started_at"],
        "completed_at": run["completed_at"],
        "name": run["name"],
        "steps": run.get("steps")
        if run.get("dispatched")
        else [
            {
                "name": "Run the CI command",
                "status": run["status"],
                "conclusion": run["conclusion"],
                "number": 1,
                "started_at": run["started_at"],
                "completed_at": run["completed_at"] if done else None,
            }
        ],
        "check_run_url": f"{api}/check-runs/{run['id']}",
        "labels": ["sandbox"],
        "runner_id": None,
        "runner_name": None,
        "runner_group_id": None,
        "runner_group_name": None,
        "workflow_name": run.get("workflow_name", WORKFLOW),
        "head_branch": run.get("head_branch") if run.get("dispatched") else None,
    }


def _job_for(call: Call, repo: Json) -> Json:
    run: Json | None = repo["check_runs"].get(call.params["job_id"])
    if run is None or not run.get("job"):
        raise not_found()
    return run


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}", "actions/get-job-for-workflow-run"
)
def get_job(call: Call) -> Reply:
    """Return one job of the local CI."""
    repo = repo_for(call)
    return Reply(200, render_job(call, repo, _job_for(call, repo)))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
    "actions/download-job-logs-for-workflow-run",
)
def download_job_logs(call: Call) -> Reply:
    """Redirect to the job's log at a signed URL that lives a minute (404 before it has one)."""
    repo = repo_for(call)
    run = _job_for(call, repo)
    if not log_file(call.store, run["id"]).is_file():
        raise not_found()
    expires = int(time.time()) + URL_LIFETIME
    where = f"{repo['owner']}/{repo['name']}/{run['id']}"
    query = f"expires={expires}&signature={sign(where, expires)}"
    return Reply(302, None, {"Location": f"{call.base}{LOG_PATH}{where}?{query}"})


def signed_log(store: Store, request: Incoming) -> Outgoing:
    """Answer a signed log URL with the log as plain text (an artifact's with its zip); 403 once
    expired or when forged."""
    artifact = request.path.startswith(ARTIFACT_PATH)
    if not artifact and not request.path.startswith(LOG_PATH):
        return Outgoing(404, {"Content-Type": "text/plain"}, b"BlobNotFound")
    where = request.path[len(ARTIFACT_PATH if artifact else LOG_PATH) :]
    query = parse_qs(request.query_string)
    expires = (query.get("expires") or ["0"])[0]
    signature = (query.get("signature") or [""])[0]
    valid = expires.isdigit() and hmac.compare_digest(signature, sign(where, int(expires)))
    if not valid or int(expires) < time.time():
        return Outgoing(403, {"Content-Type": "text/plain"}, b"AuthenticationFailed")
    job = where.rsplit("/", 1)[-1]
    folder, suffix = ("actions-artifacts", "zip") if artifact else ("actions-logs", "log")
    path = store.data_dir / folder / f"{job}.{suffix}" if job.isdigit() else None
    if path is None or not path.is_file():
        return Outgoing(404, {"Content-Type": "text/plain"}, b"BlobNotFound")
    kind = "application/zip" if artifact else "text/plain; charset=utf-8"
    return Outgoing(200, {"Content-Type": kind}, path.read_bytes())


def sign(where: str, expires: int) -> str:
    return hmac.new(_KEY, f"{where}:{expires}".encode(), hashlib.sha256).hexdigest()

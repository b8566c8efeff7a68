"""Serve the local CI's runs as GitHub Actions serves a job: the job, and its log.

Each check run the local CI makes is a job whose id is the run's (GitHub's Actions check runs
share their job's id) in a workflow run numbered by the check suite. Its log is written the way
Actions writes one (a timestamp on every line, `##[group]`, `##[error]`), and served as GitHub
does: `…/actions/jobs/{job_id}/logs` answers 302 with a URL that is signed, lives a minute and
needs no token (`LOG_PATH`, answered by the sandbox before it asks who is calling).
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

from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import Call, Reply, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.server import Incoming, Outgoing
from orchestrator.sandbox.github.state import Json, Store, node_id

LOG_PATH = "/_actions/signedlogcontent/"  # + owner/name/job id ?expires=…&signature=…
URL_LIFETIME = 60  # seconds, as GitHub's "This link expires after 1 minute"
WORKFLOW = "Sandbox CI"
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
        "steps": [
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
        "workflow_name": WORKFLOW,
        "head_branch": None,
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
    query = f"expires={expires}&signature={_sign(where, expires)}"
    return Reply(302, None, {"Location": f"{call.base}{LOG_PATH}{where}?{query}"})


def signed_log(store: Store, request: Incoming) -> Outgoing:
    """Answer a signed log URL with the log as plain text; 403 once expired or when forged."""
    where = request.path[len(LOG_PATH) :]
    query = parse_qs(request.query_string)
    expires = (query.get("expires") or ["0"])[0]
    signature = (query.get("signature") or [""])[0]
    valid = expires.isdigit() and hmac.compare_digest(signature, _sign(where, int(expires)))
    if not valid or int(expires) < time.time():
        return Outgoing(403, {"Content-Type": "text/plain"}, b"AuthenticationFailed")
    job = where.rsplit("/", 1)[-1]
    path = log_file(store, int(job)) if job.isdigit() else None
    if path is None or not path.is_file():
        return Outgoing(404, {"Content-Type": "text/plain"}, b"BlobNotFound")
    return Outgoing(200, {"Content-Type": "text/plain; charset=utf-8"}, path.read_bytes())


def _sign(where: str, expires: int) -> str:
    return hmac.new(_KEY, f"{where}:{expires}".encode(), hashlib.sha256).hexdigest()

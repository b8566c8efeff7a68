"""Serve commit statuses (create, list, combined), check runs (create, update, get, list by ref)
and their annotations."""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import actions, check_events, gitrepo, shapes, webhooks
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.gitdata import render_commit, repo_url, sha_for
from orchestrator.sandbox.github.pulls import combined_state, head_sha, minimal
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso

CI_APP: Json = {
    "id": 1,
    "slug": "sandbox-ci",
    "name": "Sandbox CI",
    "created_at": "2026-01-01T00:00:00Z",
}
STATES = ("error", "failure", "pending", "success")
TEXT_LIMIT = 65535


def render_status(call: Call, repo: Json, status: Json) -> Json:
    """Return GitHub's `status`."""
    creator = call.store.users[status["creator"]]
    return {
        "url": f"{repo_url(call, repo)}/statuses/{status['sha']}",
        "id": status["id"],
        "node_id": node_id("StatusContext", status["id"]),
        "state": status["state"],
        "avatar_url": f"{call.base}/avatars/u/{creator['id']}?v=4",
        "description": status["description"],
        "target_url": status["target_url"],
        "context": status["context"],
        "created_at": status["created_at"],
        "updated_at": status["updated_at"],
        "creator": shapes.simple_user(call.api, call.base, creator),
    }


@ROUTES.route("POST", "/repos/{owner}/{repo}/statuses/{sha}", "repos/create-commit-status")
def create_status(call: Call) -> Reply:
    """Record a status for a commit under a context (default "default")."""
    repo = repo_for(call, "push")
    sha = sha_for(call, repo, call.params["sha"])
    if call.field("state") not in STATES:
        raise invalid("Status", "state")
    now = now_iso()
    status = {
        "id": call.store.new_id(),
        "sha": sha,
        "state": call.field("state"),
        "target_url": call.field("target_url"),
        "description": call.field("description"),
        "context": call.field("context") or "default",
        "creator": call.login,
        "created_at": now,
        "updated_at": now,
    }
    repo["statuses"].append(status)
    webhooks.emit(call, repo, "status", None, lambda: _status_event(call, repo, status))
    call.hooks.checked(repo, sha)
    rendered = render_status(call, repo, status)
    return Reply(201, rendered, {"Location": rendered["url"]})


def _status_event(call: Call, repo: Json, status: Json) -> Json:
    """Return the `status` webhook's fields: the status, its commit, the branches at it."""
    url, sha = repo_url(call, repo), status["sha"]
    heads = gitrepo.refs(call.store.git_dir(repo), "refs/heads/")
    branches = [
        {
            "name": ref.removeprefix("refs/heads/"),
            "commit": {"sha": sha, "url": f"{url}/commits/{sha}"},
            "protected": ref.removeprefix("refs/heads/") in repo.get("protection", {}),
        }
        for ref, tip in heads
        if tip == sha
    ]
    shown = render_status(call, repo, status)
    return {
        **{k: shown[k] for k in ("id", "target_url", "avatar_url", "context", "description")},
        **{k: shown[k] for k in ("state", "created_at", "updated_at")},
        "sha": sha,
        "name": f"{repo['owner']}/{repo['name']}",
        "commit": render_commit(call, repo, sha),
        "branches": branches[:10],
    }


def _statuses(call: Call, repo: Json) -> list[Json]:
    sha = sha_for(call, repo, call.params["ref"])
    return [s for s in reversed(repo["statuses"]) if s["sha"] == sha]


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/commits/{ref+}/statuses", "repos/list-commit-statuses-for-ref"
)
def list_statuses(call: Call) -> Reply:
    """List a commit's statuses, newest first."""
    repo = repo_for(call)
    return paginate(call, _statuses(call, repo), lambda s: render_status(call, repo, s))


# PyGithub's Commit.get_statuses() calls this older path; GitHub still serves it, the description
# omits it.
@ROUTES.route("GET", "/repos/{owner}/{repo}/statuses/{ref+}", None)
def list_statuses_legacy(call: Call) -> Reply:
    """List a commit's statuses, newest first (legacy path)."""
    return list_statuses(call)


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/commits/{ref+}/status", "repos/get-combined-status-for-ref"
)
def combined_status(call: Call) -> Reply:
    """Return the latest status per context and their combined state."""
    repo = repo_for(call)
    latest: dict[str, Json] = {}
    for status in _statuses(call, repo):
        latest.setdefault(status["context"], status)
    statuses = [
        {k: v for k, v in render_status(call, repo, s).items() if k != "creator"}
        for s in latest.values()
    ]
    sha = sha_for(call, repo, call.params["ref"])
    owner = call.store.users[repo["owner"]]
    return Reply(
        200,
        {
            "state": combined_state([s["state"] for s in latest.values()]),
            "statuses": statuses,
            "sha": sha,
            "total_count": len(statuses),
            "repository": shapes.repository(call.api, call.base, repo, owner),
            "commit_url": f"{repo_url(call, repo)}/commits/{sha}",
            "url": f"{repo_url(call, repo)}/commits/{sha}/status",
        },
    )


def new_check_run(
    store: Store, repo: Json, fields: Json, app: str, own_suite: bool = False
) -> Json:
    """Create a check run record owned by the app `app` (a slug) from a create request's fields.

    As on GitHub, it joins its app's check suite on the commit (made with its first run); with
    `own_suite` it has one of its own, as each Actions workflow run does.
    """
    now = now_iso()
    suites = {
        r["suite"]
        for r in repo["check_runs"].values()
        if (r["app"], r["head_sha"]) == (app, fields["head_sha"]) and not r.get("job")
    }
    run: Json = {
        "id": store.new_id(),
        "app": app,
        "name": fields["name"],
        "head_sha": fields["head_sha"],
        "status": "queued",
        "conclusion": None,
        "started_at": now,
        "completed_at": None,
        "details_url": None,
        "external_id": None,
        "output": {},
        "suite": min(suites) if suites and not own_suite else store.new_id(),
    }
    repo["check_runs"][str(run["id"])] = run
    return change_check_run(run, fields)


def change_check_run(run: Json, fields: Json) -> Json:
    """Apply create/update fields; a conclusion completes the run, as GitHub does."""
    for key in ("name", "details_url", "external_id", "started_at", "status"):
        if key in fields:
            run[key] = fields[key]
    if "output" in fields:
        run["output"] = {
            **run["output"],
            **{k: v for k, v in fields["output"].items() if k != "annotations"},
        }
        run["output"]["text"] = trim(run["output"].get("text"))
        # each request's annotations are appended to the run's, as GitHub does
        run["annotations"] = run.get("annotations", []) + list(
            fields["output"].get("annotations") or []
        )
    if fields.get("conclusion"):
        run.update(conclusion=fields["conclusion"], status="completed")
    if run["status"] == "completed":
        run["completed_at"] = fields.get("completed_at") or run["completed_at"] or now_iso()
    return run


def trim(text: Any) -> Any:
    """Keep the end of a long output text within GitHub's 65535-character limit."""
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        return "…" + text[-(TEXT_LIMIT - 1) :]
    return text


def render_check_run(call: Call, repo: Json, run: Json) -> Json:
    """Return GitHub's `check-run`."""
    url = f"{repo_url(call, repo)}/check-runs/{run['id']}"
    out = run["output"]
    html_url = (
        actions.job_url(call.base, repo, run)
        if run.get("job")
        else f"{call.base}/{repo['owner']}/{repo['name']}/runs/{run['id']}"
    )
    record = call.store.data["apps"].get(run.get("app"), CI_APP)
    app = {
        "id": record["id"],
        "client_id": f"Iv1.{record['id']:016x}",
        "slug": record["slug"],
        "node_id": node_id("Integration", record["id"]),
        "owner": shapes.simple_user(call.api, call.base, call.store.users[repo["owner"]]),
        "name": record["name"],
        "description": None,
        "external_url": call.base,
        "html_url": f"{call.base}/apps/{record['slug']}",
        "created_at": record["created_at"],
        "updated_at": record["created_at"],
        "permissions": {"checks": "write", "metadata": "read"},
        "events": [],
    }
    return {
        "id": run["id"],
        "head_sha": run["head_sha"],
        "node_id": node_id("CheckRun", run["id"]),
        "external_id": run["external_id"] or "",
        "url": url,
        "html_url": html_url,
        "details_url": run["details_url"] or html_url,
        "status": run["status"],
        "conclusion": run["conclusion"],
        "started_at": run["started_at"],
        "completed_at": run["completed_at"],
        "output": {
            "title": out.get("title"),
            "summary": out.get("summary"),
            "text": out.get("text"),
            "annotations_count": len(run.get("annotations", [])),
            "annotations_url": f"{url}/annotations",
        },
        "name": run["name"],
        "check_suite": {"id": run["suite"]},
        "app": app,
        "pull_requests": _pulls_for(call, repo, run["head_sha"]),
    }


def _pulls_for(call: Call, repo: Json, sha: str) -> list[Json]:
    return [
        minimal(call, repo, i)
        for i in repo["issues"].values()
        if i["pull"] and i["state"] == "open" and head_sha(call.store, repo, i) == sha
    ]


def _run_for(call: Call, repo: Json) -> Json:
    run: Json | None = repo["check_runs"].get(call.params["check_run_id"])
    if run is None:
        raise not_found()
    return run


def _app_of(call: Call) -> str:
    """Return the caller's app slug; 403 for users, as only GitHub Apps may write check runs."""
    app = call.store.users[call.login].get("app")
    if app is None and call.hooks.checks_need_app:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    return str(app or CI_APP["slug"])


@ROUTES.route("POST", "/repos/{owner}/{repo}/check-runs", "checks/create")
def create_check_run(call: Call) -> Reply:
    """Create a check run on a commit (GitHub Apps only)."""
    repo = repo_for(call, "push", denied=403)
    app = _app_of(call)
    fields = dict(call.body)
    fields["head_sha"] = sha_for(call, repo, str(call.field("head_sha", "")))
    if fields.get("status") == "completed" and not fields.get("conclusion"):
        raise invalid("CheckRun", "conclusion", "missing_field")
    run = new_check_run(call.store, repo, fields, app)
    call.hooks.checked(repo, run["head_sha"])
    return Reply(201, render_check_run(call, repo, run))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", "checks/update")
def update_check_run(call: Call) -> Reply:
    """Update a check run's status, conclusion or output (only the app that created it may)."""
    repo = repo_for(call, "push", denied=403)
    run = _run_for(call, repo)
    if _app_of(call) != run["app"] and call.hooks.checks_need_app:
        raise ApiError(403, "Resource not accessible by integration")
    change_check_run(run, dict(call.body))
    call.hooks.checked(repo, run["head_sha"])
    return Reply(200, render_check_run(call, repo, run))


@ROUTES.route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", "checks/get")
def get_check_run(call: Call) -> Reply:
    """Return one check run."""
    repo = repo_for(call)
    return Reply(200, render_check_run(call, repo, _run_for(call, repo)))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
    "checks/list-annotations",
)
def list_annotations(call: Call) -> Reply:
    """List a check run's annotations, in the order they were added."""
    repo = repo_for(call)
    run = _run_for(call, repo)
    return paginate(
        call, run.get("annotations", []), lambda a: render_annotation(call, repo, run, a)
    )


def render_annotation(call: Call, repo: Json, run: Json, note: Json) -> Json:
    """Return GitHub's `check-annotation`."""
    blob = f"{call.base}/{repo['owner']}/{repo['name']}/blob/{run['head_sha']}/{note['path']}"
    return {
        "path": note["path"],
        "blob_href": blob,
        "start_line": note["start_line"],
        "end_line": note["end_line"],
        "start_column": note.get("start_column"),
        "end_column": note.get("end_column"),
        "annotation_level": note.get("annotation_level"),
        "title": note.get("title"),
        "message": note.get("message"),
        "raw_details": note.get("raw_details"),
    }


@ROUTES.route("GET", "/repos/{owner}/{repo}/commits/{ref+}/check-runs", "checks/list-for-ref")
def list_for_ref(call: Call) -> Reply:
    """List a commit's check runs, filtered by name and status.

    Only the latest per name, unless filter=all.
    """
    repo = repo_for(call)
    sha = sha_for(call, repo, call.params["ref"])
    runs = sorted(
        (r for r in repo["check_runs"].values() if r["head_sha"] == sha), key=lambda r: -r["id"]
    )
    if call.arg("filter", "latest") == "latest":
        runs = list({r["name"]: r for r in reversed(runs)}.values())[::-1]
    runs = [
        r
        for r in runs
        if call.arg("check_name", r["name"]) == r["name"]
        and call.arg("status", r["status"]) == r["status"]
    ]
    page = paginate(call, runs, lambda r: render_check_run(call, repo, r))
    page.body = {"total_count": len(runs), "check_runs": page.body}
    return page


def announce_completed(call: Call, repo: Json, sha: str) -> None:
    """Announce what changed of the check runs on `sha`: `check_run` and `check_suite`
    `completed`, and the local CI's `workflow_run` (check_events.py)."""
    check_events.announce(call, repo, sha, render_check_run)

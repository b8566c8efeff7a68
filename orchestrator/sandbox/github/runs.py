"""Serve workflow runs (the dispatched ones, runner.py, and the local CI's) and dispatches.

A run's id is its check suite's; its jobs are check runs of that suite. The listing takes
GitHub's `event`, `status` (a status or a conclusion), `branch`, `head_sha` and `actor`
filters. Cancelling a dispatched run kills its running step; a local CI run cannot be
cancelled (409, as GitHub answers a run it cannot cancel).
"""

from __future__ import annotations

import yaml

from orchestrator.sandbox.github import actions, artifacts, gitrepo, runner, shapes, workflows
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json


def _ci_runs(repo: Json) -> dict[int, Json]:
    """Return the local CI's workflow runs (check runs with a run number), by run id."""
    return {
        r["suite"]: r
        for r in repo["check_runs"].values()
        if r.get("job") and r.get("run_number") and not r.get("dispatched")
    }


def _render_ci(call: Call, repo: Json, run: Json) -> Json:
    owner = shapes.simple_user(call.api, call.base, call.store.users[repo["owner"]])
    return actions.render_workflow_run(call, repo, run, owner)


def all_runs(call: Call, repo: Json) -> list[Json]:
    """Return every workflow run of the repository, rendered, newest first."""
    shown = [runner.render_run(call, repo, run) for run in repo.get("workflow_runs", {}).values()]
    shown += [_render_ci(call, repo, run) for run in _ci_runs(repo).values()]
    return sorted(shown, key=lambda r: int(r["id"]), reverse=True)


@ROUTES.route("GET", "/repos/{owner}/{repo}/actions/runs", "actions/list-workflow-runs-for-repo")
def list_runs(call: Call) -> Reply:
    """List the repository's workflow runs, filtered as GitHub filters them."""
    repo = repo_for(call)
    return _listed(call, all_runs(call, repo))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
    "actions/list-workflow-runs",
)
def list_workflow_runs(call: Call) -> Reply:
    """List one workflow's runs (by id or file name on the default branch), filtered alike."""
    repo = repo_for(call)
    sha = gitrepo.resolve(call.store.git_dir(repo), f"refs/heads/{repo['default_branch']}")
    path = workflows.find(call, repo, call.params["workflow_id"], sha)
    return _listed(call, [r for r in all_runs(call, repo) if r.get("path") == path])


def _listed(call: Call, found: list[Json]) -> Reply:
    status, event = call.arg("status"), call.arg("event")
    branch, sha, actor = call.arg("branch"), call.arg("head_sha"), call.arg("actor")
    suite = call.arg("check_suite_id")
    found = [
        r
        for r in found
        if (status is None or status in (r["status"], r["conclusion"]))
        and (event is None or r["event"] == event)
        and (branch is None or r["head_branch"] == branch)
        and (sha is None or r["head_sha"] == sha)
        and (actor is None or (r.get("actor") or {}).get("login") == actor)
        and (suite is None or str(r["check_suite_id"]) == suite)
    ]
    per_page = max(1, min(call.int_arg("per_page", 30), 100))
    page = max(1, call.int_arg("page", 1))
    chunk = found[(page - 1) * per_page : page * per_page]
    return Reply(200, {"total_count": len(found), "workflow_runs": chunk})


def _dispatched(repo: Json, run_id: str) -> Json | None:
    found: Json | None = repo.get("workflow_runs", {}).get(run_id)
    return found


@ROUTES.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}", "actions/get-workflow-run")
def get_run(call: Call) -> Reply:
    """Return one workflow run."""
    repo = repo_for(call)
    run = _dispatched(repo, call.params["run_id"])
    if run is not None:
        return Reply(200, runner.render_run(call, repo, run))
    ci = _ci_runs(repo).get(int(call.params["run_id"])) if call.params["run_id"].isdigit() else None
    if ci is None:
        raise not_found()
    return Reply(200, _render_ci(call, repo, ci))


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", "actions/list-jobs-for-workflow-run"
)
def list_jobs(call: Call) -> Reply:
    """List a workflow run's jobs."""
    repo = repo_for(call)
    run = _dispatched(repo, call.params["run_id"])
    if run is not None:
        jobs = [repo["check_runs"][str(j)] for j in run["jobs"]]
        for job in jobs:
            job["workflow_name"] = run["name"]
            job["head_branch"] = run["head_branch"]
    else:
        run_id = call.params["run_id"]
        ci = _ci_runs(repo).get(int(run_id)) if run_id.isdigit() else None
        if ci is None:
            raise not_found()
        jobs = [ci]
    shown = [actions.render_job(call, repo, job) for job in jobs]
    return Reply(200, {"total_count": len(shown), "jobs": shown})


@ROUTES.route(
    "POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel", "actions/cancel-workflow-run"
)
def cancel_run(call: Call) -> Reply:
    """Cancel a dispatched run that has not completed (202); 409 otherwise."""
    repo = repo_for(call, "push", 403)
    run = _dispatched(repo, call.params["run_id"])
    if run is None:
        run_id = call.params["run_id"]
        if not (run_id.isdigit() and int(run_id) in _ci_runs(repo)):
            raise not_found()
        raise ApiError(409, "Cannot cancel a workflow run that is completed.")
    if run["status"] == "completed":
        raise ApiError(409, "Cannot cancel a workflow run that is completed.")
    runner.cancel(call, run)
    return Reply(202, {})


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/actions/runs/{run_id}", "actions/delete-workflow-run"
)
def delete_run(call: Call) -> Reply:
    """Delete a completed dispatched run with its artifacts (204); 409 while it runs."""
    repo = repo_for(call, "push", 403)
    run = _dispatched(repo, call.params["run_id"])
    if run is None:
        raise not_found()  # a local CI run is not deleted: the sandbox keeps its checks
    if run["status"] != "completed":
        raise ApiError(409, "Cannot delete a workflow run that is not completed.")
    with call.store.lock:
        repo["workflow_runs"].pop(str(run["id"]), None)
        artifacts.drop_run(call, repo, run["id"])
        call.store.save()
    return Reply(204)


@ROUTES.route(
    "POST",
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
    "actions/create-workflow-dispatch",
)
def dispatch(call: Call) -> Reply:
    """Queue a run of the workflow at `ref` with `inputs` (runner.py runs it)."""
    repo = repo_for(call, "push", 403)
    ref, sha = workflows.ref_sha(call, repo, str(call.field("ref") or ""))
    path = workflows.find(call, repo, call.params["workflow_id"], sha)
    text = workflows.read(call.store, repo, sha, path) or ""
    try:
        doc = workflows.parse(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ApiError(422, f"Invalid workflow file: {path}: {error}") from None
    events = workflows.triggers(doc)
    if "workflow_dispatch" not in events:
        raise ApiError(422, "Workflow does not have 'workflow_dispatch' trigger")
    settings = events["workflow_dispatch"] or {}
    inputs = workflows.check_inputs(settings.get("inputs"), call.field("inputs"))
    workflows.display_title(doc, path, inputs)  # a run-name the sandbox cannot show refuses here
    run = runner.dispatch(call, repo, path, doc, ref, sha, inputs)
    if call.field("return_run_details") is True:
        full = f"{repo['owner']}/{repo['name']}"
        return Reply(
            200,
            {
                "workflow_run_id": run["id"],
                "run_url": f"{call.api}/repos/{full}/actions/runs/{run['id']}",
                "html_url": f"{call.base}/{full}/actions/runs/{run['id']}",
            },
        )
    return Reply(204)

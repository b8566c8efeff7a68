"""Announce check runs, check suites and the local CI's workflow runs, as GitHub's webhooks do.

`announce` runs whenever a check on a commit changed (checks.announce_completed: a REST create or
update of a check run, the local CI queuing, starting or completing a run). Each run keeps what
was told of it, so each change is announced once, in order: `workflow_run` `requested` and
`in_progress` (a local CI run, as an Actions workflow run); `check_run` `completed`; `check_suite`
`completed` once every run of the suite has completed; `workflow_run` `completed`. A suite is its
app's runs on the commit (one per local CI run, each a workflow run); a run added to a completed
suite makes it complete again, and so announced again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from orchestrator.sandbox.github import actions, shapes, webhooks
from orchestrator.sandbox.github.api import Call
from orchestrator.sandbox.github.gitdata import repo_url
from orchestrator.sandbox.github.state import Json, node_id

Render = Callable[[Call, Json, Json], Json]  # checks.render_check_run
# "The check suite reports the highest priority check run conclusion in the check suite's
# conclusion" (GitHub's REST docs, "About check suites", which list them in this order).
PRIORITY = (
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "startup_failure",
    "success",
)


def announce(call: Call, repo: Json, sha: str, render: Render) -> None:
    """Send what changed of the check runs on `sha` since they were last announced."""
    runs = sorted((r for r in repo["check_runs"].values() if r["head_sha"] == sha), key=_id)
    for run in runs:
        _workflow_run(call, repo, run, ("requested", "in_progress"))
        if run["status"] == "completed" and not run.get("announced"):
            run["announced"] = True
            by = as_app(call, run)
            webhooks.emit(by, repo, "check_run", "completed", _check_run(by, repo, run, render))
    for suite in dict.fromkeys(r["suite"] for r in runs):
        members = [r for r in runs if r["suite"] == suite]
        done = all(r["status"] == "completed" for r in members)
        if done and not all(r.get("suite_told") for r in members):
            for run in members:
                run["suite_told"] = True
            by = as_app(call, members[0])
            webhooks.emit(by, repo, "check_suite", "completed", _suite(by, repo, members, render))
    for run in runs:
        _workflow_run(call, repo, run, ("completed",))


def _id(run: Json) -> int:
    return int(run["id"])


def as_app(call: Call, run: Json) -> Call:
    """Return the call as the run's app's bot (GitHub's sender for an app's checks), if any."""
    bot = f"{run['app']}[bot]"
    return replace(call, login=bot) if call.store.user(bot) else call


def conclusion(runs: list[Json]) -> str | None:
    """Return a suite's conclusion: the highest in GitHub's priority among its runs'."""
    found = {r["conclusion"] for r in runs}
    return next((c for c in PRIORITY if c in found), None)


def _check_run(call: Call, repo: Json, run: Json, render: Render) -> Callable[[], Json]:
    def fields() -> Json:
        shown = render(call, repo, run)
        suite = {
            "id": run["suite"],
            "head_sha": run["head_sha"],
            "head_branch": None,
            "status": "completed",
            "conclusion": run["conclusion"],
            "app": shown["app"],
            "pull_requests": shown["pull_requests"],
            "url": f"{repo_url(call, repo)}/check-suites/{run['suite']}",
        }
        return {"check_run": {**shown, "check_suite": suite}}

    return fields


def _suite(call: Call, repo: Json, runs: list[Json], render: Render) -> Callable[[], Json]:
    def fields() -> Json:
        first, sha = runs[0], runs[0]["head_sha"]
        shown = render(call, repo, first)
        url = f"{repo_url(call, repo)}/check-suites/{first['suite']}"
        branch = first.get("head_branch") or actions.trigger(call.store, repo, sha)[1]
        return {
            "check_suite": {
                "id": first["suite"],
                "node_id": node_id("CheckSuite", first["suite"]),
                "head_branch": branch,
                "head_sha": sha,
                "status": "completed",
                "conclusion": conclusion(runs),
                "url": url,
                "before": None,  # the push that made the suite: the sandbox keeps none
                "after": sha,
                "pull_requests": shown["pull_requests"],
                "app": shown["app"],
                "created_at": min(str(r.get("created_at") or r["started_at"]) for r in runs),
                "updated_at": max(str(r["completed_at"]) for r in runs),
                "latest_check_runs_count": len({r["name"] for r in runs}),
                "check_runs_url": f"{url}/check-runs",
                "head_commit": actions.head_commit(call.store, repo, sha),
                "rerequestable": True,
                "runs_rerequestable": True,
            }
        }

    return fields


def _workflow_run(call: Call, repo: Json, run: Json, wanted: tuple[str, ...]) -> None:
    """Send the `workflow_run` actions of `wanted` a local CI run has reached and not yet told:
    `requested` once made, `in_progress` when seen running, `completed`."""
    if not run.get("run_number"):  # not a local CI run, or one made before runs were announced
        return
    told: list[str] = run.setdefault("workflow_told", [])
    reached = {
        "requested": True,
        "in_progress": run["status"] == "in_progress",
        "completed": run["status"] == "completed",
    }
    for action in wanted:
        if action in told or not reached[action]:
            continue
        told.append(action)
        status = {"requested": "queued"}.get(action, action)
        webhooks.emit(call, repo, "workflow_run", action, _run_fields(call, repo, run, status))


def _run_fields(call: Call, repo: Json, run: Json, status: str) -> Callable[[], Json]:
    def fields() -> Json:
        user = call.store.user(call.login) or call.store.users[repo["owner"]]
        actor = shapes.simple_user(call.api, call.base, user)
        shown = actions.render_workflow_run(call, repo, run, actor)
        shown.update(status=status, conclusion=run["conclusion"] if status == "completed" else None)
        return {"workflow": actions.render_workflow(call, repo), "workflow_run": shown}

    return fields

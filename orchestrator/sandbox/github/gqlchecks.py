"""Resolve a commit's status check rollup: its latest statuses and check runs.

Both are read through the REST handlers (combined status, check runs for a ref), so the two
APIs report the same checks.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import checks, pulls
from orchestrator.sandbox.github.gqlcore import Context, connection, resolves
from orchestrator.sandbox.github.gqlrest import call
from orchestrator.sandbox.github.state import Json


def _contexts(context: Context, repo: Json, sha: str) -> list[Json]:
    """Return the latest status per context, then the latest check run per name."""
    params = {"owner": repo["owner"], "repo": repo["name"], "ref": sha}
    statuses = checks.combined_status(call(context, params)).body["statuses"]
    runs = checks.list_for_ref(call(context, params, query={"per_page": 100})).body["check_runs"]
    return [_status(s) for s in statuses] + [_check_run(r) for r in runs]


def _status(status: Json) -> Json:
    return {
        "__typename": "StatusContext",
        "id": status["node_id"],
        "context": status["context"],
        "state": status["state"].upper(),
        "description": status["description"],
        "targetUrl": status["target_url"],
        "createdAt": status["created_at"],
        "_state": status["state"],
    }


def _check_run(run: Json) -> Json:
    return {
        "__typename": "CheckRun",
        "id": run["node_id"],
        "databaseId": run["id"],
        "name": run["name"],
        "status": run["status"].upper(),
        "conclusion": run["conclusion"].upper() if run["conclusion"] else None,
        "startedAt": run["started_at"],
        "completedAt": run["completed_at"],
        "detailsUrl": run["details_url"],
        "url": run["html_url"],
        "title": run["output"]["title"],
        "summary": run["output"]["summary"],
        "text": run["output"]["text"],
        # A sandbox check run comes from an app, not from Actions: no workflow run behind it.
        "checkSuite": {"__typename": "CheckSuite", "workflowRun": None},
        "_state": "success"
        if run["conclusion"] in ("success", "neutral", "skipped")
        else "pending"
        if run["status"] != "completed"
        else "failure",
    }


@resolves("Commit", "statusCheckRollup")
def resolve_rollup(source: Json, info: Any) -> Json | None:
    """Return the commit's checks and their combined state, or null when it has none."""
    found = _contexts(info.context, source["_repo"], source["_sha"])
    if not found:
        return None
    return {
        "__typename": "StatusCheckRollup",
        "state": pulls.combined_state([c["_state"] for c in found]).upper(),
        "_contexts": found,
    }


@resolves("StatusCheckRollup", "contexts")
def resolve_rollup_contexts(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the rollup's statuses and check runs, paginated."""
    return connection(source["_contexts"], first, after, "contexts")


@resolves("StatusContext", "isRequired")
@resolves("CheckRun", "isRequired")
def resolve_is_required(source: Json, info: Any, **_: Any) -> bool:
    """Return false: the sandbox protects no branch, so no check is required."""
    return False

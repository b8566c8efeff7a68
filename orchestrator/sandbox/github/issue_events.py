"""Serve an issue's events (labeled, renamed, closed …), as GitHub lists them, oldest first."""

from __future__ import annotations

from orchestrator.sandbox.github import shapes
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import Call, Reply, paginate
from orchestrator.sandbox.github.issues import issue_for
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, node_id

# Events the sandbox serves in GraphQL's timeline only: whether GitHub's issue events list shows
# them is not documented, so REST leaves them out rather than guess their shape.
GRAPHQL_ONLY = ("added_to_merge_queue", "removed_from_merge_queue")


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events", "issues/list-events")
def list_events(call: Call) -> Reply:
    """List an issue's events, oldest first."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    events = [
        e
        for e in repo["events"]
        if e["issue"] == issue["number"] and e["event"] not in GRAPHQL_ONLY
    ]
    return paginate(call, events, lambda e: render_event(call, repo, e))


def render_event(call: Call, repo: Json, event: Json) -> Json:
    """Return GitHub's issue event."""
    full = f"{call.api}/repos/{repo['owner']}/{repo['name']}"
    commit = event.get("commit_id")
    body: Json = {
        "id": event["id"],
        "node_id": node_id("IssueEvent", event["id"]),
        "url": f"{full}/issues/events/{event['id']}",
        "actor": shapes.simple_user(call.api, call.base, call.store.users[event["actor"]]),
        "event": event["event"],
        "commit_id": commit,
        "commit_url": f"{full}/commits/{commit}" if commit else None,
        "created_at": event["created_at"],
        "performed_via_github_app": None,
    }
    if "label" in event:
        body["label"] = event["label"]
    if "rename" in event:
        body["rename"] = event["rename"]
    if "state_reason" in event:
        body["state_reason"] = event["state_reason"]
    return body

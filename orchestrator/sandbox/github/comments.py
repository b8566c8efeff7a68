"""Serve issue comments: list, create, get, update, delete."""

from __future__ import annotations

from orchestrator.sandbox.github import shapes
from orchestrator.sandbox.github.access import can, repo_for
from orchestrator.sandbox.github.api import Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.issues import association, issue_for, reactions
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, node_id, now_iso


def render(call: Call, repo: Json, comment: Json) -> Json:
    """Return GitHub's `issue-comment`."""
    full = f"{repo['owner']}/{repo['name']}"
    u = f"{call.api}/repos/{full}/issues/comments/{comment['id']}"
    kind = "pull" if repo["issues"][str(comment["issue"])]["pull"] else "issues"
    return {
        "url": u,
        "html_url": f"{call.base}/{full}/{kind}/{comment['issue']}#issuecomment-{comment['id']}",
        "issue_url": f"{call.api}/repos/{full}/issues/{comment['issue']}",
        "id": comment["id"],
        "node_id": node_id("IssueComment", comment["id"]),
        "user": shapes.simple_user(call.api, call.base, call.store.users[comment["user"]]),
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "author_association": association(call.store, repo, comment["user"]),
        "body": comment["body"],
        "reactions": reactions(f"{u}/reactions"),
        "performed_via_github_app": None,
    }


def _comment_for(call: Call, repo: Json) -> Json:
    comment: Json | None = repo["comments"].get(call.params["comment_id"])
    if comment is None:
        raise not_found()
    return comment


def _body(call: Call) -> str:
    body = call.field("body")
    if not isinstance(body, str) or not body.strip():
        raise invalid("IssueComment", "body", "missing_field")
    return body


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "issues/list-comments")
def list_comments(call: Call) -> Reply:
    """List an issue's comments, oldest first, optionally since a time."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    since = call.arg("since")
    found = [
        c
        for c in repo["comments"].values()
        if c["issue"] == issue["number"] and (since is None or c["updated_at"] >= since)
    ]
    return paginate(call, sorted(found, key=lambda c: c["id"]), lambda c: render(call, repo, c))


@ROUTES.route(
    "POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "issues/create-comment"
)
def create_comment(call: Call) -> Reply:
    """Comment on an issue or pull request."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    now = now_iso()
    comment = {
        "id": call.store.new_id(),
        "issue": issue["number"],
        "user": call.login,
        "body": _body(call),
        "created_at": now,
        "updated_at": now,
    }
    repo["comments"][str(comment["id"])] = comment
    issue["updated_at"] = now
    rendered = render(call, repo, comment)
    return Reply(201, rendered, {"Location": rendered["url"]})


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "issues/get-comment")
def get_comment(call: Call) -> Reply:
    """Return one comment."""
    repo = repo_for(call)
    return Reply(200, render(call, repo, _comment_for(call, repo)))


@ROUTES.route(
    "PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "issues/update-comment"
)
def update_comment(call: Call) -> Reply:
    """Edit a comment: its author or a user with push access."""
    repo = repo_for(call)
    comment = _comment_for(call, repo)
    if comment["user"] != call.login and not can(call.store, repo, call.login, "push"):
        raise not_found()
    comment.update(body=_body(call), updated_at=now_iso())
    return Reply(200, render(call, repo, comment))


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "issues/delete-comment"
)
def delete_comment(call: Call) -> Reply:
    """Delete a comment: its author or a user with push access."""
    repo = repo_for(call)
    comment = _comment_for(call, repo)
    if comment["user"] != call.login and not can(call.store, repo, call.login, "push"):
        raise not_found()
    del repo["comments"][str(comment["id"])]
    return Reply(204)

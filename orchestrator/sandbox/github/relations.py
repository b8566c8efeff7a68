"""Serve links between issues by `id`: sub-issues (with a parent) and "blocked by" dependencies.

Each link made or undone is announced to both ends, each to its own repository's hooks, as
GitHub does: `sub_issues` `sub_issue_added`/`_removed` (the parent's side) and
`parent_issue_added`/`_removed` (the sub-issue's); `issue_dependencies` `blocked_by_added`/
`_removed` (the blocked issue's side) and `blocking_added`/`_removed` (the blocking issue's).
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.sandbox.github import shapes, webhooks
from orchestrator.sandbox.github.access import can, permissions, repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.issues import issue_for, render
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json


def _other(call: Call, field: str, owner: str) -> tuple[Json, Json]:
    """Return (repo, issue) for the body's issue id; 422 if it is unknown or under another owner."""
    issue_id = call.field(field)
    found = call.store.issue_by_id(issue_id) if isinstance(issue_id, int) else None
    if (
        found is None
        or found[0]["owner"].lower() != owner.lower()
        or not can(call.store, found[0], call.login, "pull")
    ):
        raise invalid("Issue", field, "invalid", f"The provided {field} is not a valid issue")
    return found


def _rendered(call: Call, ids: list[int]) -> list[Json]:
    return [render(call, *found) for i in ids if (found := call.store.issue_by_id(i))]


def _with_repository(call: Call, ids: list[int]) -> list[Json]:
    """Render issues as the sub-issue listing does: each with its `repository`."""
    found = [f for i in ids if (f := call.store.issue_by_id(i))]
    return [
        {
            **render(call, repo, issue),
            "repository": shapes.repository(
                call.api,
                call.base,
                repo,
                call.store.users[repo["owner"]],
                permissions(call.store, repo, call.login),
            ),
        }
        for repo, issue in found
    ]


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues", "issues/list-sub-issues"
)
def list_sub_issues(call: Call) -> Reply:
    """List an issue's sub-issues in their priority order."""
    repo = repo_for(call)
    return paginate(call, _with_repository(call, issue_for(call, repo)["sub_issues"]))


@ROUTES.route(
    "POST", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues", "issues/add-sub-issue"
)
def add_sub_issue(call: Call) -> Reply:
    """Make the issue with `sub_issue_id` a sub-issue; returns the parent."""
    repo = repo_for(call, "triage", denied=403)
    parent = issue_for(call, repo)
    child_repo, child = _other(call, "sub_issue_id", repo["owner"])
    if child["id"] == parent["id"] or child["id"] in parent["sub_issues"]:
        raise invalid(
            "Issue", "sub_issue_id", "invalid", "Sub issue may not be added to itself or twice"
        )
    if child["parent"] is not None:
        if not call.field("replace_parent", False):
            raise invalid("Issue", "sub_issue_id", "invalid", "Sub issue may only have one parent")
        old = call.store.issue_by_id(child["parent"])
        if old:
            old[1]["sub_issues"].remove(child["id"])
            child["parent"] = None
            _sub_issue(call, old, (child_repo, child), "removed")
    child["parent"] = parent["id"]
    parent["sub_issues"].append(child["id"])
    _sub_issue(call, (repo, parent), (child_repo, child), "added")
    return Reply(
        201,
        render(call, repo, parent),
        {
            "Location": f"{call.api}/repos/{repo['owner']}/{repo['name']}"
            f"/issues/{parent['number']}/sub_issues"
        },
    )


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue", "issues/remove-sub-issue"
)
def remove_sub_issue(call: Call) -> Reply:
    """Detach a sub-issue; returns the parent."""
    repo = repo_for(call, "triage", denied=403)
    parent = issue_for(call, repo)
    child_repo, child = _other(call, "sub_issue_id", repo["owner"])
    if child["id"] not in parent["sub_issues"]:
        raise not_found()
    parent["sub_issues"].remove(child["id"])
    child["parent"] = None
    _sub_issue(call, (repo, parent), (child_repo, child), "removed")
    return Reply(200, render(call, repo, parent))


@ROUTES.route(
    "PATCH",
    "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues/priority",
    "issues/reprioritize-sub-issue",
)
def reprioritize(call: Call) -> Reply:
    """Move a sub-issue after (or before) another one."""
    repo = repo_for(call, "triage", denied=403)
    parent = issue_for(call, repo)
    _, child = _other(call, "sub_issue_id", repo["owner"])
    anchor = call.field("after_id") or call.field("before_id")
    if child["id"] not in parent["sub_issues"] or anchor not in parent["sub_issues"]:
        raise invalid("Issue", "sub_issue_id")
    parent["sub_issues"].remove(child["id"])
    at = parent["sub_issues"].index(anchor) + (1 if call.field("after_id") else 0)
    parent["sub_issues"].insert(at, child["id"])
    return Reply(200, render(call, repo, parent))


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/parent", "issues/get-parent")
def get_parent(call: Call) -> Reply:
    """Return the issue's parent, or 404."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    found = call.store.issue_by_id(issue["parent"]) if issue["parent"] is not None else None
    if found is None:
        raise not_found()
    return Reply(200, render(call, *found))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
    "issues/list-dependencies-blocked-by",
)
def list_blocked_by(call: Call) -> Reply:
    """List the issues blocking this one."""
    repo = repo_for(call)
    return paginate(call, _rendered(call, issue_for(call, repo)["blocked_by"]))


@ROUTES.route(
    "POST",
    "/repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
    "issues/add-blocked-by-dependency",
)
def add_blocked_by(call: Call) -> Reply:
    """Record that the issue with `issue_id` blocks this one; returns the blocking issue."""
    repo = repo_for(call, "triage", denied=403)
    issue = issue_for(call, repo)
    blocker_repo, blocker = _other(call, "issue_id", repo["owner"])
    if blocker["id"] == issue["id"] or blocker["id"] in issue["blocked_by"]:
        raise invalid(
            "Issue", "issue_id", "invalid", "Dependency already exists or is the issue itself"
        )
    issue["blocked_by"].append(blocker["id"])
    _dependency(call, (repo, issue), (blocker_repo, blocker), "added")
    return Reply(
        201,
        render(call, blocker_repo, blocker),
        {
            "Location": f"{call.api}/repos/{repo['owner']}/{repo['name']}/issues/{issue['number']}"
            "/dependencies/blocked_by"
        },
    )


@ROUTES.route(
    "DELETE",
    "/repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by/{issue_id}",
    "issues/remove-dependency-blocked-by",
)
def remove_blocked_by(call: Call) -> Reply:
    """Drop a "blocked by" link; returns the formerly blocking issue."""
    repo = repo_for(call, "triage", denied=403)
    issue = issue_for(call, repo)
    blocker_id = int(call.params["issue_id"]) if call.params["issue_id"].isdigit() else -1
    if blocker_id not in issue["blocked_by"]:
        raise not_found()
    issue["blocked_by"].remove(blocker_id)
    found = call.store.issue_by_id(blocker_id)
    if found is None:
        raise ApiError(410, "Issue was deleted")
    _dependency(call, (repo, issue), found, "removed")
    return Reply(200, render(call, *found))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocking",
    "issues/list-dependencies-blocking",
)
def list_blocking(call: Call) -> Reply:
    """List the issues this one blocks."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    ids = [
        i["id"]
        for r in call.store.repos.values()
        for i in r["issues"].values()
        if issue["id"] in i["blocked_by"]
    ]
    return paginate(call, _rendered(call, ids))


Found = tuple[Json, Json]  # (repository, issue)


def _sub_issue(call: Call, parent: Found, child: Found, change: str) -> None:
    """Announce a sub-issue link made (`added`) or undone (`removed`) to both ends."""
    both = _ends(call, "parent_issue", parent, "sub_issue", child)
    webhooks.emit(call, parent[0], "sub_issues", f"sub_issue_{change}", both("sub_issue"))
    webhooks.emit(call, child[0], "sub_issues", f"parent_issue_{change}", both("parent_issue"))


def _dependency(call: Call, blocked: Found, blocking: Found, change: str) -> None:
    """Announce a "blocked by" link made (`added`) or undone (`removed`) to both ends.

    Only to an organisation's repository: GitHub's schemas for these payloads require
    `organization`, which a user's repository has none of, so the sandbox sends none there.
    """
    both = _ends(call, "blocked_issue", blocked, "blocking_issue", blocking)
    for (repo, _), action, other in (
        (blocked, "blocked_by", "blocking_issue"),
        (blocking, "blocking", "blocked_issue"),
    ):
        if call.store.users[repo["owner"]]["type"] == "Organization":
            webhooks.emit(call, repo, "issue_dependencies", f"{action}_{change}", both(other))


def _ends(
    call: Call, one: str, first: Found, two: str, second: Found
) -> Callable[[str], Callable[[], Json]]:
    """Return, for the side named `other`, the fields of a link's payload: each end's issue and
    id, and the other side's repository (`{other}_repo`)."""

    def side(other: str) -> Callable[[], Json]:
        def fields() -> Json:
            body: Json = {}
            for name, (repo, issue) in ((one, first), (two, second)):
                body[f"{name}_id"] = issue["id"]
                body[name] = render(call, repo, issue)
                if name == other:
                    owner = call.store.users[repo["owner"]]
                    body[f"{name}_repo"] = shapes.repository(call.api, call.base, repo, owner)
            return body

        return fields

    return side

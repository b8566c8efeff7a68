"""Serve issues: create, get, update, list with filters (their events: issue_events.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orchestrator.sandbox.github import shapes, webhooks
from orchestrator.sandbox.github.access import can, repo_for
from orchestrator.sandbox.github.api import Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso


def association(store: Store, repo: Json, login: str) -> str:
    """Return GitHub's author_association of `login` with `repo`."""
    if login == repo["owner"]:
        return "OWNER"
    if login in store.users[repo["owner"]].get("members", {}):
        return "MEMBER"
    return "COLLABORATOR" if login in repo["collaborators"] else "NONE"


def render(call: Call, repo: Json, issue: Json) -> Json:
    """Return GitHub's `issue` for an issue (or a pull request seen as an issue)."""
    store, api = call.store, call.api
    full = f"{repo['owner']}/{repo['name']}"
    u = f"{api}/repos/{full}/issues/{issue['number']}"
    users = store.users
    subs = [store.issue_by_id(i) for i in issue["sub_issues"]]
    done = sum(1 for s in subs if s and s[1]["state"] == "closed")
    body: Json = {
        "url": u,
        "repository_url": f"{api}/repos/{full}",
        "labels_url": f"{u}/labels{{/name}}",
        "comments_url": f"{u}/comments",
        "events_url": f"{u}/events",
        "html_url": f"{call.base}/{full}/{'pull' if issue['pull'] else 'issues'}/{issue['number']}",
        "id": issue["id"],
        "node_id": node_id("PullRequest" if issue["pull"] else "Issue", issue["id"]),
        "number": issue["number"],
        "title": issue["title"],
        "user": shapes.simple_user(api, call.base, users[issue["user"]]),
        "labels": [shapes.label(api, repo, repo["labels"][n.lower()]) for n in issue["labels"]],
        "state": issue["state"],
        "locked": False,
        "assignee": shapes.simple_user(api, call.base, users[issue["assignees"][0]])
        if issue["assignees"]
        else None,
        "assignees": [shapes.simple_user(api, call.base, users[a]) for a in issue["assignees"]],
        "milestone": None,
        "comments": sum(1 for c in repo["comments"].values() if c["issue"] == issue["number"]),
        "created_at": issue["created_at"],
        "updated_at": issue["updated_at"],
        "closed_at": issue["closed_at"],
        "author_association": association(store, repo, issue["user"]),
        "active_lock_reason": None,
        "sub_issues_summary": {
            "total": len(subs),
            "completed": done,
            "percent_completed": done * 100 // len(subs) if subs else 0,
        },
        "issue_dependencies_summary": dependency_summary(store, issue),
        "body": issue["body"],
        "closed_by": shapes.simple_user(api, call.base, users[issue["closed_by"]])
        if issue["closed_by"]
        else None,
        "reactions": reactions(f"{u}/reactions"),
        "timeline_url": f"{u}/timeline",
        "performed_via_github_app": None,
        "state_reason": issue["state_reason"],
    }
    if issue["parent"] is not None and (parent := store.issue_by_id(issue["parent"])):
        body["parent_issue_url"] = (
            f"{api}/repos/{parent[0]['owner']}/{parent[0]['name']}/issues/{parent[1]['number']}"
        )
    if issue["pull"]:
        pu = f"{api}/repos/{full}/pulls/{issue['number']}"
        body["draft"] = issue["pull"]["draft"]
        body["pull_request"] = {
            "url": pu,
            "html_url": body["html_url"],
            "diff_url": f"{body['html_url']}.diff",
            "patch_url": f"{body['html_url']}.patch",
            "merged_at": issue["pull"]["merged_at"],
        }
    return body


def dependency_summary(store: Store, issue: Json) -> Json:
    """Return issue_dependencies_summary: open blockers and what this issue blocks."""
    blocking = [
        i
        for r in store.repos.values()
        for i in r["issues"].values()
        if issue["id"] in i["blocked_by"]
    ]
    blockers = [store.issue_by_id(i) for i in issue["blocked_by"]]
    return {
        "blocked_by": sum(1 for b in blockers if b and b[1]["state"] == "open"),
        "blocking": sum(1 for b in blocking if b["state"] == "open"),
        "total_blocked_by": len(issue["blocked_by"]),
        "total_blocking": len(blocking),
    }


def reactions(url: str) -> Json:
    """Return an empty reaction rollup."""
    return {
        "url": url,
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    }


def issue_for(call: Call, repo: Json) -> Json:
    """Return the route's issue (or pull request), or 404."""
    issue: Json | None = repo["issues"].get(call.params["issue_number"])
    if issue is None:
        raise not_found()
    return issue


def add_event(store: Store, repo: Json, issue: Json, actor: str, event: str, **extra: Any) -> None:
    """Record a timeline event (labeled, closed, merged, ...) on an issue."""
    repo["events"].append(
        {
            "id": store.new_id(),
            "issue": issue["number"],
            "event": event,
            "actor": actor,
            "created_at": now_iso(),
            **extra,
        }
    )


def new_issue(call: Call, repo: Json, title: str, body: str | None) -> Json:
    """Create an issue record with the next number of `repo` (shared with pull requests)."""
    number = repo["next_number"]
    repo["next_number"] += 1
    now = now_iso()
    issue: Json = {
        "id": call.store.new_id(),
        "number": number,
        "title": title,
        "body": body,
        "user": call.login,
        "state": "open",
        "state_reason": None,
        "labels": [],
        "assignees": [],
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "closed_by": None,
        "parent": None,
        "sub_issues": [],
        "blocked_by": [],
        "pull": None,
    }
    repo["issues"][str(number)] = issue
    return issue


def ensure_label(call: Call, repo: Json, name: str) -> Json:
    """Return the repo label `name`, creating it as GitHub does when an issue names a new one."""
    record: Json | None = repo["labels"].get(name.lower())
    if record is None:
        record = {
            "id": call.store.new_id(),
            "name": name,
            "color": "ededed",
            "description": None,
            "default": False,
        }
        repo["labels"][name.lower()] = record
    return record


def apply_labels(
    call: Call, repo: Json, issue: Json, names: list[Any], replace: bool, announce: bool = True
) -> None:
    """Add (or with `replace`, set) labels on an issue and record labeled/unlabeled events (sent
    as webhooks unless `announce` is false: a new issue's are sent after its `opened`)."""
    wanted = [
        ensure_label(call, repo, n["name"] if isinstance(n, dict) else str(n))["name"]
        for n in names
    ]
    current = {n.lower() for n in issue["labels"]}
    removed = [
        n for n in issue["labels"] if replace and n.lower() not in {w.lower() for w in wanted}
    ]
    added = [n for n in dict.fromkeys(wanted) if n.lower() not in current]
    for name in removed:
        remove_label(call, repo, issue, name)
    for name in added:
        issue["labels"].append(name)
        record = repo["labels"][name.lower()]
        add_event(
            call.store,
            repo,
            issue,
            call.login,
            "labeled",
            label={"name": record["name"], "color": record["color"]},
        )
        if announce:
            webhooks.label_event(call, repo, issue, "labeled", record)
    issue["updated_at"] = now_iso()


def remove_label(call: Call, repo: Json, issue: Json, name: str) -> None:
    """Take one label off an issue, recording an unlabeled event."""
    issue["labels"] = [n for n in issue["labels"] if n.lower() != name.lower()]
    record = repo["labels"].get(name.lower(), {"name": name, "color": "ededed"})
    add_event(
        call.store,
        repo,
        issue,
        call.login,
        "unlabeled",
        label={"name": record["name"], "color": record["color"]},
    )
    webhooks.label_event(call, repo, issue, "unlabeled", record)
    issue["updated_at"] = now_iso()


def set_state(
    call: Call, repo: Json, issue: Json, state: str, reason: str | None, **extra: Any
) -> None:
    """Close or reopen an issue, recording the event GitHub records."""
    if state == issue["state"]:
        if state == "closed" and reason:
            issue["state_reason"] = reason
        return
    now = now_iso()
    issue.update(
        state=state,
        updated_at=now,
        closed_at=now if state == "closed" else None,
        closed_by=call.login if state == "closed" else None,
        state_reason=(reason or "completed") if state == "closed" else "reopened",
    )
    add_event(
        call.store,
        repo,
        issue,
        call.login,
        "closed" if state == "closed" else "reopened",
        state_reason=issue["state_reason"],
        **extra,
    )
    webhooks.issue_event(call, repo, issue, "closed" if state == "closed" else "reopened")


@ROUTES.route("POST", "/repos/{owner}/{repo}/issues", "issues/create")
def create(call: Call) -> Reply:
    """Open an issue; labels and assignees need push access and are dropped silently otherwise."""
    repo = repo_for(call)
    title = call.field("title")
    if title is None or str(title).strip() == "":
        raise invalid("Issue", "title", "missing_field")
    issue = new_issue(call, repo, str(title), call.field("body"))
    if can(call.store, repo, call.login, "push"):
        names = list(call.field("labels") or [])
        apply_labels(call, repo, issue, names, replace=True, announce=False)
        issue["assignees"] = _assignees(call, call.field("assignees") or [])
    webhooks.opened(call, repo, issue)
    return Reply(
        201,
        render(call, repo, issue),
        {"Location": f"{call.api}/repos/{repo['owner']}/{repo['name']}/issues/{issue['number']}"},
    )


def _assignees(call: Call, logins: list[str]) -> list[str]:
    found = []
    for login in logins:
        user = call.store.user(login)
        if user is None:
            raise invalid(
                "Issue",
                "assignees",
                "invalid",
                f"Could not resolve to a User with the login of '{login}'.",
            )
        found.append(user["login"])
    return found


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "issues/get")
def get(call: Call) -> Reply:
    """Return one issue."""
    repo = repo_for(call)
    return Reply(200, render(call, repo, issue_for(call, repo)))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", "issues/update")
def update(call: Call) -> Reply:
    """Edit an issue: its author or triage+ may edit; labels and assignees need triage+."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    triage = can(call.store, repo, call.login, "triage")
    if not triage and call.login != issue["user"]:
        raise not_found()
    edit(call, repo, issue)
    if triage and "labels" in call.body:
        apply_labels(call, repo, issue, list(call.body["labels"] or []), replace=True)
    if triage and "assignees" in call.body:
        issue["assignees"] = _assignees(call, call.body["assignees"] or [])
    if "state" in call.body:
        state = call.body["state"]
        by_hand = {"closer": None} if state == "closed" else {}  # GraphQL's ClosedEvent.closer
        set_state(call, repo, issue, state, call.body.get("state_reason"), **by_hand)
    issue["updated_at"] = now_iso()
    return Reply(200, render(call, repo, issue))


def edit(call: Call, repo: Json, issue: Json) -> None:
    """Change the title and body as asked, recording what GitHub records of each edit.

    A new title is a `renamed` event (REST events, GraphQL's RenamedTitleEvent); a new body sets
    GraphQL's `lastEditedAt` and `editor`, which REST does not show. Unchanged text records nothing.
    """
    title, body = call.body.get("title"), call.body.get("body")
    before = {k: issue[k] for k in ("title", "body")}
    if "title" in call.body and title != issue["title"]:
        add_event(
            call.store,
            repo,
            issue,
            call.login,
            "renamed",
            rename={"from": issue["title"], "to": title},
        )
        issue["title"] = title
    if "body" in call.body and (body or "") != (issue["body"] or ""):
        issue.update(body=body, last_edited_at=now_iso(), editor=call.login)
    webhooks.edited(call, repo, issue, before)


def matches(call: Call, issue: Json) -> bool:
    """Return whether an issue passes the listing's filters (GraphQL's connections share them)."""
    state = call.arg("state", "open")
    labels = [n.strip().lower() for n in (call.arg("labels") or "").split(",") if n.strip()]
    since = call.arg("since")
    return (
        (state == "all" or issue["state"] == state)
        and all(n in [x.lower() for x in issue["labels"]] for n in labels)
        and (since is None or issue["updated_at"] >= utc_iso(since))
        and call.arg("creator", issue["user"]) == issue["user"]
        and _assignee_matches(call.arg("assignee"), issue["assignees"])
    )


def utc_iso(value: str) -> str:
    """Return an ISO 8601 time (`Z`, an offset, fractions) as the records write it, in UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _assignee_matches(wanted: str | None, assignees: list[str]) -> bool:
    if wanted is None or wanted == "*" and assignees:
        return True
    return (wanted == "none" and not assignees) or wanted in assignees


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues", "issues/list-for-repo")
def list_for_repo(call: Call) -> Reply:
    """List issues and PRs, filtered by state, labels, since, creator, assignee; sorted."""
    repo = repo_for(call)
    sort = call.arg("sort", "created")
    key = {"created": "created_at", "updated": "updated_at"}.get(sort or "created", "created_at")
    found = [i for i in repo["issues"].values() if matches(call, i)]
    if sort == "comments":
        found.sort(
            key=lambda i: sum(1 for c in repo["comments"].values() if c["issue"] == i["number"])
        )
    else:
        found.sort(key=lambda i: (i[key], i["number"]))
    if call.arg("direction", "desc") == "desc":
        found.reverse()
    return paginate(call, found, lambda i: render(call, repo, i))


webhooks.SHAPES["issue"] = render  # what an `issues` webhook carries as its `issue`

"""Serve pull requests: create, get, list with filters, update, their files; state read from git."""

from __future__ import annotations

from orchestrator.sandbox.github import gitrepo, issues, protection, shapes, webhooks
from orchestrator.sandbox.github.access import can, repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.gitdata import render_commit, render_files, repo_url
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso


def head_sha(store: Store, repo: Json, issue: Json) -> str:
    """Return the PR's head commit: the live branch tip while open, else the recorded one."""
    pull = issue["pull"]
    if issue["state"] == "open":
        pull["head_sha"] = (
            gitrepo.resolve(store.git_dir(repo), f"refs/heads/{pull['head']}") or pull["head_sha"]
        )
    return str(pull["head_sha"])


def base_sha(store: Store, repo: Json, issue: Json) -> str:
    """Return the base branch tip while open, else the base commit recorded when it closed."""
    pull = issue["pull"]
    if issue["state"] == "open":
        pull["base_sha"] = (
            gitrepo.resolve(store.git_dir(repo), f"refs/heads/{pull['base']}") or pull["base_sha"]
        )
    return str(pull["base_sha"])


def combined_state(states: list[str]) -> str:
    """Return GitHub's combined state: failure on any error/failure, success only if all succeed."""
    if any(s in ("error", "failure") for s in states):
        return "failure"
    return "success" if states and all(s == "success" for s in states) else "pending"


def _branch(call: Call, repo: Json, ref: str, sha: str) -> Json:
    owner = call.store.users[repo["owner"]]
    return {
        "label": f"{repo['owner']}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": shapes.simple_user(call.api, call.base, owner),
        "repo": shapes.repository(call.api, call.base, repo, owner),
    }


def minimal(call: Call, repo: Json, issue: Json) -> Json:
    """Return GitHub's `pull-request-minimal`, as check runs list them."""
    small = {"id": repo["id"], "url": repo_url(call, repo), "name": repo["name"]}
    pull = issue["pull"]
    return {
        "id": pull["id"],
        "number": issue["number"],
        "url": f"{repo_url(call, repo)}/pulls/{issue['number']}",
        "head": {"ref": pull["head"], "sha": head_sha(call.store, repo, issue), "repo": small},
        "base": {"ref": pull["base"], "sha": base_sha(call.store, repo, issue), "repo": small},
    }


def render(call: Call, repo: Json, issue: Json, full: bool = True) -> Json:
    """Return GitHub's `pull-request` (or `pull-request-simple` with full=False)."""
    pull, as_issue = issue["pull"], issues.render(call, repo, issue)
    u = f"{repo_url(call, repo)}/pulls/{issue['number']}"
    head, base = head_sha(call.store, repo, issue), base_sha(call.store, repo, issue)
    body: Json = {
        "url": u,
        "id": pull["id"],
        "node_id": node_id("PullRequest", pull["id"]),
        "html_url": as_issue["html_url"],
        "diff_url": f"{as_issue['html_url']}.diff",
        "patch_url": f"{as_issue['html_url']}.patch",
        "issue_url": as_issue["url"],
        "commits_url": f"{u}/commits",
        "review_comments_url": f"{u}/comments",
        "review_comment_url": f"{repo_url(call, repo)}/pulls/comments{{/number}}",
        "comments_url": as_issue["comments_url"],
        "statuses_url": f"{repo_url(call, repo)}/statuses/{head}",
        **{
            k: as_issue[k]
            for k in (
                "number",
                "state",
                "locked",
                "title",
                "user",
                "body",
                "labels",
                "milestone",
                "active_lock_reason",
                "created_at",
                "updated_at",
                "closed_at",
                "assignee",
                "assignees",
                "author_association",
            )
        },
        "merged_at": pull["merged_at"],
        "merge_commit_sha": pull["merge_commit_sha"],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(call, repo, pull["head"], head),
        "base": _branch(call, repo, pull["base"], base),
        "auto_merge": None,
        "draft": pull["draft"],
        "_links": {
            k: {"href": v}
            for k, v in (
                ("self", u),
                ("html", as_issue["html_url"]),
                ("issue", as_issue["url"]),
                ("comments", as_issue["comments_url"]),
                ("review_comments", f"{u}/comments"),
                ("review_comment", f"{repo_url(call, repo)}/pulls/comments{{/number}}"),
                ("commits", f"{u}/commits"),
                ("statuses", f"{repo_url(call, repo)}/statuses/{head}"),
            )
        },
    }
    if full:
        body.update(_full(call, repo, issue, head, base))
    return body


def _full(call: Call, repo: Json, issue: Json, head: str, base: str) -> Json:
    """Return the fields only a single pull request carries: merge state and diff counts."""
    pull, path = issue["pull"], call.store.git_dir(repo)
    is_open = issue["state"] == "open"
    clean = gitrepo.merge_tree(path, base, head) is not None if is_open else None
    pending = (
        is_open and call.hooks.lazy_mergeable and pull.get("mergeable_of") != f"{base}...{head}"
    )
    pull["mergeable_of"] = f"{base}...{head}"
    mb = gitrepo.merge_base(path, base, head) or base
    changes = gitrepo.diff(path, mb, head)
    return {
        "merged": pull["merged"],
        "mergeable": None if pending else clean,
        "rebaseable": None if pending else clean,
        "mergeable_state": _mergeable_state(call, repo, issue, head, clean)
        if is_open and not pending
        else "unknown",
        "merged_by": shapes.simple_user(call.api, call.base, call.store.users[pull["merged_by"]])
        if pull["merged_by"]
        else None,
        "comments": sum(1 for c in repo["comments"].values() if c["issue"] == issue["number"]),
        "review_comments": 0,
        "maintainer_can_modify": pull["maintainer_can_modify"],
        "commits": len(gitrepo.commits_between(path, mb, head)),
        "additions": sum(c.additions for c in changes),
        "deletions": sum(c.deletions for c in changes),
        "changed_files": len(changes),
    }


def _mergeable_state(call: Call, repo: Json, issue: Json, head: str, clean: bool | None) -> str:
    """Return the mergeable_state: dirty (conflicts), draft, blocked or behind (branch
    protection), unstable (failing checks) or clean."""
    if not clean:
        return "dirty"
    if issue["pull"]["draft"]:
        return "draft"
    held = protection.merge_state(call, repo, issue, head)
    if held is not None:
        return held
    latest: dict[str, str] = {}
    for status in reversed(repo["statuses"]):
        if status["sha"] == head:
            latest.setdefault(status["context"], status["state"])
    states = list(latest.values()) + [
        "success"
        if r["conclusion"] in ("success", "neutral", "skipped")
        else "pending"
        if r["status"] != "completed"
        else "failure"
        for r in repo["check_runs"].values()
        if r["head_sha"] == head
    ]
    return "clean" if not states or combined_state(states) == "success" else "unstable"


def pull_for(call: Call, repo: Json) -> Json:
    """Return the route's pull request (as its issue record), or 404."""
    issue: Json | None = repo["issues"].get(call.params["pull_number"])
    if issue is None or not issue["pull"]:
        raise not_found()
    return issue


def _branch_name(repo: Json, value: object, field: str) -> str:
    name = str(value or "")
    owner, sep, rest = name.partition(":")
    if sep:
        if owner.lower() != repo["owner"].lower():
            raise invalid("PullRequest", field)
        name = rest
    return name


@ROUTES.route("POST", "/repos/{owner}/{repo}/pulls", "pulls/create")
def create(call: Call) -> Reply:
    """Open a pull request from a branch of the same repository."""
    repo = repo_for(call)
    path = call.store.git_dir(repo)
    head, base = (
        _branch_name(repo, call.field("head"), "head"),
        _branch_name(repo, call.field("base"), "base"),
    )
    head_tip = gitrepo.resolve(path, f"refs/heads/{head}")
    base_tip = gitrepo.resolve(path, f"refs/heads/{base}")
    if head_tip is None:
        raise invalid("PullRequest", "head")
    if base_tip is None:
        raise invalid("PullRequest", "base")
    for other in repo["issues"].values():
        pull = other["pull"]
        if pull and other["state"] == "open" and (pull["head"], pull["base"]) == (head, base):
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {repo['owner']}:{head}.",
                    }
                ],
            )
    if not gitrepo.commits_between(path, base_tip, head_tip):
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head}",
                }
            ],
        )
    issue = issues.new_issue(call, repo, str(call.field("title") or ""), call.field("body"))
    issue["pull"] = {
        "id": call.store.new_id(),
        "head": head,
        "base": base,
        "head_sha": head_tip,
        "base_sha": base_tip,
        "draft": bool(call.field("draft", False)),
        "merged": False,
        "merged_at": None,
        "merged_by": None,
        "merge_commit_sha": None,
        "maintainer_can_modify": bool(call.field("maintainer_can_modify", True)),
        "reviews": [],
    }
    call.hooks.pull_opened(repo, issue["number"])
    webhooks.opened(call, repo, issue)
    rendered = render(call, repo, issue)
    return Reply(201, rendered, {"Location": rendered["url"]})


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "pulls/get")
def get(call: Call) -> Reply:
    """Return one pull request with mergeability computed from the git repository."""
    repo = repo_for(call)
    return Reply(200, render(call, repo, pull_for(call, repo)))


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls", "pulls/list")
def list_pulls(call: Call) -> Reply:
    """List pull requests filtered by state, head (owner:branch) and base."""
    repo = repo_for(call)
    state, head, base = call.arg("state", "open"), call.arg("head"), call.arg("base")
    found = [
        i
        for i in repo["issues"].values()
        if i["pull"]
        and (state == "all" or i["state"] == state)
        and (head is None or f"{repo['owner']}:{i['pull']['head']}".lower() == head.lower())
        and (base is None or i["pull"]["base"] == base)
    ]
    key = "updated_at" if call.arg("sort") == "updated" else "created_at"
    found.sort(key=lambda i: (i[key], i["number"]), reverse=call.arg("direction", "desc") == "desc")
    return paginate(call, found, lambda i: render(call, repo, i, full=False))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", "pulls/update")
def update(call: Call) -> Reply:
    """Edit title, body, base or state (closing does not merge)."""
    repo = repo_for(call)
    issue = pull_for(call, repo)
    if call.login != issue["user"] and not can(call.store, repo, call.login, "push"):
        raise ApiError(403, "Must have push access to repository.")
    if call.body.get("state") == "open" and issue["state"] == "closed":
        _check_reopenable(call, repo, issue)
    before = {k: issue[k] for k in ("title", "body")}
    old_base: Json | None = None  # the base before a change of base, for `edited`
    if call.body.get("base", issue["pull"]["base"]) != issue["pull"]["base"]:
        old_base = {"ref": issue["pull"]["base"], "sha": base_sha(call.store, repo, issue)}
    for key in ("title", "body"):
        if key in call.body:
            issue[key] = call.body[key]
    if "base" in call.body:
        if gitrepo.resolve(call.store.git_dir(repo), f"refs/heads/{call.body['base']}") is None:
            raise invalid("PullRequest", "base")
        issue["pull"]["base"] = call.body["base"]
    if "maintainer_can_modify" in call.body:
        issue["pull"]["maintainer_can_modify"] = bool(call.body["maintainer_can_modify"])
    if call.body.get("state") in ("open", "closed") and not issue["pull"]["merged"]:
        head_sha(call.store, repo, issue)  # record the tips the closed pull request keeps
        base_sha(call.store, repo, issue)
        issues.set_state(call, repo, issue, call.body["state"], None)
        issue["state_reason"] = None
        if issue["state"] == "open":
            call.hooks.pull_opened(repo, issue["number"])
    webhooks.edited(call, repo, issue, before, old_base)
    issue["updated_at"] = now_iso()
    return Reply(200, render(call, repo, issue))


def _check_reopenable(call: Call, repo: Json, issue: Json) -> None:
    """Refuse to reopen a merged pull request, or one whose head branch is gone, as GitHub does.

    GitHub gives both the same answer (a 422 on `state`).
    """
    head = f"refs/heads/{issue['pull']['head']}"
    if issue["pull"]["merged"] or gitrepo.resolve(call.store.git_dir(repo), head) is None:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "field": "state",
                    "message": "state cannot be changed. The pull request cannot be reopened.",
                }
            ],
        )


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "pulls/list-files")
def list_files(call: Call) -> Reply:
    """List the files the pull request changes (merge base to head)."""
    repo = repo_for(call)
    issue = pull_for(call, repo)
    path = call.store.git_dir(repo)
    head, base = head_sha(call.store, repo, issue), base_sha(call.store, repo, issue)
    return paginate(
        call, render_files(call, repo, path, gitrepo.merge_base(path, base, head) or base, head)
    )


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", "pulls/list-commits")
def list_commits(call: Call) -> Reply:
    """List the pull request's commits, oldest first."""
    repo = repo_for(call)
    issue = pull_for(call, repo)
    path = call.store.git_dir(repo)
    head, base = head_sha(call.store, repo, issue), base_sha(call.store, repo, issue)
    shas = gitrepo.commits_between(path, gitrepo.merge_base(path, base, head) or base, head)
    return paginate(call, shas, lambda sha: render_commit(call, repo, sha))


webhooks.SHAPES["pull_request"] = render  # what a `pull_request` webhook carries

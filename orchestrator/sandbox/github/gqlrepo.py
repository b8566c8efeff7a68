"""Resolve a repository's settings, the viewer's permission, its default branch and labels."""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import gitrepo, shapes
from orchestrator.sandbox.github.access import role
from orchestrator.sandbox.github.gqlcore import Context, connection, label, resolves
from orchestrator.sandbox.github.state import Json

# Repository fields read from the REST description of the same repository, so the two agree.
SETTINGS = {
    "hasIssuesEnabled": "has_issues",
    "hasProjectsEnabled": "has_projects",
    "hasWikiEnabled": "has_wiki",
    "hasDiscussionsEnabled": "has_discussions",
    "isArchived": "archived",
    "isDisabled": "disabled",
    "isFork": "fork",
    "isTemplate": "is_template",
    "mergeCommitAllowed": "allow_merge_commit",
    "squashMergeAllowed": "allow_squash_merge",
    "rebaseMergeAllowed": "allow_rebase_merge",
    "autoMergeAllowed": "allow_auto_merge",
    "deleteBranchOnMerge": "delete_branch_on_merge",
    "description": "description",
    "homepageUrl": "homepage",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "pushedAt": "pushed_at",
    "forkCount": "forks_count",
    "stargazerCount": "stargazers_count",
}
# GitHub's RepositoryPermission by the sandbox's role.
PERMISSIONS = {
    "admin": "ADMIN",
    "maintain": "MAINTAIN",
    "push": "WRITE",
    "triage": "TRIAGE",
    "pull": "READ",
}


def rest_view(context: Context, source: Json) -> Json:
    """Return (once per rendered repository) the REST description of the repository."""
    if "_rest" not in source:
        repo = source["_repo"]
        owner = context.store.users[repo["owner"]]
        source["_rest"] = shapes.repository(f"{context.base}/api/v3", context.base, repo, owner)
    rest: Json = source["_rest"]
    return rest


def _setting(key: str) -> Any:
    def resolve(source: Json, info: Any) -> Any:
        return rest_view(info.context, source)[key]

    return resolve


for _field, _key in SETTINGS.items():
    resolves("Repository", _field)(_setting(_key))


@resolves("Repository", "visibility")
def resolve_visibility(source: Json, info: Any) -> str:
    """Return PUBLIC or PRIVATE."""
    return str(rest_view(info.context, source)["visibility"]).upper()


@resolves("Repository", "viewerPermission")
def resolve_viewer_permission(source: Json, info: Any) -> str | None:
    """Return the caller's role on the repository in GitHub's words."""
    return PERMISSIONS.get(role(info.context.store, source["_repo"], info.context.login))


@resolves("Repository", "viewerCanAdminister")
def resolve_viewer_can_administer(source: Json, info: Any) -> bool:
    """Return whether the caller is an admin of the repository."""
    return role(info.context.store, source["_repo"], info.context.login) == "admin"


@resolves("Repository", "defaultBranchRef")
def resolve_default_branch(source: Json, info: Any) -> Json | None:
    """Return the default branch, or null while the repository has no commits (as GitHub)."""
    repo = source["_repo"]
    return branch_ref(info.context, source, repo["default_branch"])


def branch_ref(context: Context, source: Json, name: str) -> Json | None:
    """Return the Ref of branch `name` of the rendered repository `source`, or None."""
    repo = source["_repo"]
    sha = gitrepo.resolve(context.store.git_dir(repo), f"refs/heads/{name}")
    if sha is None:
        return None
    found: Json = {
        "__typename": "Ref",
        "name": name,
        "prefix": "refs/heads/",
        "repository": source,
        "target": {
            "__typename": "Commit",
            "oid": sha,
            "abbreviatedOid": sha[:7],
            "_sha": sha,
            "_repo": repo,
        },
    }
    if name not in repo.get("protection", {}):
        found["branchProtectionRule"] = None  # a protected branch's rule is not served
    return found


@resolves("Repository", "labels")
def resolve_repo_labels(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    query: str | None = None,
    orderBy: Json | None = None,  # noqa: N803 - GitHub's argument name
    **_: Any,
) -> Json:
    """Return the repository's labels, by name unless `orderBy` says CREATED_AT.

    `query` matches a substring of the name or description, as GitHub's label search does.
    """
    repo = source["_repo"]
    order = orderBy or {"field": "NAME", "direction": "ASC"}
    found = [
        r
        for r in repo["labels"].values()
        if not query
        or query.lower() in r["name"].lower()
        or query.lower() in (r["description"] or "").lower()
    ]
    found.sort(
        key=lambda r: r["id"] if order["field"] == "CREATED_AT" else r["name"].lower(),
        reverse=order["direction"] == "DESC",
    )
    return connection(
        found, first, after, "labels", lambda r: label(info.context, repo, r), last=last
    )


@resolves("Repository", "label")
def resolve_repo_label(source: Json, info: Any, name: str) -> Json | None:
    """Return the label called `name` (any case), or null."""
    record = source["_repo"]["labels"].get(name.lower())
    return label(info.context, source["_repo"], record) if record else None


@resolves("Repository", "parent")
def resolve_parent(source: Json, info: Any) -> None:
    """Return null: the sandbox has no forks, so no repository has a parent."""
    return None

"""Resolve a pull request's branches, merge state, commits, files and reviews.

What REST computes from git (mergeable, merge state, diff counts) is read from the REST
description of the same pull request, so both APIs agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.sandbox.github import gitrepo, pulls
from orchestrator.sandbox.github.gqlcore import (
    Context,
    actor,
    connection,
    everything,
    owner,
    repository,
    resolves,
)
from orchestrator.sandbox.github.gqlrefuse import Unimplemented
from orchestrator.sandbox.github.gqlrepo import branch_ref
from orchestrator.sandbox.github.gqlrest import call, issue_params
from orchestrator.sandbox.github.issues import association
from orchestrator.sandbox.github.state import Json, node_id

# GitHub's MergeStateStatus by REST's mergeable_state.
MERGE_STATES = {
    "clean": "CLEAN",
    "dirty": "DIRTY",
    "unstable": "UNSTABLE",
    "draft": "DRAFT",
    "blocked": "BLOCKED",
    "behind": "BEHIND",
    "unknown": "UNKNOWN",
}

# GitHub's PatchStatus by the REST diff-entry status.
PATCH_STATUS = {
    "added": "ADDED",
    "removed": "DELETED",
    "modified": "MODIFIED",
    "renamed": "RENAMED",
    "copied": "COPIED",
    "changed": "CHANGED",
}


def rest_view(context: Context, source: Json) -> Json:
    """Return (once per rendered pull request) its REST description."""
    if "_rest" not in source:
        repo, record = source["_repo"], source["_issue"]
        rest = call(context, issue_params(repo, record))
        source["_rest"] = pulls.render(rest, repo, record)
    view: Json = source["_rest"]
    return view


Read = Callable[[Context, Json, Json, Json], Any]  # (context, repo, issue record, pull) -> value

_READS: dict[str, Read] = {
    "headRefName": lambda c, repo, i, p: p["head"],
    "baseRefName": lambda c, repo, i, p: p["base"],
    "isDraft": lambda c, repo, i, p: p["draft"],
    "maintainerCanModify": lambda c, repo, i, p: p["maintainer_can_modify"],
    "isCrossRepository": lambda c, repo, i, p: False,  # the sandbox has no forks
    "headRepository": lambda c, repo, i, p: repository(c, repo),
    "baseRepository": lambda c, repo, i, p: repository(c, repo),
    "headRepositoryOwner": lambda c, repo, i, p: owner(c, c.store.users[repo["owner"]]),
    "mergedAt": lambda c, repo, i, p: p["merged_at"],
    "mergedBy": lambda c, repo, i, p: actor(c, p["merged_by"]) if p["merged_by"] else None,
    "mergeCommit": lambda c, repo, i, p: (
        commit(c, repo, p["merge_commit_sha"]) if p["merge_commit_sha"] else None
    ),
    "headRefOid": lambda c, repo, i, p: pulls.head_sha(c.store, repo, i),
    "baseRefOid": lambda c, repo, i, p: pulls.base_sha(c.store, repo, i),
    "baseRef": lambda c, repo, i, p: branch_ref(c, repository(c, repo), p["base"]),
    "headRef": lambda c, repo, i, p: branch_ref(c, repository(c, repo), p["head"]),
    "reviewDecision": lambda c, repo, i, p: _review_decision(repo, p),
    "reviewRequests": lambda c, repo, i, p: everything([]),  # the sandbox requests none
}


def _review_decision(repo: Json, pull: Json) -> None:
    """Return GitHub's null, right only when the base requires no review; else refuse."""
    rules = repo.get("protection", {}).get(pull["base"])
    if rules and rules["required_pull_request_reviews"]:
        raise Unimplemented("PullRequest", "reviewDecision")


def _reader(read: Read) -> Callable[..., Any]:
    def resolve(source: Json, info: Any, **_: Any) -> Any:
        record = source["_issue"]
        return read(info.context, source["_repo"], record, record["pull"])

    return resolve


for _name, _read in _READS.items():
    resolves("PullRequest", _name)(_reader(_read))


@resolves("PullRequest", "mergeable")
def resolve_mergeable(source: Json, info: Any) -> str:
    """Return MERGEABLE, CONFLICTING or UNKNOWN (REST's mergeable: true, false or null)."""
    value = rest_view(info.context, source).get("mergeable")
    return "UNKNOWN" if value is None else "MERGEABLE" if value else "CONFLICTING"


@resolves("PullRequest", "mergeStateStatus")
def resolve_merge_state(source: Json, info: Any) -> str:
    """Return GitHub's MergeStateStatus for REST's mergeable_state."""
    return MERGE_STATES[str(rest_view(info.context, source).get("mergeable_state", "unknown"))]


def _count(key: str) -> Callable[..., Any]:
    def resolve(source: Json, info: Any) -> Any:
        return rest_view(info.context, source)[key]

    return resolve


for _name, _key in (("additions", "additions"), ("deletions", "deletions")):
    resolves("PullRequest", _name)(_count(_key))
resolves("PullRequest", "changedFiles")(_count("changed_files"))


def commit(context: Context, repo: Json, sha: str) -> Json:
    """Return a Commit of `repo`."""
    found = gitrepo.commit(context.store.git_dir(repo), sha)
    headline, _, body = found.message.partition("\n")
    full = f"{repo['owner']}/{repo['name']}"
    return {
        "__typename": "Commit",
        "id": node_id("Commit", int(sha[:12], 16)),
        "oid": sha,
        "abbreviatedOid": sha[:7],
        "message": found.message,
        "messageHeadline": headline,
        "messageBody": body.strip("\n"),
        "authoredDate": found.author[2],
        "committedDate": found.committer[2],
        "url": f"{context.base}/{full}/commit/{sha}",
        "authors": everything([_git_actor(context, found.author[0], found.author[1])]),
        "_sha": sha,
        "_repo": repo,
    }


def _git_actor(context: Context, name: str, email: str) -> Json:
    who = next((u for u in context.store.users.values() if u.get("email") == email), None)
    return {
        "__typename": "GitActor",
        "name": name,
        "email": email,
        "user": owner(context, who) if who and who["type"] == "User" else None,
    }


def _shas(context: Context, repo: Json, record: Json) -> list[str]:
    path = context.store.git_dir(repo)
    head = pulls.head_sha(context.store, repo, record)
    base = pulls.base_sha(context.store, repo, record)
    return gitrepo.commits_between(path, gitrepo.merge_base(path, base, head) or base, head)


@resolves("PullRequest", "commits")
def resolve_commits(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> Json:
    """Return the pull request's commits, oldest first."""
    context: Context = info.context
    repo, record = source["_repo"], source["_issue"]
    shas = _shas(context, repo, record)
    if first is None and last is None:
        # GitHub answers `commits { totalCount }` (gh's commitsCount) without a page; the nodes
        # of an unpaginated connection are not served.
        return {"totalCount": len(shas)}
    return connection(
        shas,
        first,
        after,
        "commits",
        lambda sha: {
            "__typename": "PullRequestCommit",
            "id": node_id("PullRequestCommit", int(sha[:12], 16)),
            "commit": commit(context, repo, sha),
            "url": f"{source['url']}/commits/{sha}",
        },
        last=last,
    )


@resolves("PullRequest", "files")
def resolve_files(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the files the pull request changes (merge base to head)."""
    context: Context = info.context
    repo, record = source["_repo"], source["_issue"]
    path = context.store.git_dir(repo)
    head = pulls.head_sha(context.store, repo, record)
    base = pulls.base_sha(context.store, repo, record)
    changes = gitrepo.diff(path, gitrepo.merge_base(path, base, head) or base, head)
    return connection(
        [
            {
                "__typename": "PullRequestChangedFile",
                "path": c.filename,
                "additions": c.additions,
                "deletions": c.deletions,
                "changeType": PATCH_STATUS[c.status],
            }
            for c in changes
        ],
        first,
        after,
        "files",
    )


def review(context: Context, repo: Json, record: Json, item: Json) -> Json:
    """Return a PullRequestReview."""
    return {
        "__typename": "PullRequestReview",
        "id": node_id("PullRequestReview", item["id"]),
        "databaseId": item["id"],
        "author": actor(context, item["user"]),
        "authorAssociation": association(context.store, repo, item["user"]),
        "body": item["body"],
        "state": item["state"],
        "submittedAt": item["submitted_at"],
        "commit": {
            "__typename": "Commit",
            "oid": item["commit_id"],
            "abbreviatedOid": item["commit_id"][:7],
            "_sha": item["commit_id"],
            "_repo": repo,
        },
        "url": f"{context.base}/{repo['owner']}/{repo['name']}/pull/{record['number']}"
        f"#pullrequestreview-{item['id']}",
    }


@resolves("PullRequest", "reviews")
def resolve_reviews(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    states: list[str] | None = None,
    **_: Any,
) -> Json:
    """Return the pull request's reviews, oldest first, optionally by state."""
    repo, record = source["_repo"], source["_issue"]
    found = [r for r in record["pull"]["reviews"] if not states or r["state"] in states]
    return connection(
        found,
        first,
        after,
        "reviews",
        lambda r: review(info.context, repo, record, r),
        last=last,
    )


@resolves("PullRequest", "latestReviews")
def resolve_latest_reviews(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return each reviewer's latest submitted review."""
    repo, record = source["_repo"], source["_issue"]
    latest = {r["user"]: r for r in record["pull"]["reviews"] if r["state"] != "PENDING"}
    return connection(
        list(latest.values()),
        first,
        after,
        "latestReviews",
        lambda r: review(info.context, repo, record, r),
    )

"""Serve pull request reviews (list, create) and merging a PR, closing the issues it names."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.sandbox.github import (
    gitrepo,
    issues,
    merging,
    protection,
    pulls,
    shapes,
    webhooks,
)
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, paginate
from orchestrator.sandbox.github.gitdata import repo_url
from orchestrator.sandbox.github.gitrepo import GitError
from orchestrator.sandbox.github.pulls import base_sha, head_sha, pull_for
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, node_id, now_iso

_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
# What a pull request's author may not do to it.
_OWN = {
    "APPROVE": "approve your own pull request",
    "REQUEST_CHANGES": "request changes on your own pull request",
}


def render_review(call: Call, repo: Json, issue: Json, review: Json) -> Json:
    """Return GitHub's `pull-request-review`."""
    html = (
        f"{call.base}/{repo['owner']}/{repo['name']}/pull/{issue['number']}"
        f"#pullrequestreview-{review['id']}"
    )
    pr_url = f"{repo_url(call, repo)}/pulls/{issue['number']}"
    body: Json = {
        "id": review["id"],
        "node_id": node_id("PullRequestReview", review["id"]),
        "user": shapes.simple_user(call.api, call.base, call.store.users[review["user"]]),
        "body": review["body"],
        "state": review["state"],
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "commit_id": review["commit_id"],
        "author_association": issues.association(call.store, repo, review["user"]),
    }
    if review["submitted_at"]:
        body["submitted_at"] = review["submitted_at"]
    return body


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "pulls/list-reviews")
def list_reviews(call: Call) -> Reply:
    """List a pull request's reviews, oldest first."""
    repo = repo_for(call)
    issue = pull_for(call, repo)
    return paginate(call, issue["pull"]["reviews"], lambda r: render_review(call, repo, issue, r))


@ROUTES.route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "pulls/create-review")
def create_review(call: Call) -> Reply:
    """Review a pull request; without `event` the review stays PENDING, as on GitHub."""
    repo = repo_for(call)
    issue = pull_for(call, repo)
    event = call.field("event")
    if event is not None and event not in _EVENTS:
        raise invalid("PullRequestReview", "event")
    if event in _OWN and call.login == issue["user"]:
        # GitHub's own words, as a string error item
        raise ApiError(422, "Unprocessable Entity", [f"Review Can not {_OWN[event]}"])
    if event in ("REQUEST_CHANGES", "COMMENT") and not call.field("body"):
        raise ApiError(422, "Unprocessable Entity", [f"Review body is required for {event}"])
    review = {
        "id": call.store.new_id(),
        "user": call.login,
        "body": call.field("body") or "",
        "state": _EVENTS.get(event or "", "PENDING"),
        "commit_id": call.field("commit_id") or head_sha(call.store, repo, issue),
        "submitted_at": now_iso() if event else None,
    }
    issue["pull"]["reviews"].append(review)
    if event:
        webhooks.emit(
            call, repo, "pull_request_review", "submitted", _submitted(call, repo, issue, review)
        )
    return Reply(200, render_review(call, repo, issue, review))


def _submitted(call: Call, repo: Json, issue: Json, review: Json) -> Callable[[], Json]:
    """Return the `pull_request_review` `submitted` fields: the review, its state in lower case
    as webhooks give it (`approved`, `changes_requested`, `commented`), and the pull request as
    `pull-request-simple`."""

    def fields() -> Json:
        shown = render_review(call, repo, issue, review)
        pull = pulls.render(call, repo, issue, full=False)
        for side in ("head", "base"):  # as webhooks._pull: an object here, a login elsewhere
            pull[side]["repo"].pop("organization", None)
        return {"review": {**shown, "state": review["state"].lower()}, "pull_request": pull}

    return fields


def merge_message(
    repo: Json, issue: Json, method: str, title: str | None, text: str | None, titles: list[str]
) -> str:
    pull = issue["pull"]
    if method == "merge":
        head = title or f"Merge pull request #{issue['number']} from {repo['owner']}/{pull['head']}"
        return f"{head}\n\n{text if text is not None else issue['title']}"
    head = title or f"{issue['title']} (#{issue['number']})"
    body = text if text is not None else "\n\n".join(f"* {t}" for t in titles)
    return f"{head}\n\n{body}" if body else head


@ROUTES.route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", "pulls/merge")
def merge(call: Call) -> Reply:
    """Merge on the bare repository by merge, squash or rebase; close the issues the body names."""
    repo = repo_for(call, "push", denied=403)
    issue = pull_for(call, repo)
    pull, path = issue["pull"], call.store.git_dir(repo)
    if issue["state"] != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    if pull["draft"]:
        raise ApiError(405, "Pull Request is still a draft")
    head, base = head_sha(call.store, repo, issue), base_sha(call.store, repo, issue)
    if call.field("sha") and call.field("sha") != head:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    refused = protection.refusal(call, repo, issue, head)
    if refused:
        raise ApiError(405, refused)
    method = call.field("merge_method") or "merge"
    commits = gitrepo.commits_between(path, base, head)
    titles = [gitrepo.commit(path, sha).message.split("\n", 1)[0] for sha in commits]
    message = merge_message(
        repo, issue, method, call.field("commit_title"), call.field("commit_message"), titles
    )
    user = call.store.users[call.login]
    try:
        tip = merging.merge(
            path,
            pull["base"],
            head,
            method,
            message,
            gitrepo.identity(user.get("name") or user["login"], user["email"]),
        )
    except GitError:
        raise ApiError(405, "Pull Request is not mergeable") from None
    merging.record_merge(call, repo, issue, tip, base)
    call.hooks.pushed(repo, [(base, tip, f"refs/heads/{pull['base']}")], call.login)
    return Reply(200, {"sha": tip, "merged": True, "message": "Pull Request successfully merged"})

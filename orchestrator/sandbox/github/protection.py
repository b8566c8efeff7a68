"""Serve branch protection (update, get, delete) and what it asks of a pull request to merge.

Kept of GitHub's rules: required pull request reviews (`required_approving_review_count`
approvals: each reviewer's latest APPROVED, CHANGES_REQUESTED or DISMISSED review counts, by a
user with write access who is not the author; with `dismiss_stale_reviews`, only approvals of
the head commit), required status checks (`contexts` and `checks` by name: the newest commit
status or check run of that name on the head must succeed; `strict`: the head must contain the
base) and `enforce_admins`. A pull request into a protected branch that falls short is
`mergeable_state: blocked` (or `behind`, for `strict`) for everyone, and its merge is refused
with GitHub's 405 unless the caller is an admin and `enforce_admins` is off. A branch that
requires the merge queue (`merge_queue`, set by `Sandbox.require_merge_queue`: the REST
description has no field for it) refuses the merge button alike. Pushes: pushes.py (linear
history, force pushes and deletions are enforced there). Restrictions and conversation
resolution are kept and answered back, not enforced.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import gitrepo
from orchestrator.sandbox.github.access import can, repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json

_PATH = "/repos/{owner}/{repo}/branches/{branch+}/protection"
_FLAGS = ("required_linear_history", "allow_force_pushes", "allow_deletions")
SUCCESS = ("success", "neutral", "skipped")
MERGE_QUEUE_REQUIRED = "Changes must be made through the merge queue"  # the merge button's 405


@ROUTES.route("PUT", _PATH, "repos/update-branch-protection")
def update(call: Call) -> Reply:
    """Protect a branch (replacing its rules); only an admin may, as on GitHub."""
    repo = repo_for(call, "admin", denied=403)
    branch = _branch(call, repo)
    reviews, checks = (
        call.body.get("required_pull_request_reviews"),
        call.body.get("required_status_checks"),
    )
    count = (reviews or {}).get("required_approving_review_count", 1)
    if not 0 <= count <= 6:
        raise invalid("BranchProtection", "required_approving_review_count", "invalid")
    kept = repo.get("protection", {}).get(branch, {}).get("merge_queue", False)
    repo.setdefault("protection", {})[branch] = {
        "merge_queue": kept,
        "required_pull_request_reviews": None
        if reviews is None
        else {
            "required_approving_review_count": count,
            "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews", False)),
            "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews", False)),
            "require_last_push_approval": bool(reviews.get("require_last_push_approval", False)),
        },
        "required_status_checks": None
        if checks is None
        else {
            "strict": bool(checks.get("strict")),
            "contexts": sorted(
                {*checks.get("contexts", []), *(c["context"] for c in checks.get("checks", []))}
            ),
        },
        "enforce_admins": bool(call.body.get("enforce_admins")),
        **{flag: bool(call.body.get(flag)) for flag in _FLAGS},
    }
    return Reply(200, _render(call, repo, branch))


@ROUTES.route("GET", _PATH, "repos/get-branch-protection")
def get(call: Call) -> Reply:
    """Return a branch's protection; 404 "Branch not protected" when it has none."""
    repo = repo_for(call, "admin")
    branch = _branch(call, repo)
    if branch not in repo.get("protection", {}):
        raise ApiError(404, "Branch not protected")
    return Reply(200, _render(call, repo, branch))


@ROUTES.route("DELETE", _PATH, "repos/delete-branch-protection")
def delete(call: Call) -> Reply:
    """Lift a branch's protection."""
    repo = repo_for(call, "admin", denied=403)
    branch = _branch(call, repo)
    if repo.get("protection", {}).pop(branch, None) is None:
        raise ApiError(404, "Branch not protected")
    return Reply(204, None)


def merge_state(call: Call, repo: Json, issue: Json, head: str) -> str | None:
    """Return `blocked` or `behind` when the base's protection holds the pull request back."""
    rules = repo.get("protection", {}).get(issue["pull"]["base"])
    if rules is None:
        return None
    if _shortfall(call, repo, issue, head, rules):
        return "blocked"
    return "behind" if _behind(call, repo, issue, head, rules) else None


def refusal(call: Call, repo: Json, issue: Json, head: str) -> str | None:
    """Return GitHub's reason for refusing this caller's merge, or None when it may merge."""
    rules = repo.get("protection", {}).get(issue["pull"]["base"])
    if rules is None or (
        not rules["enforce_admins"] and can(call.store, repo, call.login, "admin")
    ):
        return None
    if rules.get("merge_queue"):
        return MERGE_QUEUE_REQUIRED
    found = _shortfall(call, repo, issue, head, rules)
    if not found and _behind(call, repo, issue, head, rules):
        return "Head branch is not up to date with the base branch"
    return found


def shortfall(call: Call, repo: Json, issue: Json, head: str) -> str | None:
    """Return what the base's rules still want of the pull request (reviews, checks on `head`),
    sparing an admin unless `enforce_admins`; None when they want nothing."""
    rules = repo.get("protection", {}).get(issue["pull"]["base"])
    if rules is None or (
        not rules["enforce_admins"] and can(call.store, repo, call.login, "admin")
    ):
        return None
    return _shortfall(call, repo, issue, head, rules)


def _shortfall(call: Call, repo: Json, issue: Json, head: str, rules: Json) -> str | None:
    """Return what the rules still want of the pull request, in GitHub's words."""
    wanted = rules["required_pull_request_reviews"]
    if wanted and wanted["required_approving_review_count"]:
        count = wanted["required_approving_review_count"]
        if _approvals(call, repo, issue, head, wanted["dismiss_stale_reviews"]) < count:
            return (
                f"At least {count} approving review{'s are' if count > 1 else ' is'} required by "
                "reviewers with write access."
            )
    checks = rules["required_status_checks"]
    found = states(repo, head)
    for context in checks["contexts"] if checks else ():
        state = found.get(context)
        if state not in SUCCESS:
            said = "failing" if state in ("failure", "error") else "expected"
            return f'Required status check "{context}" is {said}.'
    return None


def _approvals(call: Call, repo: Json, issue: Json, head: str, fresh_only: bool) -> int:
    latest: dict[str, Json] = {}
    for review in issue["pull"]["reviews"]:
        if review["state"] in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review["user"].lower()] = review
    return sum(
        1
        for review in latest.values()
        if review["state"] == "APPROVED"
        and review["user"].lower() != issue["user"].lower()
        and can(call.store, repo, review["user"], "push")
        and (not fresh_only or review["commit_id"] == head)
    )


def states(repo: Json, head: str) -> dict[str, str]:
    """Return the newest state of each status context and check run name on `head`."""
    found: dict[str, str] = {}
    for status in repo["statuses"]:
        if status["sha"] == head:
            found[status["context"]] = status["state"]
    runs = sorted(
        (r for r in repo["check_runs"].values() if r["head_sha"] == head), key=lambda r: r["id"]
    )
    for run in runs:
        found[run["name"]] = run["conclusion"] if run["status"] == "completed" else "pending"
    return found


def _behind(call: Call, repo: Json, issue: Json, head: str, rules: Json) -> bool:
    checks = rules["required_status_checks"]
    if not checks or not checks["strict"]:
        return False
    path = call.store.git_dir(repo)
    base = gitrepo.resolve(path, f"refs/heads/{issue['pull']['base']}")
    return base is not None and gitrepo.merge_base(path, base, head) != base


def _branch(call: Call, repo: Json) -> str:
    name = call.params["branch"]
    if gitrepo.resolve(call.store.git_dir(repo), f"refs/heads/{name}") is None:
        raise ApiError(404, "Branch not found")
    return name


def _render(call: Call, repo: Json, branch: str) -> Json:
    """Return GitHub's `protected-branch`."""
    rules = repo["protection"][branch]
    url = f"{call.api}/repos/{repo['owner']}/{repo['name']}/branches/{branch}/protection"
    body: dict[str, Any] = {"url": url}
    checks = rules["required_status_checks"]
    if checks is not None:
        body["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": checks["strict"],
            "contexts": checks["contexts"],
            "checks": [{"context": c, "app_id": None} for c in checks["contexts"]],
            "contexts_url": f"{url}/required_status_checks/contexts",
        }
    reviews = rules["required_pull_request_reviews"]
    if reviews is not None:
        body["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            **reviews,
        }
    body["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": rules["enforce_admins"]}
    body.update({flag: {"enabled": rules[flag]} for flag in _FLAGS})
    return body

"""Decide who may see and change a repository, following GitHub's roles.

The roles, weakest first: pull < triage < push < maintain < admin.
"""

from __future__ import annotations

from orchestrator.sandbox.github.api import ApiError, Call, not_found
from orchestrator.sandbox.github.state import Json, Store

LEVELS = ("none", "pull", "triage", "push", "maintain", "admin")


def role(store: Store, repo: Json, login: str) -> str:
    """Return the caller's effective role on `repo` (one of LEVELS)."""
    if login.lower() == repo["owner"].lower():
        return "admin"
    if (store.user(login) or {}).get("type") == "Bot":
        return "push"  # a sandbox app is installed on every repository
    owner = store.user(repo["owner"]) or {}
    roles = ["pull" if not repo["private"] else "none"]
    member = {k.lower(): v for k, v in owner.get("members", {}).items()}.get(login.lower())
    if member:
        roles.append("admin" if member == "admin" else "pull")
    roles.append(
        {k.lower(): v for k, v in repo["collaborators"].items()}.get(login.lower(), "none")
    )
    return max(roles, key=LEVELS.index)


def can(store: Store, repo: Json, login: str, level: str) -> bool:
    """Return whether `login` holds at least `level` on `repo`."""
    return LEVELS.index(role(store, repo, login)) >= LEVELS.index(level)


def permissions(store: Store, repo: Json, login: str) -> Json:
    """Return the `permissions` object GitHub adds to a repository for the caller."""
    rank = LEVELS.index(role(store, repo, login))
    return {
        name: rank >= LEVELS.index(name) for name in ("admin", "maintain", "push", "triage", "pull")
    }


def repo_for(call: Call, level: str = "pull", denied: int = 404) -> Json:
    """Return the route's repository if the caller holds `level`; 404 if unseen, else `denied`."""
    repo = call.store.repo(call.params["owner"], call.params["repo"])
    if repo is None or not can(call.store, repo, call.login, "pull"):
        raise not_found()
    if not can(call.store, repo, call.login, level):
        if denied == 404:
            raise not_found()
        raise ApiError(denied, f"Must have {level} access to repository.")
    return repo

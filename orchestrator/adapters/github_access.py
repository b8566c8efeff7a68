"""Check that a GitHub token can do what Agent OS needs: OAuth scopes and access to each repo."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from github import GithubException, UnknownObjectException

from orchestrator.adapters.github_errors import header
from orchestrator.adapters.github_http import Rest
from orchestrator.config.model import RepoConfig

# A scope grants the scopes listed after it (GitHub's OAuth scope hierarchy, the parts we use).
IMPLIED: dict[str, tuple[str, ...]] = {
    "repo": ("public_repo", "repo:status", "repo_deployment", "repo:invite", "security_events"),
    "admin:org": ("write:org", "read:org"),
    "write:org": ("read:org",),
    "project": ("read:project",),
}


def granted(scopes_header: str) -> set[str]:
    """Return the scopes an `X-OAuth-Scopes` header grants, implied ones included."""
    have = {scope.strip() for scope in scopes_header.split(",") if scope.strip()}
    for scope in list(have):
        have.update(IMPLIED.get(scope, ()))
    return have


def access_problems(rest: Rest, repos: Sequence[RepoConfig]) -> list[str]:
    """Return what stops the token from serving `repos`, one line each; [] when nothing does."""
    headers, me = rest.get_with_headers("/user")
    scopes = header(headers, "x-oauth-scopes")
    problems: list[str] = []
    # fine-grained tokens and apps send no scopes: the repo checks below still apply
    if scopes is not None:
        have = granted(scopes)
        problems += [
            f"the token lacks the '{scope}' scope, needed {why}"
            for scope, why in needed_scopes(rest, repos, str(me["login"]))
            if scope not in have
        ]
    for repo in repos:
        problems += repo_problems(rest, repo)
    return problems


def needed_scopes(rest: Rest, repos: Sequence[RepoConfig], login: str) -> list[tuple[str, str]]:
    """Return (scope, why) pairs: `repo` always, `project` for boards, `read:org` for org boards."""
    needed = [("repo", "to read and write issues and pull requests")]
    boards = sorted({repo.board.owner for repo in repos if repo.board is not None})
    if boards:
        needed.append(("project", f"for the boards of {', '.join(boards)}"))
    orgs = [owner for owner in boards if owner.lower() != login.lower() and is_org(rest, owner)]
    if orgs:
        needed.append(("read:org", f"for the boards of the organizations {', '.join(orgs)}"))
    return needed


def is_org(rest: Rest, owner: str) -> bool:
    """Return whether a login names an organization."""
    try:
        return bool(rest.get(f"/users/{owner}").get("type") == "Organization")
    except UnknownObjectException:
        return False


def repo_problems(rest: Rest, repo: RepoConfig) -> list[str]:
    """Return why the token cannot work on a repository: unseen, read-only, or issues turned off."""
    try:
        raw = rest.get(f"/repos/{repo.github}")
    except UnknownObjectException:
        return [f"repos.{repo.key}: {repo.github} not found, or the token cannot see it"]
    problems = []
    if not (raw.get("permissions") or {}).get("push"):
        problems.append(
            f"repos.{repo.key}: the token cannot push to {repo.github} (it needs write access)"
        )
    if raw.get("has_issues") is False:
        problems.append(f"repos.{repo.key}: issues are turned off in {repo.github}")
    return problems


def train_blockers(rest: Rest, repo: RepoConfig) -> list[str] | None:
    """Return what in the base's protection refuses a merge train's push ([]: nothing), or None
    when the token may not read the protection (GitHub shows it to admins only)."""
    try:
        raw = rest.get(f"/repos/{repo.github}/branches/{quote(repo.base_branch)}/protection")
    except GithubException as error:
        if error.status == 404:  # "Branch not protected": any push that fast-forwards lands
            return []
        if error.status == 403:
            return None
        raise
    blockers = []
    if raw.get("required_pull_request_reviews"):
        blockers.append("it requires pull request reviews")
    if (raw.get("required_linear_history") or {}).get("enabled"):
        blockers.append("it requires linear history")
    return blockers

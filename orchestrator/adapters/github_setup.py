"""The GitHub side of `agentos init` on PyGithub.

The token's owner, repositories, labels, seed issues, a commit and the repositories' webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from github import GithubException, UnknownObjectException

from orchestrator.adapters.git_publish import publish
from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_access import granted
from orchestrator.adapters.github_errors import (
    TRANSPORT_ERRORS,
    from_github,
    header,
    one_line,
    translated,
)
from orchestrator.adapters.github_http import RetryPolicy
from orchestrator.adapters.github_normalize import label_name
from orchestrator.config.model import GitHubConfig
from orchestrator.core.model import Identity, Issue, IssueRef, RepoInfo
from orchestrator.errors import Rejected
from orchestrator.ports_init import Edit, RepoHook


class GitHubSetupClient(GitHubTracker):
    """GitHubTracker plus what only init needs; implements init.services.GitHubSetup."""

    def __init__(
        self, config: GitHubConfig, *, throttle: bool = True, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__(config, throttle=throttle, retry=retry or RetryPolicy())
        self._token, self._api_url = config.token.reveal(), config.api_url
        self._login: str | None = None

    def identity(self) -> Identity:
        """Return the token's login and scopes: one GET /user; a 401 is Rejected."""
        try:
            headers, me = self._rest.get_with_headers("/user")
        except GithubException as error:
            if error.status == 401:
                raise Rejected("GitHub rejected this token (401 Bad credentials)") from None
            raise from_github(error, "the token", "check") from error
        except TRANSPORT_ERRORS as error:
            reason = f"GitHub could not be reached at {self._api_url} ({type(error).__name__})"
            raise Rejected(one_line(reason)) from None
        scopes = header(headers, "x-oauth-scopes")
        self._login = str(me["login"])
        return Identity(self._login, None if scopes is None else frozenset(granted(scopes)))

    def owner_type(self, login: str) -> str | None:
        """Return "User" or "Organization": one GET /users/{login}."""
        with translated(login, "look up"):
            try:
                return str(self._rest.get(f"/users/{login}").get("type"))
            except UnknownObjectException:
                return None

    def repository(self, full_name: str) -> RepoInfo | None:
        """Return the repository: one GET; None if it does not exist or the token cannot see it."""
        with translated(full_name, "read"):
            try:
                return _info(self._rest.get(f"/repos/{full_name}"))
            except UnknownObjectException:
                return None

    def create_repository(self, owner: str, name: str, private: bool) -> RepoInfo:
        """Create the repository with a README commit: one POST.

        It goes to /user/repos or /orgs/{owner}/repos.
        """
        me = self._login or self.identity().login
        body = {
            "name": name,
            "private": private,
            "auto_init": True,
            "description": "Run by Agent OS",
        }
        path = "/user/repos" if owner.lower() == me.lower() else f"/orgs/{owner}/repos"
        with translated(f"{owner}/{name}", "create"):
            return _info(self._rest.send("POST", path, body))

    def labels(self, repo: str) -> set[str]:
        """Return the label names: one conditional GET per 100."""
        with translated(repo, "list the labels of"):
            return {label_name(raw) for raw in self._rest.pages(f"/repos/{repo}/labels")}

    def publish(self, repo: RepoInfo, edits: Mapping[str, Edit], message: str) -> bool:
        """Clone the default branch, apply the edits, commit and push.

        Git runs over HTTPS, with the token in a header.
        """
        return publish(
            repo.clone_url,
            repo.default_branch,
            self._token,
            edits,
            message,
            author=self._login or self.identity().login,
        )

    def open_issues(self, repo: str, labels: Sequence[str] = ()) -> list[Issue]:
        """Return the open issues (pull requests dropped)."""
        return super().open_issues(repo, labels)

    def blockers(self, issue: Issue) -> tuple[IssueRef, ...]:
        """Return the native blocked-by links: one conditional GET per 100."""
        return self.dependencies(issue).blocked_by

    def webhooks(self, repo: str) -> list[RepoHook]:
        """Return the repository's hooks: one conditional GET per 100 (admin rights needed)."""
        with translated(repo, "list the webhooks of"):
            return [_hook(raw) for raw in self._rest.pages(f"/repos/{repo}/hooks")]

    def save_webhook(
        self, repo: str, url: str, secret: str, events: Sequence[str], hook_id: int | None
    ) -> RepoHook:
        """Create the hook (one POST; GitHub pings it) or update that one (one PATCH)."""
        config = {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"}
        body: dict[str, Any] = {"config": config, "events": list(events), "active": True}
        if hook_id is None:
            with translated(repo, "create a webhook on"):
                return _hook(
                    self._rest.send("POST", f"/repos/{repo}/hooks", {"name": "web", **body})
                )
        with translated(repo, "update a webhook of"):
            return _hook(self._rest.send("PATCH", f"/repos/{repo}/hooks/{hook_id}", body))


def _hook(raw: Mapping[str, Any]) -> RepoHook:
    given = raw.get("config")
    config: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    return RepoHook(
        id=int(raw["id"]),
        url=str(config.get("url") or ""),
        events=tuple(str(e) for e in raw.get("events") or ()),
        active=bool(raw.get("active")),
        content_type=str(config.get("content_type") or "form"),
        has_secret=bool(config.get("secret")),  # GitHub shows a secret as ********
    )


def _info(raw: Mapping[str, object]) -> RepoInfo:
    permissions = raw.get("permissions")
    can_push = bool(permissions.get("push")) if isinstance(permissions, Mapping) else False
    if not raw.get("full_name") or not raw.get("clone_url"):
        raise Rejected(one_line(f"GitHub answered without a repository: {str(raw)[:200]}"))
    return RepoInfo(
        full_name=str(raw["full_name"]),
        default_branch=str(raw.get("default_branch") or "main"),
        html_url=str(raw.get("html_url") or ""),
        clone_url=str(raw["clone_url"]),
        can_push=can_push,
        has_issues=raw.get("has_issues") is not False,
    )

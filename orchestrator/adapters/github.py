"""The Tracker port on GitHub's REST API with PyGithub: issues, labels, comments, dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from github import GithubException, UnknownObjectException
from github.Issue import Issue as GithubIssue

from orchestrator.adapters import github_files, github_queue
from orchestrator.adapters.github_access import (
    access_problems,
    granted,
    needed_scopes,
    repo_problems,
    train_blockers,
)
from orchestrator.adapters.github_errors import header, one_line, translated, validation_says
from orchestrator.adapters.github_filed import closing_pull, filed, since_param
from orchestrator.adapters.github_http import Rest, RetryPolicy, connect
from orchestrator.adapters.github_normalize import (
    is_pull_request,
    issue_ref,
    label_events,
    label_name,
    last_edit,
    normalize_comment,
    normalize_issue,
    normalize_permission,
)
from orchestrator.adapters.github_pins import pin
from orchestrator.adapters.github_pulls import GitHubPulls
from orchestrator.config.model import GitHubConfig, RepoConfig
from orchestrator.core.model import (
    Comment,
    Dependencies,
    FiledIssue,
    Issue,
    IssueRef,
    LabelEvent,
    Permission,
    PullRequest,
    QueueState,
    RepoFile,
)
from orchestrator.core.redact import redact
from orchestrator.errors import TrackerError
from orchestrator.store.http_cache import PageCache

if TYPE_CHECKING:  # gql is imported on first use: most ticks never send GraphQL from here
    from orchestrator.adapters.github_graphql import GraphQL

DEFAULT_COLOUR = "ededed"  # the grey GitHub gives labels it creates without being told a colour
CLOSE_REASONS = ("completed", "not_planned")


def clean_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Return label names trimmed, lower-cased and once each, as the model carries them."""
    return tuple(dict.fromkeys(n for n in map(label_name, labels) if n))


class GitHubTracker(GitHubPulls):
    """The Tracker port on GitHub (or GitHub Enterprise at `config.api_url`).

    Pull requests live in GitHubPulls. An issue's edits and its closer are read, and issues
    pinned, through GraphQL (REST shows neither body edits nor the pull request that closed an
    issue, and has no pins), on `graphql` or a client built on first use.
    """

    def __init__(
        self,
        config: GitHubConfig,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
        per_page: int = 100,
        timeout: int = 15,
        throttle: bool = True,
        graphql: GraphQL | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """`state_dir`: keep REST pages there across ticks (store.http_cache)."""
        try:
            github = connect(config, retry, per_page, timeout, throttle)
        except LookupError as error:
            raise TrackerError(one_line(f"github.token: {error}")) from None
        kept = PageCache(state_dir, config.token.reveal()) if state_dir is not None else None
        super().__init__(github, Rest(github.requester, per_page, kept=kept))
        self._config, self._retry, self._graphql = config, retry, graphql

    def close(self) -> None:
        """Close PyGithub's connections and the GraphQL client's."""
        self._github.close()
        self._rest.close()
        if self._graphql is not None:
            self._graphql.close()

    def check_access(self, repos: Sequence[RepoConfig]) -> list[str]:
        """Return what the token cannot do for the repos and boards, one line each ([] if none)."""
        with translated("the token", "check"):
            return access_problems(self._rest, repos)

    def token_scopes(self) -> tuple[str, str | None]:
        """Return the token's login and its `X-OAuth-Scopes`: one GET /user.

        The scopes are None for a fine-grained token, which lists none.
        """
        with translated("the token", "check"):
            headers, me = self._rest.get_with_headers("/user")
        return str(me["login"]), header(headers, "x-oauth-scopes")

    def missing_scopes(self, repos: Sequence[RepoConfig], login: str, scopes: str) -> list[str]:
        """Return a line per scope the repos and boards need that `scopes` does not grant.

        An organization's board costs one GET to learn that its owner is one.
        """
        have = granted(scopes)
        with translated("the token", "check"):
            needed = needed_scopes(self._rest, repos, login)
        return [
            f"the token lacks the '{scope}' scope, needed {why}"
            for scope, why in needed
            if scope not in have
        ]

    def repo_problems(self, repo: RepoConfig) -> list[str]:
        """Return why the token cannot work on the repo, one line each ([] if none): one GET."""
        with translated(repo.github, "read"):
            return repo_problems(self._rest, repo)

    def train_blockers(self, repo: RepoConfig) -> list[str] | None:
        """What in the base's protection refuses a train's push; None: not readable. One GET."""
        with translated(repo.github, "read the protection of"):
            return train_blockers(self._rest, repo)

    def label_names(self, repo: str) -> set[str]:
        """Return the repo's label names, trimmed and lower-cased: a conditional GET per 100."""
        with translated(repo, "list the labels of"):
            return {label_name(raw) for raw in self._rest.pages(f"/repos/{repo}/labels")}

    # -- issues ------------------------------------------------------------------------------------
    def issue(self, ref: IssueRef) -> Issue:
        """Read the issue: one conditional GET."""
        with translated(str(ref), "read"):
            return normalize_issue(self._rest.get(_issue_path(ref)))

    def open_issues(self, repo: str, labels: Sequence[str] = ()) -> list[Issue]:
        """List open issues with all `labels`: a conditional GET per 100 (pull requests dropped)."""
        names = clean_labels(labels)
        params = {"state": "open", **({"labels": ",".join(names)} if names else {})}
        with translated(repo, "list the open issues of"):
            raws = self._rest.pages(f"/repos/{repo}/issues", **params)
        return [normalize_issue(raw) for raw in raws if not is_pull_request(raw)]

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        """Open an issue: one POST.

        When labelled, it comes after the label listing (and a POST per missing label).
        """
        names = clean_labels(labels)
        with translated(repo, "open an issue in"):
            self._ensure(repo, {name: DEFAULT_COLOUR for name in names})
            made = self._repo(repo).create_issue(
                title=redact(title), body=redact(body), labels=list(names)
            )
        return normalize_issue(made.raw_data)

    def update_issue(
        self, ref: IssueRef, *, title: str | None = None, body: str | None = None
    ) -> Issue:
        """Edit the title and or body: one PATCH carrying only what is given (none: one GET)."""
        given = (("title", title.strip() if title is not None else None), ("body", body))
        changes = {k: redact(v) for k, v in given if v is not None}
        with translated(str(ref), "edit"):
            if not changes:
                return normalize_issue(self._rest.get(_issue_path(ref)))
            return normalize_issue(self._rest.send("PATCH", _issue_path(ref), changes))

    def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
        """Close as `reason`: a conditional GET, then a PATCH only while the issue is open."""
        if reason not in CLOSE_REASONS:
            raise ValueError(f"reason must be one of {', '.join(CLOSE_REASONS)}, not {reason!r}")
        with translated(str(ref), "close"):
            # closed already: keep its reason
            if normalize_issue(self._rest.get(_issue_path(ref))).is_open:
                self._issue(ref).edit(state="closed", state_reason=reason)

    def reopen_issue(self, ref: IssueRef) -> None:
        """Reopen: one PATCH state=open (GitHub makes it a no-op on an open issue)."""
        with translated(str(ref), "reopen"):
            self._issue(ref).edit(state="open")

    def filed_issues(self, repo: str, label: str, closed_since: datetime) -> list[FiledIssue]:
        """List the label's open issues, then its closed ones since: a conditional GET per 100.

        Two listings, as `since` filters on `updated_at`: one `state=all&since=` would drop an
        open issue untouched since. The closed listing's `since` is a superset (an issue is
        updated when closed); pull requests and older closes are dropped here.
        """
        name = label_name(label)
        if not name:
            raise ValueError("filed_issues needs a label")
        since, path = since_param(closed_since), f"/repos/{repo}/issues"
        with translated(repo, "list the filed issues of"):
            raws = self._rest.pages(path, state="open", labels=name)
            raws += self._rest.pages(path, state="closed", labels=name, since=since)
        return filed(raws, closed_since)

    def closer(self, ref: IssueRef) -> int | None:
        """Read the closer of the issue's last ClosedEvent: one GraphQL request."""
        owner, name = ref.repo.split("/", 1)
        data = self._graphql_client().run(
            "issue_closer",
            {"owner": owner, "name": name, "number": ref.number},
            subject=str(ref),
            action="read what closed",
        )
        return closing_pull(data, ref)

    def pin_issue(self, ref: IssueRef) -> bool:
        """Pin while a slot is free: one GraphQL read, then a pinIssue only when needed."""
        return pin(self._graphql_client(), ref)

    def queue_state(self, pr: PullRequest) -> QueueState:
        """Where the PR stands with its base's merge queue: one GraphQL query."""
        return github_queue.queue_state(self._graphql_client(), pr)

    def enqueue_pull(self, pr: PullRequest, node_id: str) -> str:
        """Add the PR to its base's merge queue at its head: one GraphQL mutation."""
        return github_queue.enqueue(self._graphql_client(), pr, node_id)

    # -- labels ------------------------------------------------------------------------------------
    def add_labels(self, ref: IssueRef, labels: Sequence[str]) -> None:
        """Label an issue: the label listing, a POST per missing label, one POST for the issue."""
        names = clean_labels(labels)
        if not names:
            return
        with translated(str(ref), "label"):
            self._ensure(ref.repo, {name: DEFAULT_COLOUR for name in names})
            self._rest.send("POST", f"{_issue_path(ref)}/labels", {"labels": list(names)})

    def remove_label(self, ref: IssueRef, label: str) -> None:
        """Take a label off: one DELETE; GitHub's 404 "Label does not exist" is a no-op."""
        # Quoted with safe="": PyGithub's remove_from_labels keeps the "/" of a label such as
        # "type/bug".
        path = f"{_issue_path(ref)}/labels/{quote(label.strip(), safe='')}"
        with translated(str(ref), "unlabel"):
            try:
                self._rest.send("DELETE", path)
            except GithubException as error:
                if not validation_says(error, 404, "label does not exist"):
                    raise

    def ensure_labels(self, repo: str, labels: Mapping[str, str]) -> None:
        """Create the labels the repo lacks: the label listing, then one POST each."""
        with translated(repo, "create labels in"):
            self._ensure(repo, labels)

    def label_events(self, ref: IssueRef) -> list[LabelEvent]:
        """Read labeled/unlabeled events: one conditional GET per 100 events."""
        with translated(str(ref), "read the events of"):
            return label_events(self._rest.pages(f"{_issue_path(ref)}/events"))

    def edited_at(self, ref: IssueRef) -> datetime | None:
        """Read the last body and title edits: one GraphQL request (REST shows no body edits)."""
        owner, name = ref.repo.split("/", 1)
        data = self._graphql_client().run(
            "issue_edits",
            {"owner": owner, "name": name, "number": ref.number},
            subject=str(ref),
            action="read the edits of",
        )
        return last_edit(data)

    def _graphql_client(self) -> GraphQL:
        if self._graphql is None:
            from orchestrator.adapters.github_graphql import GraphQL

            self._graphql = GraphQL(self._config, retry=self._retry)
        return self._graphql

    def permission(self, repo: str, user: str) -> Permission:
        """Read the user's role on the repo: one conditional GET; an unknown user has NONE."""
        with translated(f"{user} on {repo}", "read the permission of"):
            try:
                return normalize_permission(
                    self._rest.get(f"/repos/{repo}/collaborators/{quote(user)}/permission")
                )
            except UnknownObjectException:
                return Permission.NONE  # no such user

    def file_text(self, repo: str, path: str, ref: str) -> RepoFile | None:
        """Read a file at `ref` through the contents API: one conditional GET (github_files)."""
        return github_files.file_text(self._rest, repo, path, ref)

    def _ensure(self, repo: str, labels: Mapping[str, str]) -> None:
        if not labels:
            return
        present = {label_name(raw) for raw in self._rest.pages(f"/repos/{repo}/labels")}
        for name, colour in labels.items():
            if label_name(name) in present:
                continue
            try:
                self._repo(repo).create_label(name.strip(), colour.lstrip("#").lower())
            except GithubException as error:  # created meanwhile by someone else: what we wanted
                if not validation_says(error, 422, "already_exists"):
                    raise

    # -- dependencies ------------------------------------------------------------------------------
    def dependencies(self, issue: Issue) -> Dependencies:
        """Read blocked-by, sub-issues and parent: three conditional GETs (a 404 parent is none)."""
        path = _issue_path(issue.ref)
        with translated(str(issue.ref), "read the dependencies of"):
            blocked_by = self._refs(f"{path}/dependencies/blocked_by")
            sub_issues = self._refs(f"{path}/sub_issues")
            try:
                parent: IssueRef | None = issue_ref(self._rest.get(f"{path}/parent"))
            except UnknownObjectException:
                parent = None
        return Dependencies(blocked_by=blocked_by, sub_issues=sub_issues, parent=parent)

    def blocked_by(self, ref: IssueRef) -> tuple[IssueRef, ...]:
        """Read the blocked-by list alone: one conditional GET.

        A board read needs it only for an issue with more blockers than its page holds (50).
        """
        with translated(str(ref), "read the blockers of"):
            return self._refs(f"{_issue_path(ref)}/dependencies/blocked_by")

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Record a blocked-by link: one POST; a 422 for a link already there is a no-op."""
        path = f"{_issue_path(ref)}/dependencies/blocked_by"
        with translated(str(ref), f"record {blocker.ref} as a blocker of"):
            try:
                self._rest.send("POST", path, {"issue_id": blocker.id})
            except GithubException as error:
                # 422 also when the link exists: then there is nothing to do
                if error.status != 422 or blocker.ref not in self._refs(path):
                    raise

    def remove_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Drop a blocked-by link: one DELETE; a refusal (400, 404, 410) while the listing shows
        no such link is a no-op: the link is gone, as asked."""
        path = f"{_issue_path(ref)}/dependencies/blocked_by"
        with translated(str(ref), f"remove {blocker.ref} as a blocker of"):
            try:
                self._rest.send("DELETE", f"{path}/{blocker.id}")
            except GithubException as error:
                # also for a missing issue: only a readable list without the link is a no-op
                if error.status not in (400, 404, 410) or blocker.ref in self._refs(path):
                    raise

    def add_sub_issue(self, parent: IssueRef, child: Issue) -> None:
        """Make `child` a sub-issue: one POST; a 422 for a child already there is a no-op."""
        with translated(str(parent), f"add {child.ref} as a sub-issue of"):
            try:
                self._issue(parent).add_sub_issue(child.id)
            except GithubException as error:
                if error.status != 422 or child.ref not in self._refs(
                    f"{_issue_path(parent)}/sub_issues"
                ):
                    raise

    def _refs(self, path: str) -> tuple[IssueRef, ...]:
        return tuple(issue_ref(raw) for raw in self._rest.pages(path))

    # -- comments ----------------------------------------------------------------------------------
    def comments(self, ref: IssueRef) -> list[Comment]:
        """Read the comments: one conditional GET per 100."""
        with translated(str(ref), "read the comments of"):
            return [
                normalize_comment(raw) for raw in self._rest.pages(f"{_issue_path(ref)}/comments")
            ]

    def upsert_comment(self, ref: IssueRef, marker: str, body: str) -> Comment:
        """Keep one marked comment: the listing, then a POST, a PATCH, or nothing if unchanged."""
        text = redact(body if marker in body else f"{body}\n\n{marker}")
        with translated(str(ref), "comment on"):
            for raw in self._rest.pages(f"{_issue_path(ref)}/comments"):
                if marker not in (raw.get("body") or ""):
                    continue
                if raw["body"] != text:
                    raw = self._rest.send(
                        "PATCH", f"/repos/{ref.repo}/issues/comments/{raw['id']}", {"body": text}
                    )
                return normalize_comment(raw)
            return normalize_comment(self._issue(ref).create_comment(text).raw_data)

    def _issue(self, ref: IssueRef) -> GithubIssue:
        """Return PyGithub's issue object without fetching it (the client is lazy)."""
        return self._repo(ref.repo).get_issue(ref.number)


def _issue_path(ref: IssueRef) -> str:
    return f"/repos/{ref.repo}/issues/{ref.number}"

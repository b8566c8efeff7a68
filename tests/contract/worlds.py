"""The worlds a Tracker contract test runs in.

What each backend needs to arrange repos, branches and checks.
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
import uuid
from pathlib import Path
from typing import Protocol

import pytest
from github import Auth, Github

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.adapters.github_http import RetryPolicy
from orchestrator.adapters.github_normalize import check_run_state, status_state
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import (
    Annotation,
    Check,
    CheckDetails,
    CheckState,
    IssueRef,
    Permission,
    Review,
)
from orchestrator.core.verification import FileDiff
from orchestrator.ports import Tracker
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.support.github_sandbox import git_environment

# Retries that keep a test fast: a few attempts, tiny backoff, one-second rate-limit waits.
FAST_RETRY = RetryPolicy(
    total=3,
    backoff_factor=0.01,
    backoff_max=0.05,
    secondary_rate_wait=1,
    max_rate_limit_wait=5,
    retry_after_max=2,
)
_NAMES = itertools.count(1)
_ROLES = {
    Permission.READ: "pull",
    Permission.TRIAGE: "triage",
    Permission.WRITE: "push",
    Permission.MAINTAIN: "maintain",
    Permission.ADMIN: "admin",
}


class World(Protocol):
    """A backend plus the arranging a test needs beyond the Tracker port itself."""

    name: str
    login: str
    tracker: Tracker

    def paged_tracker(self, per_page: int) -> Tracker: ...
    def new_repo(self) -> str: ...
    def push(self, repo: str, branch: str) -> str: ...
    def add_check_run(
        self, repo: str, sha: str, name: str, status: str, conclusion: str | None
    ) -> None: ...
    def add_status(self, repo: str, sha: str, context: str, state: str) -> None: ...
    def add_failed_run(
        self, repo: str, sha: str, name: str, text: str, notes: list[tuple[str, int, str]]
    ) -> None:
        """Report a failed check run with an output text and `path, line, message` annotations."""

    def add_failed_job(self, repo: str, branch: str, output: str) -> str:
        """Push `branch` and let CI fail on it as a GitHub Actions job printing `output`."""

    def add_user(self, login: str, repo: str, permission: Permission) -> None: ...
    def edit_issue(self, ref: IssueRef, title: str | None = None, body: str | None = None) -> None:
        """Edit the issue's title or body, as a person does on GitHub."""

    def approve(self, repo: str, number: int, reviewer: str, body: str) -> None: ...
    def label_colours(self, repo: str) -> dict[str, str]: ...
    def unpin_all(self, repo: str) -> None:
        """Unpin every pinned issue of the repo (the Tracker never unpins)."""


class MemoryWorld:
    """The in-memory twin: arranging is seeding it."""

    name, login = "memory", "agentos"

    def __init__(self) -> None:
        self.tracker = self.memory = MemoryTracker(self.login)

    def paged_tracker(self, per_page: int) -> Tracker:
        return self.memory  # nothing to page through in memory

    def new_repo(self) -> str:
        name = f"{self.login}/repo{next(_NAMES)}"
        self.memory.add_repo(name)
        return name

    def push(self, repo: str, branch: str) -> str:
        sha = self.memory.push(repo, branch)
        # as the other worlds push: a new file holding "change"
        change = FileDiff(f"{uuid.uuid4().hex}.txt", "added", 1, 0, "@@ -0,0 +1 @@\n+change")
        self.memory.change_file(repo, branch, change)
        return sha

    def add_check_run(
        self, repo: str, sha: str, name: str, status: str, conclusion: str | None
    ) -> None:
        self.memory.add_check(repo, sha, Check(name, check_run_state(status, conclusion)))

    def add_status(self, repo: str, sha: str, context: str, state: str) -> None:
        self.memory.add_check(repo, sha, Check(context, status_state(state)))

    def add_failed_run(
        self, repo: str, sha: str, name: str, text: str, notes: list[tuple[str, int, str]]
    ) -> None:
        check = Check(name, CheckState.FAILURE, name, text=text)
        found = tuple(Annotation(path, line, message) for path, line, message in notes)
        self.memory.add_check(repo, sha, check, CheckDetails(found))

    def add_failed_job(self, repo: str, branch: str, output: str) -> str:
        sha = self.memory.push(repo, branch)
        url = f"https://github.com/{repo}/actions/runs/1/job/2"
        check = Check("sandbox-ci", CheckState.FAILURE, "Failed", url, text=output, job=2)
        self.memory.add_check(repo, sha, check, CheckDetails(log=output))
        return sha

    def add_user(self, login: str, repo: str, permission: Permission) -> None:
        self.memory.grant(repo, login, permission)

    def edit_issue(self, ref: IssueRef, title: str | None = None, body: str | None = None) -> None:
        self.memory.edit_issue(ref, title, body)

    def approve(self, repo: str, number: int, reviewer: str, body: str) -> None:
        self.memory.add_review(repo, number, Review(reviewer, "APPROVED", body, None))

    def label_colours(self, repo: str) -> dict[str, str]:
        return self.memory.label_colours(repo)

    def unpin_all(self, repo: str) -> None:
        pass  # a new repo has no pins


def github_tracker(api_url: str, token: str, per_page: int = 100) -> GitHubTracker:
    """Build the real adapter as wiring will, with fast retries and no write throttle."""
    config = GitHubConfig(
        token=Secret("GITHUB_TOKEN", token),
        api_url=api_url,
        # GitHub's is api.github.com/graphql; GitHub Enterprise's (and the sandbox's) /api/graphql
        graphql_url=f"{api_url.removesuffix('/v3')}/graphql",
        trusted_users=(),
    )
    # its GraphQL documents validated against the schema before they are sent
    graphql = GraphQL(config, retry=FAST_RETRY, schema=schema())
    return GitHubTracker(
        config, retry=FAST_RETRY, per_page=per_page, throttle=False, graphql=graphql
    )


class SandboxWorld:
    """GitHubTracker against the strict sandbox.

    Arranging goes through PyGithub, the sandbox's CI app and git.
    """

    name = "sandbox"

    def __init__(self, sandbox: Sandbox, workdir: Path) -> None:
        self.sandbox, self.login, self.workdir = sandbox, sandbox.login, workdir
        self.tracker = github_tracker(sandbox.api_url, sandbox.token)
        self.owner = _client(sandbox, sandbox.token)
        self.ci = _client(sandbox, sandbox.add_app("contract-ci"))
        self._env = git_environment(workdir / "home")

    def paged_tracker(self, per_page: int) -> Tracker:
        return github_tracker(self.sandbox.api_url, self.sandbox.token, per_page)

    def new_repo(self) -> str:
        name = f"{self.login}/repo{next(_NAMES)}"
        self.sandbox.create_repo(name)
        return name

    def push(self, repo: str, branch: str) -> str:
        """Commit a new file on `branch` and push it over HTTP.

        The commit starts from main, or goes on top of `branch` when it exists.
        """
        clone = self.workdir / repo.replace("/", "-")
        if clone.exists():
            self._git("fetch", "-q", "--prune", "origin", cwd=clone)
        else:
            self._git("clone", "-q", self.sandbox.clone_url(repo), str(clone))
        exists = self._git("branch", "-r", "--list", f"origin/{branch}", cwd=clone).strip()
        self._git(
            "checkout",
            "-q",
            "-B",
            branch,
            f"origin/{branch}" if exists else "origin/main",
            cwd=clone,
        )
        (clone / f"{uuid.uuid4().hex}.txt").write_text("change\n")
        self._git("add", "-A", cwd=clone)
        self._git("commit", "-q", "-m", f"Change {branch}", cwd=clone)
        self._git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=clone)
        return self._git("rev-parse", "HEAD", cwd=clone).strip()

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=self._env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def add_check_run(
        self, repo: str, sha: str, name: str, status: str, conclusion: str | None
    ) -> None:
        extra = {"conclusion": conclusion} if conclusion else {}
        self.ci.get_repo(repo).create_check_run(
            name, sha, status=status, output={"title": name, "summary": name}, **extra
        )

    def add_status(self, repo: str, sha: str, context: str, state: str) -> None:
        self.owner.get_repo(repo).get_commit(sha).create_status(
            state, description=f"{context} {state}", context=context
        )

    def add_failed_run(
        self, repo: str, sha: str, name: str, text: str, notes: list[tuple[str, int, str]]
    ) -> None:
        found = [
            {"path": p, "start_line": n, "end_line": n, "annotation_level": "failure", "message": m}
            for p, n, m in notes
        ]
        output = {"title": name, "summary": name, "text": text, "annotations": found}
        self.ci.get_repo(repo).create_check_run(
            name, sha, status="completed", conclusion="failure", output=output
        )

    def add_failed_job(self, repo: str, branch: str, output: str) -> str:
        """The sandbox's CI runs on a pull request's head, as a job with a log."""
        self.sandbox.set_ci(repo, f"printf '%s' {shlex.quote(output)}; false")
        sha = self.push(repo, branch)
        self.owner.get_repo(repo).create_pull(base="main", head=branch, title="ci", body="")
        assert self.sandbox.wait_ci_idle(30)
        return sha

    def add_user(self, login: str, repo: str, permission: Permission) -> None:
        self.sandbox.add_user(login)
        self.owner.get_repo(repo).add_to_collaborators(login, _ROLES[permission])

    def edit_issue(self, ref: IssueRef, title: str | None = None, body: str | None = None) -> None:
        _edit(self.owner, ref, title, body)

    def approve(self, repo: str, number: int, reviewer: str, body: str) -> None:
        self.add_user(reviewer, repo, Permission.WRITE)
        client = _client(self.sandbox, self.sandbox.add_user(reviewer))
        client.get_repo(repo).get_pull(number).create_review(body=body, event="APPROVE")

    def label_colours(self, repo: str) -> dict[str, str]:
        return {label.name: label.color for label in self.owner.get_repo(repo).get_labels()}

    def unpin_all(self, repo: str) -> None:
        pass  # a new repo has no pins


def _edit(client: Github, ref: IssueRef, title: str | None, body: str | None) -> None:
    changes = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
    client.get_repo(ref.repo).get_issue(ref.number).edit(**changes)


def _client(sandbox: Sandbox, token: str) -> Github:
    return Github(
        auth=Auth.Token(token),
        base_url=sandbox.api_url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


class LiveWorld:
    """GitHubTracker against real GitHub, in throwaway repositories.

    What a token alone cannot arrange is skipped.
    """

    name = "github"

    def __init__(self, repos: list[str], token: str) -> None:
        self.tracker = github_tracker("https://api.github.com", token)
        self.owner = Github(auth=Auth.Token(token))
        self.login = self.owner.get_user().login.lower()
        self._token, self._repos = token, itertools.cycle(repos)

    def paged_tracker(self, per_page: int) -> Tracker:
        return github_tracker("https://api.github.com", self._token, per_page)

    def new_repo(self) -> str:
        # the same one or two repositories, so tests never assume an empty one
        return next(self._repos)

    def push(self, repo: str, branch: str) -> str:
        remote = self.owner.get_repo(repo)
        if not [b for b in remote.get_branches() if b.name == branch]:
            remote.create_git_ref(
                f"refs/heads/{branch}", remote.get_branch(remote.default_branch).commit.sha
            )
        made = remote.create_file(
            f"{uuid.uuid4().hex}.txt", f"Change {branch}", "change\n", branch=branch
        )
        return str(made["commit"].sha)

    def add_check_run(
        self, repo: str, sha: str, name: str, status: str, conclusion: str | None
    ) -> None:
        pytest.skip("creating check runs needs a GitHub App token")

    def add_status(self, repo: str, sha: str, context: str, state: str) -> None:
        self.owner.get_repo(repo).get_commit(sha).create_status(
            state, description=state, context=context
        )

    def add_failed_run(
        self, repo: str, sha: str, name: str, text: str, notes: list[tuple[str, int, str]]
    ) -> None:
        pytest.skip("creating check runs needs a GitHub App token")

    def add_failed_job(self, repo: str, branch: str, output: str) -> str:
        pytest.skip("a failing Actions job needs a workflow in the throwaway repo")

    def add_user(self, login: str, repo: str, permission: Permission) -> None:
        pytest.skip("inviting a collaborator needs a second real account")

    def edit_issue(self, ref: IssueRef, title: str | None = None, body: str | None = None) -> None:
        _edit(self.owner, ref, title, body)

    def approve(self, repo: str, number: int, reviewer: str, body: str) -> None:
        pytest.skip("approving needs a second real account")

    def label_colours(self, repo: str) -> dict[str, str]:
        return {label.name: label.color for label in self.owner.get_repo(repo).get_labels()}

    def unpin_all(self, repo: str) -> None:
        """Unpin what the repository has pinned: one query, one unpinIssue each."""
        owner, name = repo.split("/", 1)
        _, data = self.owner.requester.graphql_query(
            "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) "
            "{ pinnedIssues(first: 3) { nodes { issue { id } } } } }",
            {"owner": owner, "name": name},
        )
        for node in data["data"]["repository"]["pinnedIssues"]["nodes"]:
            self.owner.requester.graphql_query(
                "mutation($id: ID!) { unpinIssue(input: {issueId: $id}) { issue { id } } }",
                {"id": node["issue"]["id"]},
            )

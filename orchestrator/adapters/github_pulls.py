"""The pull-request half of the GitHub tracker.

Open (never twice), read, merge and close pull requests; their branches, checks and reviews.
"""

from __future__ import annotations

from urllib.parse import quote

from github import Github, GithubException
from github.Repository import Repository

from orchestrator.adapters.github_checks import check_details
from orchestrator.adapters.github_errors import one_line, translated, validation_says
from orchestrator.adapters.github_http import Rest
from orchestrator.adapters.github_normalize import (
    is_own_branch,
    newest_checks,
    normalize_pull,
    normalize_review,
)
from orchestrator.adapters.github_verdicts import GitHubVerdicts
from orchestrator.core.model import Check, CheckDetails, PullRequest, Review
from orchestrator.core.redact import redact
from orchestrator.errors import TrackerError


class GitHubPulls(GitHubVerdicts):
    """Pull requests and what hangs off them, on PyGithub and its conditional REST reader."""

    def __init__(self, github: Github, rest: Rest) -> None:
        self._github, self._rest = github, rest

    @property
    def rest(self) -> Rest:
        """The conditional REST client (a board's stamp lists its items with it)."""
        return self._rest

    def _repo(self, repo: str) -> Repository:
        """Return PyGithub's repository object without fetching it (the client is lazy)."""
        return self._github.get_repo(repo)

    def open_pull(self, repo: str, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a PR: one POST.

        When GitHub answers 422 "already exists", one GET finds the open one.
        """
        with translated(repo, f"open a pull request from {head} in"):
            try:
                made = self._repo(repo).create_pull(
                    base=base, head=head, title=redact(title), body=redact(body)
                )
                return normalize_pull(made.raw_data)
            except GithubException as error:  # 422 "A pull request already exists for owner:head."
                if not validation_says(error, 422, "already exists"):
                    raise
            found = self._open_from(repo, head, base)
        if found is None:
            raise TrackerError(
                one_line(
                    f"GitHub says a pull request from {head} is open in {repo}, yet lists none"
                )
            )
        return found

    def _open_from(self, repo: str, head: str, base: str) -> PullRequest | None:
        owner = repo.split("/", 1)[0]
        raws = self._rest.pages(
            f"/repos/{repo}/pulls", state="open", head=f"{owner}:{head}", base=base
        )
        return normalize_pull(raws[0]) if raws else None

    def pull(self, repo: str, number: int) -> PullRequest:
        """Read the PR with its mergeability: one conditional GET."""
        with translated(f"{repo}#{number}", "read"):
            return normalize_pull(self._rest.get(f"/repos/{repo}/pulls/{number}"))

    def open_pulls(self, repo: str, head_prefix: str = "agent/") -> list[PullRequest]:
        """List open PRs from this repo's `head_prefix` branches: one conditional GET per 100."""
        with translated(repo, "list the open pull requests of"):
            raws = self._rest.pages(f"/repos/{repo}/pulls", state="open")
        ours = [
            raw for raw in raws if is_own_branch(raw) and raw["head"]["ref"].startswith(head_prefix)
        ]
        return [normalize_pull(raw) for raw in ours]

    def merge_pull(self, pr: PullRequest, method: str = "squash") -> str:
        """Merge at `pr.head_sha`: one PUT; a PR merged already (405) returns its merge commit."""
        with translated(f"{pr.repo}#{pr.number}", "merge"):
            try:
                merged = (
                    self._repo(pr.repo)
                    .get_pull(pr.number)
                    .merge(merge_method=method, sha=pr.head_sha)
                )
                return merged.sha
            except GithubException as error:
                if error.status != 405:
                    raise
                raw = self._rest.get(f"/repos/{pr.repo}/pulls/{pr.number}")
                # 405 is also what a retried merge that already landed gets
                if not raw.get("merged"):
                    raise
                return str(raw["merge_commit_sha"])

    def close_pull(self, pr: PullRequest) -> None:
        """Close without merging: one PATCH."""
        with translated(f"{pr.repo}#{pr.number}", "close"):
            self._repo(pr.repo).get_pull(pr.number).edit(state="closed")

    def delete_branch(self, repo: str, branch: str) -> None:
        """Delete the branch: one DELETE; GitHub's 422 "Reference does not exist" is a no-op."""
        with translated(repo, f"delete the branch {branch} of"):
            try:
                self._rest.send("DELETE", f"/repos/{repo}/git/refs/heads/{quote(branch)}")
            except GithubException as error:
                if not validation_says(error, 422, "reference does not exist"):
                    raise

    def checks(self, repo: str, sha: str) -> list[Check]:
        """Read check runs and commit statuses, newest per name: two conditional GETs."""
        with translated(f"{repo}@{sha[:12]}", "read the checks of"):
            runs = self._rest.pages(f"/repos/{repo}/commits/{sha}/check-runs", items="check_runs")
            # The combined status holds the newest status per context (up to 100 contexts), in one
            # request.
            combined = self._rest.get(f"/repos/{repo}/commits/{sha}/status", per_page=100)
        return newest_checks(runs, combined.get("statuses") or [])

    def check_details(self, repo: str, check: Check) -> CheckDetails:
        """Read a failed check run's annotations and its Actions job's log (`github_checks`)."""
        return check_details(self._rest, repo, check)

    def reviews(self, pr: PullRequest) -> list[Review]:
        """Read the reviews, oldest first: one conditional GET per 100."""
        with translated(f"{pr.repo}#{pr.number}", "read the reviews of"):
            raws = self._rest.pages(f"/repos/{pr.repo}/pulls/{pr.number}/reviews")
        return [normalize_review(raw) for raw in raws]

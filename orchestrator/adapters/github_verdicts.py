"""What the verifier reads of a pull request and writes on it: its files, a commit status, a review.

A mixin of `GitHubPulls`, on the same conditional REST reader (`github_http.Rest`).
"""

from __future__ import annotations

from typing import Any

from github import GithubException

from orchestrator.adapters.github_errors import describe, one_line, translated, validation_says
from orchestrator.adapters.github_http import Rest
from orchestrator.core.model import PullRequest
from orchestrator.core.redact import redact
from orchestrator.core.verification import CommitStatus, FileDiff
from orchestrator.errors import ReviewRefused

EVENTS = ("COMMENT", "APPROVE", "REQUEST_CHANGES")


class GitHubVerdicts:
    """The verifier's three requests; the class using this supplies `_rest`."""

    _rest: Rest

    def pull_files(self, pr: PullRequest) -> list[FileDiff]:
        """List the files the PR changes with their patches: a conditional GET per 100 files."""
        with translated(f"{pr.repo}#{pr.number}", "list the files of"):
            raws = self._rest.pages(f"/repos/{pr.repo}/pulls/{pr.number}/files")
        return [normalize_file(raw) for raw in raws]

    def create_status(self, repo: str, sha: str, status: CommitStatus) -> None:
        """Set a commit status: one POST."""
        body: dict[str, Any] = {
            "state": status.state,
            "context": status.context,
            "description": redact(status.description)[:140],
        }
        if status.target_url:
            body["target_url"] = status.target_url
        with translated(f"{repo}@{sha[:12]}", f"set the status {status.context} on"):
            self._rest.send("POST", f"/repos/{repo}/statuses/{sha}", body)

    def create_review(self, pr: PullRequest, event: str, body: str) -> str:
        """Review the PR at its head: one POST; ReviewRefused when GitHub refuses the author's
        own APPROVE or REQUEST_CHANGES (422 "Can not approve your own pull request")."""
        if event not in EVENTS:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, not {event!r}")
        payload = {"commit_id": pr.head_sha, "body": redact(body), "event": event}
        path = f"/repos/{pr.repo}/pulls/{pr.number}/reviews"
        with translated(f"{pr.repo}#{pr.number}", f"review ({event})"):
            try:
                made = self._rest.send("POST", path, payload)
            except GithubException as error:
                if validation_says(error, 422, "your own pull request"):
                    raise ReviewRefused(
                        one_line(f"GitHub refused to {event} {pr.repo}#{pr.number}: ")
                        + one_line(describe(error.data))
                    ) from None
                raise
        return str(made.get("html_url") or pr.url)


def normalize_file(raw: dict[str, Any]) -> FileDiff:
    """Return a `diff-entry` of GitHub's as a FileDiff."""
    return FileDiff(
        path=str(raw["filename"]),
        status=str(raw.get("status") or "modified"),
        additions=int(raw.get("additions") or 0),
        deletions=int(raw.get("deletions") or 0),
        patch=str(raw.get("patch") or ""),
        previous_path=raw.get("previous_filename") or None,
    )

"""The in-memory Tracker's side of the verifier: a PR's files, commit statuses, reviews by identity.

A mixin of `memory_pulls.MemoryPulls`, with GitHub's semantics: a status is a check named by its
context (the newest per name wins), and the PR's author may comment on it but not approve it or
request changes (`ReviewRefused`, in GitHub's words). `acting_as` is the same records seen by
another login: the second identity a `review.token` gives.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Self

from orchestrator.adapters.memory_writes import CreateReview, CreateStatus, Write
from orchestrator.core.model import Check, CheckState, PullRequest, Review
from orchestrator.core.verification import CommitStatus, FileDiff
from orchestrator.errors import ReviewRefused

_STATES = {"success": CheckState.SUCCESS, "pending": CheckState.PENDING}  # else FAILURE
_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
_OWN = {
    "APPROVE": "approve your own pull request",
    "REQUEST_CHANGES": "request changes on your own pull request",
}


class MemoryVerdicts:
    """Files, statuses and reviews in memory; the tracker using this supplies the records."""

    login: str
    writes: list[Write]
    _clock: Callable[[], datetime]
    _branch_diffs: dict[tuple[str, str], list[FileDiff]]  # (repo, branch) -> its changes

    def add_check(self, repo: str, sha: str, check: Check) -> Check:
        raise NotImplementedError

    def add_review(self, repo: str, number: int, review: Review) -> None:
        raise NotImplementedError

    def pull(self, repo: str, number: int) -> PullRequest:
        raise NotImplementedError

    def reviews(self, pr: PullRequest) -> list[Review]:
        raise NotImplementedError

    def _pull_record(self, repo: str, number: int) -> PullRequest:
        raise NotImplementedError

    # -- seeding -----------------------------------------------------------------------------------
    def change_file(self, repo: str, branch: str, changed: FileDiff) -> None:
        """Record that `branch` changes a file against its base (what `pull_files` lists)."""
        files = self._diffs().setdefault((repo, branch), [])
        files[:] = [f for f in files if f.path != changed.path] + [changed]

    def acting_as(self, login: str) -> Self:
        """Return this tracker as another user sees and writes it: the same records and writes."""
        self._diffs()  # made now, so the copy shares it
        other = copy.copy(self)
        other.login = login.lower()
        return other

    def _diffs(self) -> dict[tuple[str, str], list[FileDiff]]:
        """Return the branches' changes: made on first use, shared with `acting_as` copies."""
        if getattr(self, "_branch_diffs", None) is None:
            self._branch_diffs = {}
        return self._branch_diffs

    # -- the port ----------------------------------------------------------------------------------
    def pull_files(self, pr: PullRequest) -> list[FileDiff]:
        current = self._pull_record(pr.repo, pr.number)  # no read of the PR, as on GitHub
        return sorted(self._diffs().get((pr.repo, current.head), []), key=lambda f: f.path)

    def create_status(self, repo: str, sha: str, status: CommitStatus) -> None:
        self.writes.append(CreateStatus(repo, sha, status.context, status.state))
        state = _STATES.get(status.state, CheckState.FAILURE)
        self.add_check(
            repo, sha, Check(status.context, state, status.description, status.target_url)
        )

    def create_review(self, pr: PullRequest, event: str, body: str) -> str:
        if event not in _EVENTS:
            raise ValueError(f"event must be one of {', '.join(_EVENTS)}, not {event!r}")
        self.writes.append(CreateReview(pr.repo, pr.number, event, self.login))
        current = self.pull(pr.repo, pr.number)
        if event in _OWN and current.author == self.login:
            raise ReviewRefused(
                f"GitHub refused to {event} {pr.repo}#{pr.number}: "
                f"Unprocessable Entity: Review Can not {_OWN[event]}"
            )
        self.add_review(pr.repo, pr.number, Review(self.login, _EVENTS[event], body, self._clock()))
        return f"{current.url}#pullrequestreview-{len(self.reviews(current))}"

"""The in-memory Tracker's merge queue, with GitHub's semantics as the client sees them.

A base made to require the queue (`require_merge_queue`) refuses the merge button (GitHub's REST
merge answers 405 for it) and takes entries (`enqueue_pull`) at the pull request's current head
only. Each entry gets a merge group commit at once (its entry's `headCommit`, which the enqueue
answer and `queue_state` name while it is queued), or, on a base made with `build_at_once=False`,
only when a test builds it (`build_group`, also a rebuild: a new commit), as GitHub may build it
after answering. What the queue then does is GitHub's, so tests play it: `land_queued` (its CI
passed: the pull request is merged, its issues closed) or `remove_queued` (with GitHub's reason,
e.g. `CI_FAILURE`; the pull request stays open, the removal shows in `queue_state`). A test puts
the group's checks on its commit with `add_check`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from orchestrator.adapters.memory_pulls import MemoryPulls
from orchestrator.adapters.memory_writes import EnqueuePull
from orchestrator.core.model import PullRequest, QueueRemoval, QueueState
from orchestrator.errors import TrackerError


class MemoryQueue(MemoryPulls):
    """Merge queues in memory, per repository and base branch."""

    def _queues(self) -> dict[tuple[str, str], list[int]]:
        if not hasattr(self, "_queue_entries"):
            self._queue_entries: dict[tuple[str, str], list[int]] = {}
            self._queue_removals: dict[tuple[str, int], QueueRemoval] = {}
            self._queue_groups: dict[tuple[str, int], str] = {}  # a queued PR's group commit
            self._queue_later: set[tuple[str, str]] = set()  # bases whose groups tests build
        return self._queue_entries

    def require_merge_queue(
        self, repo: str, base: str = "main", *, build_at_once: bool = True
    ) -> None:
        self._repo(repo)
        self._queues().setdefault((repo, base), [])
        if not build_at_once:
            self._queue_later.add((repo, base))

    def queue_state(self, pr: PullRequest) -> QueueState:
        current = self._pull_record(pr.repo, pr.number)
        entries = self._queues().get((pr.repo, current.base))
        queued = entries is not None and pr.number in entries
        return QueueState(
            enabled=entries is not None,
            node_id=f"PR_{pr.repo}#{pr.number}",
            queued=queued,
            entry_state="AWAITING_CHECKS" if queued else "",
            removal=self._queue_removals.get((pr.repo, pr.number)),
            group_sha=self._queue_groups.get((pr.repo, pr.number), "") if queued else "",
        )

    def enqueue_pull(self, pr: PullRequest, node_id: str) -> str:
        self.writes.append(EnqueuePull(pr.repo, pr.number, pr.head_sha))
        current = self._pull_record(pr.repo, pr.number)
        entries = self._queues().get((pr.repo, current.base))
        if entries is None:
            raise TrackerError(f"{pr.repo}#{pr.number}: the base branch has no merge queue")
        if not current.is_open or current.head_sha != pr.head_sha:
            raise TrackerError(f"{pr.repo}#{pr.number}: Head branch was modified")
        if pr.number not in entries:
            entries.append(pr.number)
            self._queue_groups.pop((pr.repo, pr.number), None)
            if (pr.repo, current.base) not in self._queue_later:
                self.build_group(pr.repo, pr.number)
        return self._queue_groups.get((pr.repo, pr.number), "")

    def queue_blocks_merge(self, pr: PullRequest) -> bool:
        """Tell whether the merge button is refused: the base requires the queue."""
        return (pr.repo, self._pull_record(pr.repo, pr.number).base) in self._queues()

    # -- what GitHub's queue does, played by tests -------------------------------------------------
    def build_group(self, repo: str, number: int) -> str:
        """Build (or rebuild) a queued pull request's merge group: a new commit; return it."""
        current = self._pull_record(repo, number)
        if number not in self._queues().get((repo, current.base), []):
            raise TrackerError(f"{repo}#{number} is not in a merge queue")
        sha = self._queue_groups[(repo, number)] = self._sha()
        return sha

    def land_queued(self, repo: str, number: int) -> str:
        current = self._pull_record(repo, number)
        self._queues()[(repo, current.base)].remove(number)
        self._queue_groups.pop((repo, number), None)
        record = self._repo(repo)
        sha = record.branches[current.base] = self._sha()
        self._close_pull(current, merged=True)
        if current.base == record.default_branch:
            self._close_named(current)
        return sha

    def remove_queued(self, repo: str, number: int, reason: str, at: datetime) -> None:
        current = self._pull_record(repo, number)
        self._queues()[(repo, current.base)].remove(number)
        self._queue_groups.pop((repo, number), None)  # its group branch is deleted
        self._queue_removals[(repo, number)] = QueueRemoval(reason, at, current.head_sha)

    def push_head(self, repo: str, number: int) -> PullRequest:
        """A new commit on the pull request's branch (a fix): its head moves."""
        current = self._pull_record(repo, number)
        moved = replace(current, head_sha=self._sha())
        self._repo(repo).pulls[number] = moved
        self._repo(repo).branches[current.head] = moved.head_sha
        return moved

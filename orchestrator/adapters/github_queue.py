"""GitHub's merge queue from the client's side: where a pull request stands, and enqueueing it.

GraphQL only (REST has no merge queue). `queue_state` is one query per green pull request; the
merge itself is GitHub's (the queue's CI on its merge group, then the base fast-forwarded), so a
queued pull request is followed, not merged, by Agent OS. An entry's `headCommit` is its merge
group's commit (the `gh-readonly-queue/...` branch's head, where the queue's CI runs), null until
GitHub built it; both the query and the enqueue mutation read it. Only GitHub's payload shapes
for the queue are read here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from orchestrator.adapters.github_normalize import Json
from orchestrator.core.model import PullRequest, QueueRemoval, QueueState
from orchestrator.errors import TrackerError

if TYPE_CHECKING:  # gql is imported on first use, by the tracker that builds the client
    from orchestrator.adapters.github_graphql import GraphQL


def queue_state(graphql: GraphQL, pr: PullRequest) -> QueueState:
    """Read the pull request's standing with its base's merge queue: one GraphQL query."""
    owner, name = pr.repo.split("/", 1)
    data = graphql.run(
        "merge_queue_state",
        {"owner": owner, "name": name, "number": pr.number},
        subject=f"{pr.repo}#{pr.number}",
        action="read the merge queue of",
    )
    return parse_state(data, pr)


def enqueue(graphql: GraphQL, pr: PullRequest, node_id: str) -> str:
    """Add the pull request to its base's merge queue at its checked head: one mutation. Return
    its merge group's commit when GitHub answers with one, else ""."""
    data = graphql.run(
        "enqueue_pull",
        {"pullRequestId": node_id, "expectedHeadOid": pr.head_sha},
        subject=f"{pr.repo}#{pr.number}",
        action="add to the merge queue",
        idempotent=False,
    )
    return group_of((data.get("enqueuePullRequest") or {}).get("mergeQueueEntry"))


def group_of(entry: object) -> str:
    """Return a MergeQueueEntry's merge group commit (its `headCommit`), "" when it has none."""
    if not isinstance(entry, dict):
        return ""
    head = entry.get("headCommit")
    return str(head.get("oid") or "") if isinstance(head, dict) else ""


def parse_state(data: Json, pr: PullRequest) -> QueueState:
    """Return GitHub's answer as a QueueState; TrackerError when the pull request is missing."""
    node = (data.get("repository") or {}).get("pullRequest")
    if not isinstance(node, dict) or not node.get("id"):
        raise TrackerError(f"{pr.repo}#{pr.number}: GitHub returned no pull request")
    entry = node.get("mergeQueueEntry") or {}
    removals = [n for n in (node.get("timelineItems") or {}).get("nodes") or () if n]
    removal = None
    if removals:
        last = removals[-1]
        removal = QueueRemoval(
            reason=str(last.get("reason") or ""),
            at=datetime.fromisoformat(str(last["createdAt"]).replace("Z", "+00:00")),
            sha=str((last.get("beforeCommit") or {}).get("oid") or ""),
        )
    return QueueState(
        enabled=bool(node.get("isMergeQueueEnabled")),
        node_id=str(node["id"]),
        queued=bool(node.get("isInMergeQueue")),
        entry_state=str(entry.get("state") or ""),
        removal=removal,
        group_sha=group_of(entry) if node.get("isInMergeQueue") else "",
    )

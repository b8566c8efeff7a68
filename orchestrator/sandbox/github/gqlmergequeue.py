"""Resolve GitHub's merge queue in GraphQL: the queues, their entries, a pull request's place in
one, enqueuePullRequest and dequeuePullRequest, and a pull request's timeline items.

The queue itself is mergequeue.py; a mutation runs it with the caller's REST call, so both share
one state and its refusals come back as GitHub's GraphQL errors. An entry's `headCommit` is its
merge group's commit (the `gh-readonly-queue/...` branch's head, where CI runs; GitHub's
`merge_group.head_sha`), `baseCommit` the commit the group was built on (the base's tip or the
group ahead); both null until the group is built. MergeQueue.configuration,
nextEntryEstimatedTimeToMerge and MergeQueueEntry.estimatedTimeToMerge are not served.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import mergequeue
from orchestrator.sandbox.github.api import ApiError
from orchestrator.sandbox.github.gqlcore import (
    Context,
    actor,
    connection,
    issue,
    repository,
    resolves,
)
from orchestrator.sandbox.github.gqlpulls import commit
from orchestrator.sandbox.github.gqlqueries import TIMELINE_TYPES, timeline, timeline_item
from orchestrator.sandbox.github.gqlrefuse import refuse_unserved
from orchestrator.sandbox.github.gqlrest import (
    call,
    issue_params,
    payload,
    refusal,
    visible_issue,
)
from orchestrator.sandbox.github.state import Json, node_id

PULLS = ("PullRequest",)
# A pull request's timeline: an issue's item types, its merge and its place in the merge queue.
PULL_TIMELINE_TYPES = {
    **TIMELINE_TYPES,
    "MERGED_EVENT": "merged",
    "ADDED_TO_MERGE_QUEUE_EVENT": "added_to_merge_queue",
    "REMOVED_FROM_MERGE_QUEUE_EVENT": "removed_from_merge_queue",
}


def queue_node(context: Context, repo: Json, branch: str) -> Json | None:
    """Return `branch`'s MergeQueue, or None when the branch does not require one."""
    if not mergequeue.required(repo, branch):
        return None
    record = mergequeue.queue(context.store, repo, branch)
    path = f"/{repo['owner']}/{repo['name']}/queue/{branch}"
    return {
        "__typename": "MergeQueue",
        "id": node_id("MergeQueue", record["id"]),
        "repository": repository(context, repo),
        "resourcePath": path,
        "url": f"{context.base}{path}",
        "_repo": repo,
        "_branch": branch,
    }


def entry_node(context: Context, repo: Json, branch: str, entry: Json) -> Json:
    """Return a MergeQueueEntry as it stands now (a snapshot: position and state)."""
    items = mergequeue.entries(repo, branch)
    return {
        "__typename": "MergeQueueEntry",
        "id": node_id("MergeQueueEntry", entry["id"]),
        "enqueuedAt": entry["enqueued_at"],
        "enqueuer": actor(context, entry["enqueuer"]),
        "headCommit": commit(context, repo, entry["group"]) if entry["group"] else None,
        "baseCommit": commit(context, repo, entry["parent"]) if entry["parent"] else None,
        "jump": entry["jump"],
        "solo": False,
        "position": items.index(entry) + 1 if entry in items else 0,
        "state": mergequeue.state_of(repo, branch, entry),
        "pullRequest": issue(context, repo, repo["issues"][str(entry["number"])]),
        "mergeQueue": queue_node(context, repo, branch),
    }


@resolves("Repository", "mergeQueue")
def resolve_repo_queue(source: Json, info: Any, branch: str | None = None) -> Json | None:
    """Return the merge queue of `branch` (the default branch if none), or null without one."""
    repo = source["_repo"]
    return queue_node(info.context, repo, branch or repo["default_branch"])


@resolves("MergeQueue", "entries")
def resolve_entries(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> Json:
    """Return the queue's entries, first in line first."""
    repo, branch = source["_repo"], source["_branch"]
    items = list(mergequeue.entries(repo, branch))
    return connection(
        items,
        first,
        after,
        "entries",
        lambda e: entry_node(info.context, repo, branch, e),
        last=last,
    )


def _pull(source: Json) -> tuple[Json, Json]:
    return source["_repo"], source["_issue"]


@resolves("PullRequest", "isInMergeQueue")
def resolve_in_queue(source: Json, info: Any) -> bool:
    """Return whether the pull request is in its base's merge queue."""
    return mergequeue.entry_for(*_pull(source)) is not None


@resolves("PullRequest", "isMergeQueueEnabled")
def resolve_queue_enabled(source: Json, info: Any) -> bool:
    """Return whether the pull request's base requires the merge queue."""
    repo, record = _pull(source)
    return mergequeue.required(repo, record["pull"]["base"])


@resolves("PullRequest", "mergeQueue")
def resolve_pull_queue(source: Json, info: Any) -> Json | None:
    """Return the merge queue of the pull request's base, or null without one."""
    repo, record = _pull(source)
    return queue_node(info.context, repo, record["pull"]["base"])


@resolves("PullRequest", "mergeQueueEntry")
def resolve_pull_entry(source: Json, info: Any) -> Json | None:
    """Return the pull request's entry in its base's merge queue, or null."""
    repo, record = _pull(source)
    entry = mergequeue.entry_for(repo, record)
    return entry_node(info.context, repo, record["pull"]["base"], entry) if entry else None


@resolves("Mutation", "enqueuePullRequest")
def enqueue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002 (GraphQL's name)
    """Add a pull request to its base's merge queue, checking its head if `expectedHeadOid`."""
    context: Context = info.context
    refuse_unserved(input, "EnqueuePullRequestInput", {"pullRequestId", "expectedHeadOid", "jump"})
    repo, record = visible_issue(context, input["pullRequestId"], PULLS)
    rest = call(context, issue_params(repo, record))
    try:
        entry = mergequeue.enqueue(
            rest, repo, record, input.get("expectedHeadOid"), bool(input.get("jump"))
        )
    except ApiError as error:
        raise refusal(context, error, "EnqueuePullRequest") from None
    node = entry_node(context, repo, record["pull"]["base"], entry)
    mergequeue.advance(rest, repo, record["pull"]["base"])
    return payload({"mergeQueueEntry": node}, input)


@resolves("Mutation", "dequeuePullRequest")
def dequeue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Take a pull request out of its base's merge queue."""
    context: Context = info.context
    refuse_unserved(input, "DequeuePullRequestInput", {"id"})
    repo, record = visible_issue(context, input["id"], PULLS)
    rest = call(context, issue_params(repo, record))
    entry = mergequeue.entry_for(repo, record)
    node = entry_node(context, repo, record["pull"]["base"], entry) if entry else None
    try:
        mergequeue.dequeue(rest, repo, record)
    except ApiError as error:
        raise refusal(context, error, "DequeuePullRequest") from None
    mergequeue.advance(rest, repo, record["pull"]["base"])
    return payload({"mergeQueueEntry": node}, input)


@resolves("PullRequest", "timelineItems")
def resolve_pull_timeline(source: Json, info: Any, **arguments: Any) -> Json:
    """Return the pull request's recorded events of PULL_TIMELINE_TYPES, oldest first; other
    item types are refused, as for an issue."""
    return timeline(source, info, PULL_TIMELINE_TYPES, _item, **arguments)


def _item(context: Context, pr: Json, event: Json) -> Json:
    kind = event["event"]
    if kind not in ("merged", "added_to_merge_queue", "removed_from_merge_queue"):
        return timeline_item(context, pr, event)
    repo = pr["_repo"]
    path = f"/{repo['owner']}/{repo['name']}/pull/{pr['number']}#event-{event['id']}"
    typename = {
        "merged": "MergedEvent",
        "added_to_merge_queue": "AddedToMergeQueueEvent",
        "removed_from_merge_queue": "RemovedFromMergeQueueEvent",
    }[kind]
    item: Json = {
        "__typename": typename,
        "id": node_id(typename, event["id"]),
        "actor": actor(context, event["actor"]),
        "createdAt": event["created_at"],
        "pullRequest": pr,
    }
    if kind == "merged":
        sha = event["commit_id"]
        base = pr["_issue"]["pull"]["base"]
        return {
            **item,
            "commit": commit(context, repo, sha),
            "mergeRefName": base,
            "resourcePath": path,
            "url": f"{context.base}{path}",
        }
    who = context.store.users[event.get("enqueuer") or event["actor"]]
    item["enqueuer"] = actor(context, who["login"]) if who["type"] == "User" else None
    item["mergeQueue"] = queue_node(context, repo, pr["_issue"]["pull"]["base"])
    if kind == "added_to_merge_queue":
        return item
    before = event.get("before_commit")
    return {
        **item,
        "reason": event["reason"],
        "beforeCommit": commit(context, repo, before) if before else None,
    }

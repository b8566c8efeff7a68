"""`check --live`'s line on how each repo's green PRs will merge (docs/pr_monitor.md).

GitHub's merge queue where the base has one; else Agent OS's merge train where `merge_method`
is `merge` and `merge_train` is on, unless the base's protection refuses the train's push
(required reviews or linear history: a warning, since it falls back to one by one); else one
by one. Two reads: the queue (GraphQL) and, for a train, the base's protection (REST, which
GitHub shows to admins only: unreadable is said, not failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.config.model import MergeMethod, RepoConfig
from orchestrator.errors import TrackerError

if TYPE_CHECKING:
    from orchestrator.adapters.github import GitHubTracker
    from orchestrator.adapters.github_graphql import GraphQL

TRAIN_CI = "CI must run on pushes to agentos/train/** (e.g. `on: push`)"


def merging(tracker: GitHubTracker, graphql: GraphQL, repo: RepoConfig) -> tuple[str, str]:
    """Return (level, text): `ok`, or `warn` when the repo's trains will fall back."""
    where = f"repos.{repo.key}.merging: {repo.base_branch}"
    owner, name = repo.github.split("/", 1)
    try:
        data = graphql.run(
            "merge_queue_of",
            {"owner": owner, "name": name, "branch": repo.base_branch},
            subject=repo.github,
            action="read the merge queue of",
        )
    except TrackerError as exc:
        return "warn", f"{where}: cannot tell whether it has a merge queue: {exc}"
    if (data.get("repository") or {}).get("mergeQueue"):
        return (
            "ok",
            f"{where} has a merge queue: green PRs are enqueued "
            "(a workflow must run on merge_group)",
        )
    if repo.merge_method is not MergeMethod.MERGE or not repo.merge_train:
        method = repo.merge_method.value
        why = f"merge_method {method}" if method != "merge" else "merge_train: false"
        return "ok", f"{where}: one by one ({why}; a merge train needs merge_method merge)"
    try:
        blockers = tracker.train_blockers(repo)
    except TrackerError as exc:
        return "warn", f"{where}: cannot read its protection: {exc}"
    if blockers is None:
        return (
            "ok",
            f"{where}: merge train ({TRAIN_CI}); its protection is unreadable without admin: "
            "a refused push falls back to one by one",
        )
    if blockers:
        return "warn", f"{where}: merge trains fall back to one by one: {' and '.join(blockers)}"
    return "ok", f"{where}: merge train ({TRAIN_CI})"

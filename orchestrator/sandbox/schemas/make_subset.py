"""Cut GitHub's REST description down to the operations the sandbox serves.

Usage: python make_subset.py FULL.json OUT.json

FULL.json is `generated/api.github.com.json` from npm `@octokit/openapi@23.0.2` (MIT). The script
keeps each operation listed in OPERATION_IDS, unedited, and copies in every component those
operations reference, transitively; everything else in the document (openapi, servers, tags, ...)
is kept as is.
No schema is edited: the loader fixes the sandbox needs are applied in memory at load time
(orchestrator/sandbox/github/validation.py).
"""

from __future__ import annotations

import json
import sys
from typing import Any

# The 53 operations of the original subset (offline-testing.md section 2.2) come first.
OPERATION_IDS = (
    "checks/create",
    "checks/get",
    "checks/list-for-ref",
    "checks/update",
    "git/create-ref",
    "git/delete-ref",
    "git/get-ref",
    "git/list-matching-refs",
    "git/update-ref",
    "issues/add-blocked-by-dependency",
    "issues/add-labels",
    "issues/add-sub-issue",
    "issues/create",
    "issues/create-comment",
    "issues/create-label",
    "issues/delete-comment",
    "issues/get",
    "issues/get-label",
    "issues/get-parent",
    "issues/list-comments",
    "issues/list-dependencies-blocked-by",
    "issues/list-dependencies-blocking",
    "issues/list-for-repo",
    "issues/list-labels-for-repo",
    "issues/list-labels-on-issue",
    "issues/list-sub-issues",
    "issues/remove-dependency-blocked-by",
    "issues/remove-label",
    "issues/remove-sub-issue",
    "issues/reprioritize-sub-issue",
    "issues/set-labels",
    "issues/update",
    "issues/update-comment",
    "issues/update-label",
    "pulls/create",
    "pulls/create-review",
    "pulls/get",
    "pulls/list",
    "pulls/list-files",
    "pulls/list-reviews",
    "pulls/merge",
    "pulls/update",
    "rate-limit/get",
    "repos/compare-commits",
    "repos/create-commit-status",
    "repos/get",
    "repos/get-branch",
    "repos/get-combined-status-for-ref",
    "repos/get-commit",
    "repos/list-branches",
    "repos/list-commit-statuses-for-ref",
    "repos/merge",
    "users/get-authenticated",
    # Added for the sandbox: repositories, users, collaborators, events.
    "repos/create-for-authenticated-user",
    "repos/create-in-org",
    "repos/list-for-authenticated-user",
    "orgs/get",
    "users/get-by-username",
    "issues/list-events",
    "issues/delete-label",
    "issues/remove-all-labels",
    "issues/get-comment",
    "repos/add-collaborator",
    "repos/list-collaborators",
    "repos/check-collaborator",
    "repos/get-collaborator-permission-level",
    "repos/list-commits",
    "pulls/list-commits",
    # Added with the contents API (files and directories at a ref) and compare's one-parameter form.
    "repos/get-content",
    "repos/compare-commits-with-basehead",
    # Added for failure context: a check run's annotations, an Actions job and its log.
    "checks/list-annotations",
    "actions/get-job-for-workflow-run",
    "actions/download-job-logs-for-workflow-run",
    # Added for branch protection: required reviews and status checks hold a pull request.
    "repos/update-branch-protection",
    "repos/get-branch-protection",
    "repos/delete-branch-protection",
    # Added for repository webhooks: the hooks, their pings and their recent deliveries.
    "repos/list-webhooks",
    "repos/create-webhook",
    "repos/get-webhook",
    "repos/update-webhook",
    "repos/delete-webhook",
    "repos/ping-webhook",
    "repos/list-webhook-deliveries",
    "repos/get-webhook-delivery",
    "repos/redeliver-webhook-delivery",
    # Added for Projects (v2) over REST (GitHub added these endpoints in September 2025): a
    # board's items with the values of chosen fields, and its fields.
    "projects/list-items-for-user",
    "projects/list-items-for-org",
    "projects/list-fields-for-user",
    "projects/list-fields-for-org",
    # Added for workflow dispatch (issue 21): workflows, their runs, jobs, artifacts, secrets.
    "actions/list-repo-workflows",
    "actions/get-workflow",
    "actions/create-workflow-dispatch",
    "actions/list-workflow-runs-for-repo",
    "actions/get-workflow-run",
    "actions/list-jobs-for-workflow-run",
    "actions/cancel-workflow-run",
    "actions/list-workflow-run-artifacts",
    "actions/download-artifact",
    "actions/get-repo-public-key",
    "actions/create-or-update-repo-secret",
    # issue 21's Actions executor: its find, release, probe and `executor install`
    "actions/list-workflow-runs",
    "actions/delete-workflow-run",
    "actions/delete-artifact",
    "actions/get-repo-secret",
    "repos/create-or-update-file-contents",
)
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def refs_in(node: Any) -> set[str]:
    """Return every `#/components/...` reference inside a JSON node."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= refs_in(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs_in(item) for item in node)) if node else set()
    return set()


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """Return the node a local `#/a/b/c` reference points at."""
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def reached(full: dict[str, Any], start: Any) -> dict[str, dict[str, Any]]:
    """Return the components `start` references, directly or through other components."""
    todo, seen = refs_in(start), set()
    while todo:
        ref = todo.pop()
        if ref not in seen:
            seen.add(ref)
            todo |= refs_in(resolve(full, ref)) - seen
    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(seen):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = full["components"][kind][name]
    return components


def subset(full: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """Return `full` with only the `wanted` operations and the components they reach."""
    paths: dict[str, Any] = {}
    for path, item in full["paths"].items():
        kept = {m: op for m, op in item.items() if m in METHODS and op.get("operationId") in wanted}
        if kept:
            paths[path] = {**{k: v for k, v in item.items() if k not in METHODS}, **kept}
    found = {op["operationId"] for item in paths.values() for m, op in item.items() if m in METHODS}
    missing = set(wanted) - found
    if missing:
        raise SystemExit(f"operations not in the description: {sorted(missing)}")
    components = reached(full, paths)
    info = {
        **full["info"],
        "description": "Subset of GitHub's REST API OpenAPI description "
        "(github/rest-api-description, MIT) as packaged in @octokit/openapi; "
        "only the operations listed in x-subset-operation-ids are kept.",
        "x-subset-operation-ids": sorted(wanted),
    }
    rest = {k: v for k, v in full.items() if k not in ("info", "paths", "components", "x-webhooks")}
    return {**rest, "info": info, "paths": paths, "components": components}


def main(argv: list[str]) -> int:
    """Write the subset of argv[1] to argv[2]."""
    with open(argv[1], encoding="utf-8") as f:
        full = json.load(f)
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(subset(full, OPERATION_IDS), f, indent=1, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

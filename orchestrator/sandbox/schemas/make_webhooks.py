"""Cut the webhook payload schemas Agent OS receives out of GitHub's REST description.

Usage: python -m orchestrator.sandbox.schemas.make_webhooks FULL.json OUT.json

FULL.json is `generated/api.github.com.json` from npm `@octokit/openapi@23.0.2` (MIT), whose
`x-webhooks` describes every webhook GitHub sends, one entry per event and action
(`issues-labeled`, `check-run-completed`, `status`). The script keeps the entries in WEBHOOKS
and UNWOKEN, unedited, and copies in every component they reference, transitively, as
make_subset.py does for operations. WEBHOOKS is the events and actions
`orchestrator/serve/webhooks.py` wakes a job for, plus `ping` (tests/serve/test_webhooks.py
checks the two agree); UNWOKEN is what the sandbox also sends, as GitHub does, though no job
wakes for it. The sandbox's deliveries are checked against the same file.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from orchestrator.sandbox.schemas.make_subset import reached

WEBHOOKS = (
    "ping",
    "issues-opened",
    "issues-edited",
    "issues-closed",
    "issues-reopened",
    "issues-labeled",
    "issues-unlabeled",
    "issues-deleted",
    "issues-transferred",
    "issue-dependencies-blocked-by-added",
    "issue-dependencies-blocked-by-removed",
    "issue-dependencies-blocking-added",
    "issue-dependencies-blocking-removed",
    "sub-issues-parent-issue-added",
    "sub-issues-parent-issue-removed",
    "sub-issues-sub-issue-added",
    "sub-issues-sub-issue-removed",
    "projects-v2-item-created",
    "projects-v2-item-edited",
    "projects-v2-item-deleted",
    "projects-v2-item-archived",
    "projects-v2-item-restored",
    "projects-v2-item-converted",
    "projects-v2-item-reordered",
    "pull-request-opened",
    "pull-request-reopened",
    "pull-request-closed",
    "pull-request-synchronize",
    "pull-request-edited",
    "pull-request-ready-for-review",
    "pull-request-converted-to-draft",
    "pull-request-labeled",
    "pull-request-unlabeled",
    "pull-request-enqueued",
    "pull-request-dequeued",
    "pull-request-auto-merge-enabled",
    "pull-request-auto-merge-disabled",
    "pull-request-review-submitted",
    "pull-request-review-edited",
    "pull-request-review-dismissed",
    "check-run-completed",
    "check-suite-completed",
    "status",
    "workflow-run-completed",
    "merge-group-checks-requested",
    "merge-group-destroyed",
)
# Sent by the sandbox with the `workflow_run` `completed` it announces (GitHub sends all three
# for each Actions run); the receiver ignores them, the sandbox checks them all the same.
UNWOKEN = (
    "workflow-run-requested",
    "workflow-run-in-progress",
)


def cut(full: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """Return the `wanted` x-webhooks entries of `full` and the components they reach."""
    hooks = full["x-webhooks"]
    missing = [name for name in wanted if name not in hooks]
    if missing:
        raise SystemExit(f"webhooks not in the description: {missing}")
    kept = {name: hooks[name] for name in wanted}
    components = reached(full, kept)
    info = {
        **full["info"],
        "description": "The x-webhooks entries of GitHub's REST API description "
        "(github/rest-api-description, MIT) as packaged in @octokit/openapi, cut to those "
        "listed in x-webhook-names and the components they reference; nothing edited.",
        "x-webhook-names": list(wanted),
    }
    return {"openapi": full["openapi"], "info": info, "x-webhooks": kept, "components": components}


def main(argv: list[str]) -> int:
    """Write the webhooks of argv[1] to argv[2]."""
    with open(argv[1], encoding="utf-8") as f:
        full = json.load(f)
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(cut(full, WEBHOOKS + UNWOKEN), f, indent=1, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

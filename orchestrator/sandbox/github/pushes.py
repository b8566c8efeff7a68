"""What a push does on GitHub beyond moving refs.

After refs moved (a git push, the REST refs and merges endpoints, the merge button, the merge
queue): each open pull request whose head the push made reachable from its base is marked merged
(`merging.record_merge`: merged by the pusher, `merge_commit_sha` the base's new tip, the issues
its body closes closed when the base is the default branch), a queued pull request whose head
moved leaves the merge queue, and CI runs on pushed pull request heads and on pushed branches that
match the repository's `push_branches` patterns (as an Actions workflow `on: push: branches:`).

What a protected branch refuses of a push before refs move: pushrules.py.
"""

from __future__ import annotations

import re

from orchestrator.sandbox.github import gitrepo, mergequeue, merging, webhooks
from orchestrator.sandbox.github.api import Call, Update
from orchestrator.sandbox.github.ci import head_commits
from orchestrator.sandbox.github.state import Json

ZERO = gitrepo.ZERO
HEADS = "refs/heads/"


def after_push(call: Call, repo: Json, updates: list[Update]) -> list[str]:
    """Record what `call.login`'s push of `updates` did; return the commits CI should run on."""
    path = call.store.git_dir(repo)
    for old, new, ref in updates:
        if ref.startswith(HEADS) and new != ZERO:
            branch = ref.removeprefix(HEADS)
            _merge_reached(call, repo, branch, old, new)
            _synchronized(call, repo, branch, old, new)
            mergequeue.head_moved(call, repo, branch, new)
            if call.login != mergequeue.BOT and mergequeue.entries(repo, branch):
                mergequeue.advance(call, repo, branch)  # a base moved outside its queue
    shas = head_commits(call.store, repo, [ref for _, new, ref in updates if new != ZERO])
    patterns = repo.get("ci_push_branches") or []
    for _, new, ref in updates:
        branch = ref.removeprefix(HEADS)
        if ref.startswith(HEADS) and new != ZERO and any(matches(p, branch) for p in patterns):
            if gitrepo.resolve(path, ref) == new and new not in shas:
                shas.append(new)
    return shas


def _merge_reached(call: Call, repo: Json, branch: str, old: str, new: str) -> None:
    """Mark merged each open pull request into `branch` whose head this update made reachable."""
    path = call.store.git_dir(repo)
    for issue in list(repo["issues"].values()):
        pull = issue["pull"]
        if not pull or issue["state"] != "open" or pull["base"] != branch:
            continue
        head = gitrepo.resolve(path, f"{HEADS}{pull['head']}") or pull["head_sha"]
        if not gitrepo.is_ancestor(path, head, new):
            continue
        if old != ZERO and gitrepo.is_ancestor(path, head, old):
            continue  # reachable before this update: not this push's doing
        pull["head_sha"] = head
        merging.record_merge(call, repo, issue, new, old if old != ZERO else new)


def _synchronized(call: Call, repo: Json, branch: str, old: str, new: str) -> None:
    """Announce `synchronize` for each open pull request whose head branch moved."""
    for issue in list(repo["issues"].values()):
        pull = issue["pull"]
        if pull and issue["state"] == "open" and pull["head"] == branch and old != ZERO:
            webhooks.issue_event(call, repo, issue, "synchronize", before=old, after=new)


def matches(pattern: str, branch: str) -> bool:
    """Return whether `branch` matches an Actions branch filter (`*` within a segment, `**` any)."""
    regex = ""
    for part in re.split(r"(\*\*|\*|\?)", pattern):
        regex += {"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
    return re.fullmatch(regex, branch) is not None

"""GitHub's merge queue: enqueue, dequeue, the temporary branches, and merging by fast-forward.

A branch requires the queue when its protection says `merge_queue` (Sandbox.require_merge_queue;
on GitHub a branch protection setting or a ruleset's `merge_queue` rule). An entry is built at
once: the temporary branch `gh-readonly-queue/BASE/pr-N-PARENT` holds a merge commit of the pull
request's head onto PARENT, the base's tip or the group of the entry ahead (so it carries the
base, every pull request ahead and this one), and the repository's CI runs on it (the
`merge_group` check: the `sandbox-ci` check run on that commit). The head entry merges when the
base's required status checks all succeed on its group (at once when none are required, as on
GitHub): the base fast-forwards to the group, which marks the pull request merged as any push does
(pushes.py, by `github-merge-queue[bot]`), and the temporary branch is deleted. A failing head
entry leaves the queue (`CI_FAILURE`, the pull request stays open) and the entries behind it are
rebuilt without it; an entry that no longer merges cleanly leaves with `MERGE_CONFLICT`. The
queue advances when a check on a group commit changes (the CI worker and the REST checks call
`advance`); no timers. Entries joining and leaving are announced as `pull_request` `enqueued` and
`dequeued` (with the reason; `MERGE` for a merged one); `merge_group` is not sent: GitHub sends
it to GitHub Apps only.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.sandbox.github import gitrepo, issues, protection, pulls, webhooks
from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.api import ApiError, Call
from orchestrator.sandbox.github.reviews import merge_message
from orchestrator.sandbox.github.state import Json, Store, now_iso

BOT = "github-merge-queue[bot]"  # who merges a queued pull request and removes a failing one
HEAD_MOVED = "Head branch was modified. Review and try the merge again."
_WAITING = ("pending", "queued", "in_progress", None)


def required(repo: Json, branch: str) -> bool:
    """Return whether `branch` requires the merge queue."""
    return bool(repo.get("protection", {}).get(branch, {}).get("merge_queue"))


def queue(store: Store, repo: Json, branch: str) -> Json:
    """Return the record of `branch`'s queue ({id, entries}), made on first use."""
    queues = repo.setdefault("merge_queues", {})
    if branch not in queues:
        queues[branch] = {"id": store.new_id(), "entries": []}
    found: Json = queues[branch]
    return found


def entries(repo: Json, branch: str) -> list[Json]:
    """Return `branch`'s queued entries, first in line first."""
    found: list[Json] = repo.get("merge_queues", {}).get(branch, {}).get("entries", [])
    return found


def entry_for(repo: Json, issue: Json) -> Json | None:
    """Return the pull request's entry in its base's queue, or None."""
    found = [e for e in entries(repo, issue["pull"]["base"]) if e["number"] == issue["number"]]
    return found[0] if found else None


def state_of(repo: Json, branch: str, entry: Json) -> str:
    """Return the entry's MergeQueueEntryState: AWAITING_CHECKS, MERGEABLE or UNMERGEABLE."""
    verdict = _verdict(repo, branch, entry["group"])
    return {"success": "MERGEABLE", "failure": "UNMERGEABLE"}.get(verdict, "AWAITING_CHECKS")


def enqueue(call: Call, repo: Json, issue: Json, expected: str | None, jump: bool) -> Json:
    """Add a pull request to its base's queue (at the front with `jump`) and build its group.

    The caller then runs `advance`. Refusals are ApiErrors (GraphQL's UNPROCESSABLE).
    """
    if not can(call.store, repo, call.login, "push"):
        raise ApiError(403, "Must have push access to repository.")
    pull, path = issue["pull"], call.store.git_dir(repo)
    if not required(repo, pull["base"]):
        raise ApiError(422, f"The base branch {pull['base']} does not require a merge queue")
    if issue["state"] != "open":
        raise ApiError(422, "Pull Request is not mergeable")
    if pull["draft"]:
        raise ApiError(422, "Pull Request is still a draft")
    if entry_for(repo, issue) is not None:
        raise ApiError(422, "Pull request is already queued to merge")
    head, base = pulls.head_sha(call.store, repo, issue), pulls.base_sha(call.store, repo, issue)
    if expected and expected != head:
        raise ApiError(409, HEAD_MOVED)
    if gitrepo.merge_tree(path, base, head) is None:
        raise ApiError(422, "Pull Request is not mergeable")
    wanted = protection.shortfall(call, repo, issue, head)
    if wanted:
        raise ApiError(422, f"Pull request {wanted}")
    entry = {
        "id": call.store.new_id(),
        "number": issue["number"],
        "enqueuer": call.login,
        "enqueued_at": now_iso(),
        "jump": jump,
        "head_sha": head,
        "parent": None,
        "group": None,
        "ref": None,
    }
    items = queue(call.store, repo, pull["base"])["entries"]
    at = 0 if jump else len(items)
    items.insert(at, entry)
    issues.add_event(call.store, repo, issue, call.login, "added_to_merge_queue")
    webhooks.issue_event(call, repo, issue, "enqueued")
    rebuild(call, repo, pull["base"], at)
    return entry


def dequeue(call: Call, repo: Json, issue: Json) -> Json:
    """Take a pull request out of its base's queue (MANUAL) and rebuild the entries behind it."""
    if not can(call.store, repo, call.login, "push"):
        raise ApiError(403, "Must have push access to repository.")
    entry = entry_for(repo, issue)
    if entry is None:
        raise ApiError(422, "Pull request is not in the merge queue")
    _leave(call, repo, issue["pull"]["base"], entry, "MANUAL", call.login)
    return entry


def require(call: Call, repo: Json, branch: str, on: bool) -> None:
    """Make protected `branch` require the queue, or no longer (which empties it)."""
    rules = repo.get("protection", {}).get(branch)
    if rules is None:
        raise KeyError(f"{repo['owner']}/{repo['name']} has no protection on {branch}")
    rules["merge_queue"] = on
    if on:
        queue(call.store, repo, branch)
    else:
        clear(call, repo, branch)


def clear(call: Call, repo: Json, branch: str) -> None:
    """Empty `branch`'s queue (QUEUE_CLEARED), as when the queue is no longer required."""
    items = entries(repo, branch)
    for entry in items:
        _removed(call, repo, entry, "QUEUE_CLEARED", BOT)
    items.clear()


def head_moved(call: Call, repo: Json, branch: str, new: str) -> None:
    """Take out of any queue the pull requests whose head branch `branch` moved to `new`."""
    for base in list(repo.get("merge_queues", {})):
        for entry in list(entries(repo, base)):
            issue = repo["issues"][str(entry["number"])]
            if issue["pull"]["head"] == branch and entry["head_sha"] != new:
                # GitHub dequeues a pull request whose head moved; its reason is not documented
                _leave(call, repo, base, entry, "UNKNOWN_REMOVAL_REASON", BOT)
                advance(call, repo, base)


def _leave(call: Call, repo: Json, branch: str, entry: Json, reason: str, actor: str) -> None:
    """Remove an entry, record why on its pull request, and rebuild the entries behind it."""
    items = entries(repo, branch)
    at = items.index(entry)
    items.pop(at)
    _removed(call, repo, entry, reason, actor)
    rebuild(call, repo, branch, at)


def _removed(call: Call, repo: Json, entry: Json, reason: str, actor: str) -> None:
    """Delete a removed entry's branch and record the removal on its pull request."""
    _drop_ref(call, repo, entry)
    issue = repo["issues"][str(entry["number"])]
    by = replace(call, login=_bot(call) if actor == BOT else actor)
    issues.add_event(
        call.store,
        repo,
        issue,
        by.login,
        "removed_from_merge_queue",
        reason=reason,
        enqueuer=entry["enqueuer"],
        before_commit=entry["head_sha"],
    )
    webhooks.issue_event(by, repo, issue, "dequeued", reason=reason)


def rebuild(call: Call, repo: Json, branch: str, start: int) -> None:
    """Build the groups of the entries from `start` on, each on the one ahead, and run CI on each.

    An entry whose head no longer merges onto the group ahead leaves the queue (MERGE_CONFLICT).
    """
    path, items = call.store.git_dir(repo), entries(repo, branch)
    parent = items[start - 1]["group"] if start else gitrepo.resolve(path, f"refs/heads/{branch}")
    at = start
    while at < len(items) and parent:
        entry = items[at]
        _drop_ref(call, repo, entry)
        issue = repo["issues"][str(entry["number"])]
        tree = gitrepo.merge_tree(path, parent, entry["head_sha"])
        if tree is None:
            _removed(call, repo, items.pop(at), "MERGE_CONFLICT", BOT)
            continue
        user = call.store.users[entry["enqueuer"]]
        message = merge_message(repo, issue, "merge", None, None, [])
        who = gitrepo.identity(user.get("name") or user["login"], user.get("email") or "")
        group = gitrepo.commit_tree(path, tree, [parent, entry["head_sha"]], message, who)
        ref = f"refs/heads/gh-readonly-queue/{branch}/pr-{entry['number']}-{parent}"
        gitrepo.set_ref(path, ref, group)
        entry.update(parent=parent, group=group, ref=ref)
        call.hooks.run_ci(repo, group)
        parent, at = group, at + 1


def advance(call: Call, repo: Json, branch: str) -> None:
    """Merge the head entries whose checks passed, in order; drop a failing head entry."""
    path, items = call.store.git_dir(repo), entries(repo, branch)
    while items:
        entry = items[0]
        issue = repo["issues"][str(entry["number"])]
        if issue["state"] != "open":  # merged or closed another way meanwhile
            reason = "ALREADY_MERGED" if issue["pull"]["merged"] else "UNKNOWN_REMOVAL_REASON"
            _leave(call, repo, branch, entry, reason, BOT)
            continue
        tip = gitrepo.resolve(path, f"refs/heads/{branch}")
        if tip is None:  # the base is gone: nothing to merge into
            return
        if tip != entry["parent"]:  # the base moved outside the queue: build again on it
            rebuild(call, repo, branch, 0)
            continue
        verdict = _verdict(repo, branch, entry["group"])
        if verdict == "pending":
            return
        if verdict == "failure":
            _leave(call, repo, branch, entry, "CI_FAILURE", BOT)
            continue
        items.pop(0)
        gitrepo.set_ref(path, f"refs/heads/{branch}", entry["group"], tip)
        _drop_ref(call, repo, entry)
        bot = replace(call, login=_bot(call))
        # GitHub sends `dequeued` for a merged entry too (its schema's reason MERGE), before the
        # `closed` its merge sends
        webhooks.issue_event(bot, repo, issue, "dequeued", reason="MERGE")
        bot.hooks.pushed(repo, [(tip, entry["group"], f"refs/heads/{branch}")], bot.login)


def _verdict(repo: Json, branch: str, sha: str | None) -> str:
    """Return success, failure or pending for the base's required status checks on `sha`."""
    rules = repo.get("protection", {}).get(branch) or {}
    contexts = (rules.get("required_status_checks") or {}).get("contexts", [])
    states = protection.states(repo, sha) if sha else {}
    found = [states.get(c) for c in contexts]
    if any(s not in protection.SUCCESS and s not in _WAITING for s in found):
        return "failure"
    return "success" if sha and all(s in protection.SUCCESS for s in found) else "pending"


def waiting_on(repo: Json, sha: str) -> list[str]:
    """Return the branches whose queue has a group at `sha`."""
    return [
        b for b in repo.get("merge_queues", {}) if any(e["group"] == sha for e in entries(repo, b))
    ]


def _drop_ref(call: Call, repo: Json, entry: Json) -> None:
    path = call.store.git_dir(repo)
    if entry.get("ref") and gitrepo.resolve(path, entry["ref"]):
        gitrepo.delete_ref(path, entry["ref"])


def _bot(call: Call) -> str:
    """Return the merge queue's bot login, made on first use."""
    if BOT not in call.store.users:
        call.store.users[BOT] = {
            "login": BOT,
            "id": call.store.new_id(),
            "type": "Bot",
            "name": "GitHub Merge Queue",
            "email": f"{BOT}@users.noreply.sandbox",
            "created_at": now_iso(),
            "app": "github-merge-queue",
        }
    return BOT

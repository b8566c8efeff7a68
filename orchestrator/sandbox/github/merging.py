"""Merge pull requests on the bare repos (merge, squash, rebase), record a merge, and find closing
keywords.

`record_merge` is the one code path for "a pull request became merged", whatever merged it: the
merge button (REST or GraphQL), a push that made its head reachable from its base (pushes.py), or
the merge queue fast-forwarding its base (mergequeue.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestrator.sandbox.github import gitrepo, issues
from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.api import Call
from orchestrator.sandbox.github.gitrepo import GitError
from orchestrator.sandbox.github.state import Json, now_iso

# GitHub's closing keywords (close, closes, closed, fix, fixes, fixed, resolve, resolves,
# resolved; any case; an optional colon) before an issue: #N, owner/repo#N, GH-N, or the issue's
# URL on this host. A keyword must start a word: "C\u200bloses #3" (how Agent OS quotes an agent's
# text) reads "loses #3", which closes nothing, here as on GitHub.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+"
    r"(?:(?:([\w.-]+)/([\w.-]+))?#(\d+)"
    r"|gh-(\d+)"
    r"|(https?://\S+?)/([\w.-]+)/([\w.-]+)/issues/(\d+))\b",
    re.IGNORECASE,
)


def closing_references(
    text: str, owner: str, name: str, base: str = ""
) -> list[tuple[str, str, int]]:
    """Return (owner, repo, number) for every issue `text` closes.

    A bare `#N` or `GH-N` means owner/name; a URL counts only on this host (`base`).
    """
    found = []
    for m in _CLOSING.finditer(text or ""):
        if m.group(3):
            ref = (m.group(1) or owner, m.group(2) or name, int(m.group(3)))
        elif m.group(4):
            ref = (owner, name, int(m.group(4)))
        elif base and m.group(5).rstrip("/") == base.rstrip("/"):
            ref = (m.group(6), m.group(7), int(m.group(8)))
        else:
            continue
        if ref not in found:
            found.append(ref)
    return found


def merge(
    repo: Path, branch: str, head: str, method: str, message: str, merger: dict[str, str]
) -> str:
    """Merge `head` into `branch` by `method` and return the new tip; GitError on conflict."""
    base = gitrepo.resolve(repo, f"refs/heads/{branch}")
    if base is None:
        raise GitError(f"no branch {branch}")
    if method == "rebase":
        tip = _rebase(repo, base, head, merger)
    else:
        tree = gitrepo.merge_tree(repo, base, head)
        if tree is None:
            raise GitError("merge conflict")
        parents = [base, head] if method == "merge" else [base]
        tip = gitrepo.commit_tree(repo, tree, parents, message, merger)
    gitrepo.set_ref(repo, f"refs/heads/{branch}", tip, base)
    return tip


def _rebase(repo: Path, base: str, head: str, merger: dict[str, str]) -> str:
    """Replay each commit of base..head on base in a temporary worktree, keeping their authors."""
    work = Path(tempfile.mkdtemp(prefix="sandbox-rebase-")) / "wt"
    committer = {k: v for k, v in merger.items() if k.startswith("GIT_COMMITTER")}
    try:
        gitrepo.git(repo, "worktree", "add", "--detach", "-q", str(work), base)
        for sha in gitrepo.commits_between(repo, base, head):
            done = subprocess.run(
                ["git", "cherry-pick", "--allow-empty", "--keep-redundant-commits", sha],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", **committer},
            )
            if done.returncode != 0:
                raise GitError(f"rebase conflict at {sha}: {done.stderr.strip()}")
        tip = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True, check=True
        ).stdout.strip()
        return tip
    finally:
        gitrepo.git(repo, "worktree", "remove", "--force", str(work), check=False)
        gitrepo.git(repo, "worktree", "prune", check=False)
        shutil.rmtree(work.parent, ignore_errors=True)


def record_merge(call: Call, repo: Json, issue: Json, tip: str, base: str) -> None:
    """Mark a pull request merged by `call.login` into its base, now at `tip` (from `base`).

    As GitHub does: the `merged` and `closed` events (with the tip as their commit), and, when
    the base is the default branch, the issues its body names with a closing keyword closed.
    """
    pull = issue["pull"]
    pull.update(
        merged=True, merged_at=now_iso(), merged_by=call.login, merge_commit_sha=tip, base_sha=base
    )
    issues.add_event(call.store, repo, issue, call.login, "merged", commit_id=tip)
    issues.set_state(call, repo, issue, "closed", None, commit_id=tip)
    issue["state_reason"] = None
    if pull["base"] == repo["default_branch"]:
        close_referenced(call, repo, issue, tip)


def close_referenced(call: Call, repo: Json, pr: Json, tip: str) -> None:
    """Close each issue the PR's body names with a closing keyword (Closes #N, fixes o/r#N).

    The closed event records the PR as its closer (GraphQL's ClosedEvent.closer); an issue closed
    already stays as it is, with no second event.
    """
    for owner, name, number in closing_references(
        pr["body"] or "", repo["owner"], repo["name"], call.base
    ):
        target = call.store.repo(owner, name)
        issue = target["issues"].get(str(number)) if target else None
        if (
            target
            and issue
            and not issue["pull"]
            and issue["state"] == "open"
            and can(call.store, target, call.login, "triage")
        ):
            closer = {"owner": repo["owner"], "name": repo["name"], "number": pr["number"]}
            issues.set_state(
                call, target, issue, "closed", "completed", commit_id=tip, closer=closer
            )

"""Merge pull requests on the bare repos (merge, squash, rebase) and find closing keywords."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestrator.sandbox.github import gitrepo
from orchestrator.sandbox.github.gitrepo import GitError

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

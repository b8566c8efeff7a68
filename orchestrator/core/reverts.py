"""Which merged PRs the base branch has reverted since, read from its commit messages.

Two ways a revert names what it undoes, both written by tools rather than people:
- `git revert` writes "This reverts commit <sha>." (a merge commit's revert adds ", reversing
  changes made to <sha>"); the sha is matched against the merge commits Agent OS recorded.
- GitHub's Revert button opens a PR whose body is "Reverts owner/repo#N"; merged by squash, that
  line is in the commit message on the base branch, and N names the PR directly.

A message is untrusted text (anyone who can push writes it), so it is only matched, never shown.
A commit can only revert a merge that came before it (allowing an hour for the committer's
clock, and git's whole seconds); a PR reverted twice keeps its first revert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrator.core.evidence import as_int
from orchestrator.core.workspace import BaseCommit

SKEW = timedelta(hours=1)  # a committer's clock may run behind GitHub's; git time is in seconds
_BY_SHA = re.compile(r"\bThis reverts commit ([0-9a-f]{7,40})\b", re.IGNORECASE)
_BY_PR = re.compile(r"^\s*Reverts ([\w.-]+/[\w.-]+)#(\d{1,9})\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Revert:
    """PR `pr` of `repo` was undone by commit `by` at `at`."""

    repo: str
    pr: int
    by: str
    at: datetime


def find(
    repo: str,
    commits: Iterable[BaseCommit],
    merges: Iterable[Mapping[str, Any]],
    when: Mapping[int, datetime],
) -> list[Revert]:
    """Return the reverts of `repo`'s merged PRs among `commits`, oldest first.

    `merges` are the ledger's rows (repo, pr, sha); `when` maps a PR to its merge time.
    """
    by_sha: dict[str, int] = {}
    for row in merges:
        pr, sha = as_int(row.get("pr")), str(row.get("sha") or "").lower()
        if row.get("repo") == repo and pr is not None and len(sha) >= 7:
            by_sha[sha] = pr
    found: dict[int, Revert] = {}
    for commit in sorted(commits, key=lambda c: c.committed_at):
        for pr in _targets(repo, commit.message, by_sha):
            merged = when.get(pr)
            if merged is None or commit.committed_at < merged - SKEW or pr in found:
                continue
            # never before the merge it undoes, whatever the committer's clock said
            found[pr] = Revert(repo, pr, commit.sha, max(commit.committed_at, merged))
    return sorted(found.values(), key=lambda r: (r.at, r.pr))


def _targets(repo: str, message: str, by_sha: Mapping[str, int]) -> list[int]:
    """Return the PRs one commit message says it reverts."""
    prs: list[int] = []
    for match in _BY_SHA.finditer(message):
        short = match.group(1).lower()
        prs.extend(pr for sha, pr in by_sha.items() if sha.startswith(short))
    for match in _BY_PR.finditer(message):
        if match.group(1).lower() == repo.lower():
            prs.append(int(match.group(2)))
    return prs

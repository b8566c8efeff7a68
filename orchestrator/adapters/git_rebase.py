"""Replay a branch onto its base in a scratch worktree; on conflict, abort and describe both sides.

Never a blind union merge (agent-os keeps both sides of every conflict and hopes the tests
notice): a real conflict goes back to an agent as a fixing task, with these details in its prompt.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.adapters.git_clone import SharedClone, run
from orchestrator.core.workspace import (
    Conflict,
    ConflictHunk,
    RebaseOutcome,
    RebaseStatus,
    conflict_hunks,
)
from orchestrator.errors import WorktreeError

MAX_SIDE = 200_000  # characters of one side of a deleted/binary conflict kept in the outcome


def replay(clone: SharedClone, path: Path, branch: str, head: str, base_sha: str) -> RebaseOutcome:
    """Rebase the detached worktree at `path` (at `head`) onto `base_sha`; push nothing."""
    if run(path, ("merge-base", "--is-ancestor", base_sha, head), clone.env(), check=False)[0] == 0:
        return RebaseOutcome(RebaseStatus.UP_TO_DATE, branch, base_sha, head)
    status, _, err = run(
        path,
        (
            "-c",
            "merge.conflictStyle=diff3",
            "-c",
            "rebase.autoStash=false",
            "rebase",
            "--no-autosquash",
            "--no-verify",
            base_sha,
        ),
        clone.env(),
        check=False,
    )
    if status == 0:
        new_head = clone.sha("HEAD", cwd=path)
        assert new_head is not None
        return RebaseOutcome(RebaseStatus.REBASED, branch, base_sha, new_head)
    conflicts = collect(clone, path)
    stopped = clone.git("log", "-1", "--format=%h %s", "REBASE_HEAD", cwd=path, check=False).strip()
    run(path, ("rebase", "--abort"), clone.env(), check=False)
    if not conflicts:
        raise WorktreeError(f"rebase of {branch} failed without a conflict: {err.strip()[-300:]}")
    return RebaseOutcome(RebaseStatus.CONFLICT, branch, base_sha, head, conflicts, stopped)


def collect(clone: SharedClone, path: Path) -> tuple[Conflict, ...]:
    """Describe a stopped rebase's unmerged paths, from the index stages and the marked-up files."""
    stages: dict[str, set[int]] = {}
    for entry in clone.git("ls-files", "-u", "-z", cwd=path, strip=False).split("\0"):
        if entry:
            info, _, name = entry.partition("\t")
            stages.setdefault(name, set()).add(int(info.split()[2]))
    return tuple(_conflict(clone, path, name, present) for name, present in sorted(stages.items()))


def _conflict(clone: SharedClone, path: Path, name: str, present: set[int]) -> Conflict:
    # During a rebase stage 2 is the base ("ours" to git) and stage 3 the branch's commit.
    if 2 not in present:
        return Conflict(
            name, "deleted_by_them", (ConflictHunk(ours=_blob(clone, path, 3, name), theirs=""),)
        )
    if 3 not in present:
        return Conflict(
            name, "deleted_by_us", (ConflictHunk(ours="", theirs=_blob(clone, path, 2, name)),)
        )
    data = (path / name).read_bytes() if (path / name).is_file() else b""
    if b"\0" in data:
        return Conflict(name, "binary")
    hunks = conflict_hunks(data.decode("utf-8", errors="replace"))
    if not hunks:  # markers of another size (gitattributes): fall back to the two whole versions
        hunks = (
            ConflictHunk(ours=_blob(clone, path, 3, name), theirs=_blob(clone, path, 2, name)),
        )
    return Conflict(name, "content", hunks)


def _blob(clone: SharedClone, path: Path, stage: int, name: str) -> str:
    text = clone.git("show", f":{stage}:{name}", cwd=path, check=False, strip=False)
    return text if len(text) <= MAX_SIDE else text[:MAX_SIDE] + "\n[… trimmed]\n"

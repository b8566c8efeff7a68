"""Values the Worktrees port hands back (a worktree, a commit, a rebase, base history); conflicts.

Rebase vocabulary is confusing in git itself (during a rebase "ours" is the base); here `ours`
always means the task's branch, what the agent wrote, and `theirs` what landed on the base.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

RESULT_FILE = ".agent_result.md"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A task's worktree: a repository of its own, checked out on its branch."""

    repo_key: str
    task_id: str
    path: str  # absolute, inside <worktrees_dir>/<repo_key>/
    branch: str
    base: str
    base_sha: str  # origin/<base> when the worktree was made
    start_sha: str  # the commit it was checked out at
    remote_sha: str | None  # origin/<branch> when made: the push lease; None when the branch is new
    objects: str = ""  # the shared clone's object store the task's repository borrows (read-only)

    @property
    def continued(self) -> bool:
        """True when the worktree continues work already on the remote branch."""
        return self.remote_sha is not None and self.start_sha == self.remote_sha


@dataclass(frozen=True, slots=True)
class CommitOutcome:
    """What `commit` left: the head, whether it committed, the branch's diff against its base."""

    sha: str
    committed: bool
    files: tuple[str, ...]  # paths the branch changes relative to the base: the PR's content
    ahead: bool  # the head differs from the remote branch: something to push

    @property
    def has_changes(self) -> bool:
        """True when there is anything to open a pull request for."""
        return bool(self.files)


class RebaseStatus(enum.Enum):
    UP_TO_DATE = "up_to_date"  # the branch already contains the base: nothing pushed
    REBASED = "rebased"  # replayed cleanly and pushed with --force-with-lease
    CONFLICT = "conflict"  # a real conflict: aborted, nothing pushed


@dataclass(frozen=True, slots=True)
class ConflictHunk:
    """One conflicting region: the branch's text, the base's text, and their common ancestor's."""

    ours: str
    theirs: str
    ancestor: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A file that would not rebase cleanly."""

    path: str
    kind: str  # content | deleted_by_us | deleted_by_them | binary
    hunks: tuple[ConflictHunk, ...] = ()


@dataclass(frozen=True, slots=True)
class BaseCommit:
    """A commit on a repo's base branch, as `Worktrees.history` reads it."""

    sha: str
    committed_at: datetime  # aware
    message: str  # the whole message: untrusted, to be matched, not shown


@dataclass(frozen=True, slots=True)
class RebaseOutcome:
    status: RebaseStatus
    branch: str
    base_sha: str
    head_sha: str  # the branch head on the remote after the call
    conflicts: tuple[Conflict, ...] = ()
    stopped_at: str = ""  # "<short sha> <subject>" of the branch commit that conflicted


_START, _ANCESTOR, _SPLIT, _END = "<<<<<<< ", "||||||| ", "=======", ">>>>>>> "


def conflict_hunks(text: str) -> tuple[ConflictHunk, ...]:
    """Parse git's conflict markers (merge or diff3 style) in a file left by a stopped rebase.

    In a rebase the first side (after `<<<<<<<`) is the base and the second the replayed
    branch commit, so they come back as `theirs` and `ours` respectively.
    """
    hunks: list[ConflictHunk] = []
    part: str | None = None
    sides: dict[str, list[str]] = {}
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if part is None:
            if bare.startswith(_START) or bare == _START.rstrip():
                part, sides = "theirs", {"theirs": [], "ancestor": [], "ours": []}
            continue
        if bare.startswith(_ANCESTOR) or bare == _ANCESTOR.rstrip():
            part = "ancestor"
        elif bare == _SPLIT and part in ("theirs", "ancestor"):
            part = "ours"
        elif part == "ours" and (bare.startswith(_END) or bare == _END.rstrip()):
            hunks.append(
                ConflictHunk(
                    ours="".join(sides["ours"]),
                    theirs="".join(sides["theirs"]),
                    ancestor="".join(sides["ancestor"]),
                )
            )
            part = None
        else:
            sides[part].append(line)
    return tuple(hunks)


def scratch_key(branch: str) -> str:
    """Return the worktree key of a branch's scratch rebase: `rebase-agent-12-fix-login`."""
    return "rebase-" + re.sub(r"[^A-Za-z0-9._-]+", "-", branch).strip("-.")[:100]

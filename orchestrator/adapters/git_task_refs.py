"""The TaskRefs port on git: a task's prompt pushed beside its start commit, a remote patch applied.

The task commit is made in the repo's shared clone with a private index (no checkout, no
stdin): its tree holds only the prompt and the canary, its parent is the commit the agent starts
from, so a remote job checks out one ref and has both. The patch a remote run hands back is
applied in the task's worktree by `git apply`, which refuses a path outside the tree, inside
`.git`, or beyond a symlink; what it leaves is then committed and gated as a local agent's files.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from orchestrator.adapters.git import GitWorktrees
from orchestrator.adapters.git_clone import run
from orchestrator.core.redact import redact
from orchestrator.core.remote import TASK_REF_PREFIX
from orchestrator.core.workspace import Workspace
from orchestrator.errors import WorktreeError
from orchestrator.ports import AuditLog

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")  # a file of the task commit: no folders


class GitTaskRefs:
    """Publish, apply and drop through the shared clones of a GitWorktrees."""

    def __init__(self, worktrees: GitWorktrees, audit: AuditLog, actor: str) -> None:
        self.worktrees, self.audit, self.actor = worktrees, audit, actor

    def publish(self, ws: Workspace, ref: str, files: Mapping[str, bytes]) -> str:
        """Commit `files` on top of the worktree's start commit and force-push it to `ref`."""
        if not ref.startswith(TASK_REF_PREFIX):
            raise WorktreeError(f"not a task ref: {ref!r}")
        clone = self.worktrees.clones.get(ws.repo_key)
        if clone is None:
            raise WorktreeError(f"unknown repo {ws.repo_key!r}")
        with tempfile.TemporaryDirectory(prefix="agentos-task-") as tmp:
            env = {**clone.env(), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            for name, data in sorted(files.items()):
                if not _NAME.match(name):
                    raise WorktreeError(f"not a task file name: {name!r}")
                (Path(tmp) / name).write_bytes(data)
                blob = run(clone.path, ("hash-object", "-w", str(Path(tmp) / name)), env)[1]
                info = f"100644,{blob.strip()},{name}"
                run(clone.path, ("update-index", "--add", "--cacheinfo", info), env)
            tree = run(clone.path, ("write-tree",), env)[1].strip()
            message = f"Agent OS task {ws.task_id}"
            sha = run(clone.path, ("commit-tree", tree, "-p", ws.start_sha, "-m", message), env)[1]
        sha = sha.strip()
        with clone.lock():
            status, _, err = run(
                clone.path,
                ("push", "--porcelain", "--force", "origin", f"{sha}:{ref}"),
                clone.env(network=True),
                check=False,
            )
        if status != 0:
            raise WorktreeError(redact(f"git push of {ref} failed: {err.strip()[-400:]}"))
        self.audit.record(
            "task_ref.pushed",
            actor=self.actor,
            repo_key=ws.repo_key,
            task=ws.task_id,
            ref=ref,
            sha=sha,
        )
        return sha

    def apply(self, ws: Workspace, patch: bytes) -> tuple[str, ...]:
        """Apply a remote run's binary patch in the worktree; return the paths it touched."""
        path = Path(ws.path)
        if path.is_symlink() or not (path / ".git").is_dir():
            raise WorktreeError(f"worktree {ws.path} is gone (task {ws.task_id})")
        with tempfile.TemporaryDirectory(prefix="agentos-patch-") as tmp:
            file = Path(tmp) / "change.patch"
            file.write_bytes(patch)
            args = ("apply", "--binary", "--whitespace=nowarn")
            out = run(path, (*args, "--numstat", "-z", str(file)), {}, check=False)[1]
            status, _, err = run(path, (*args, str(file)), {}, check=False)  # all or nothing
            if status != 0:
                raise WorktreeError(redact(f"git apply refused the change: {err.strip()[-300:]}"))
        fields = [f for f in out.split("\0") if f]
        return tuple(f.split("\t", 2)[-1] for f in fields if f.count("\t") >= 2)

    def drop(self, repo_key: str, ref: str) -> None:
        """Delete `ref` on origin (best effort: a missing ref is no error)."""
        clone = self.worktrees.clones.get(repo_key)
        if clone is None or not ref.startswith(TASK_REF_PREFIX):
            return
        with clone.lock():
            run(
                clone.path,
                ("push", "--porcelain", "origin", f":{ref}"),
                clone.env(network=True),
                check=False,
            )

"""Worktrees on git: a repository of its own per task, its files committed by us, push, rebase.

Layout: the shared clone at `<runtime_dir>/clones/<repo-key>.git`, a task's worktree (the agent's
own repository, borrowing the clone's objects: adapters/git_agent.py) at
`<worktrees_dir>/<repo-key>/<task-id>` on branch `agent/<issue>-<slug>`. The agent's files are
committed by us in the shared clone (`refs/heads/<branch>` there), which is what is pushed; the
agent's own commits, hooks and config never leave its folder. The acceptance proof's scratch
checkout of the base (`scratch`) is a detached repository of the same kind at
`<worktrees_dir>/<repo-key>/<task-id>.proof`. The folders of a run that was killed are cleaned
away when the task is prepared again, never a crash.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.adapters import git_agent, git_outgoing, git_rebase, git_train
from orchestrator.adapters.git_clone import DEFAULT_AUTHOR, CommitAuthor, SharedClone, git_url, run
from orchestrator.config.model import Config, Secret
from orchestrator.core.outbound import OutgoingFile
from orchestrator.core.redact import redact
from orchestrator.core.train import Car, TrainBuild
from orchestrator.core.workspace import (
    BaseCommit,
    CommitOutcome,
    RebaseOutcome,
    Workspace,
    scratch_key,
)
from orchestrator.core.worktree import contained, is_valid_key
from orchestrator.errors import PushRejected, WorktreeError

HISTORY_LIMIT = 5000  # commits `history` reads at most, newest first
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class GitWorktrees:
    """The Worktrees port on real git: every repo it knows is a SharedClone."""

    def __init__(self, clones: Iterable[SharedClone], worktrees_dir: Path) -> None:
        self.clones = {clone.key: clone for clone in clones}
        self.worktrees_dir = worktrees_dir

    @classmethod
    def from_config(cls, config: Config) -> GitWorktrees:
        """Build one shared clone per configured repo, authenticated with the GitHub token."""
        identity = CommitAuthor.parse(config.github.commit_author or DEFAULT_AUTHOR)
        clones_dir = config.paths.runtime_dir / "clones"
        token: Secret | None = config.github.token if config.github.token.value else None
        return cls(
            [
                SharedClone(
                    repo.key,
                    clones_dir / f"{repo.key}.git",
                    git_url(config.github.api_url, repo.github),
                    identity,
                    token,
                    repo.local_path,
                )
                for repo in config.repos
            ],
            config.paths.worktrees_dir,
        )

    # -- the port ----------------------------------------------------------------------------------
    def prepare(
        self, repo_key: str, task_id: str, branch: str, base: str, *, fresh: bool = False
    ) -> Workspace:
        """Check out a worktree for the task.

        It continues origin/<branch> if that exists (unless `fresh`), else starts new from
        origin/<base>. Fetches first; a leftover worktree of this task or branch is removed.
        """
        clone, path = self._clone(repo_key), self._path(repo_key, task_id)
        with clone.lock():
            clone.ensure()
            base_sha = clone.sha(f"refs/remotes/origin/{base}")
            if base_sha is None:
                raise WorktreeError(f"base branch {base!r} not found on origin for repo {repo_key}")
            remote_sha = clone.sha(f"refs/remotes/origin/{branch}")
            start = remote_sha if remote_sha and not fresh else base_sha
            self._clear(clone, path, branch)
            git_agent.remove(self._path(repo_key, proof_key(task_id)))  # a killed proof's scratch
            clone.git("update-ref", f"refs/heads/{branch}", start)
            clone.git("update-ref", "-d", _merging_ref(task_id), check=False)
            git_agent.make(clone, path, branch, start, base, base_sha)
        return Workspace(
            repo_key=repo_key,
            task_id=task_id,
            path=str(path),
            branch=branch,
            base=base,
            base_sha=base_sha,
            start_sha=start,
            remote_sha=remote_sha,
            objects=str(clone.path / "objects"),
        )

    def commit(self, ws: Workspace, message: str) -> CommitOutcome:
        """Commit the files the agent left (not its commits, not the result file) on our branch.

        The commit is made in the shared clone on top of where the task started (and of the base,
        when a merge of it was started); report the diff to the base.
        """
        clone, path = self._clone(ws.repo_key), self._existing(ws)
        merging = clone.sha(_merging_ref(ws.task_id))
        parents = (ws.start_sha, merging) if merging else (ws.start_sha,)
        made = git_agent.take(clone, path, ws.task_id, parents, redact(message), clone.identity)
        sha = made or ws.start_sha
        with clone.lock():
            clone.git("update-ref", f"refs/heads/{ws.branch}", sha)
        return CommitOutcome(
            sha=sha,
            committed=made is not None,
            files=self._changed(clone, ws.base_sha, sha),
            ahead=sha != ws.remote_sha,
        )

    def changes(self, ws: Workspace, sha: str) -> tuple[OutgoingFile, ...]:
        """Return what `sha` changes against the base, each file with its mode, size and bytes."""
        clone = self._clone(ws.repo_key)
        return git_outgoing.changes(clone, _fork_point(clone, ws.base_sha, sha), sha)

    def merge_base(self, ws: Workspace) -> tuple[str, ...]:
        """Start merging origin/<base> into the agent's repository; `commit` concludes it.

        The merge is left uncommitted either way (markers in the files on a conflict), and the
        base is recorded as the second parent of the commit `commit` makes. Returns the paths
        that conflict.
        """
        clone, path = self._clone(ws.repo_key), self._existing(ws)
        status, _, err = run(
            path,
            (
                "-c",
                "merge.conflictStyle=diff3",
                "merge",
                "--no-commit",
                "--no-ff",
                "--no-verify",
                ws.base_sha,
            ),
            clone.env(),
            check=False,
        )
        conflicted = tuple(
            f
            for f in clone.git("diff", "--name-only", "--diff-filter=U", cwd=path).split("\n")
            if f
        )
        if status != 0 and not conflicted:
            run(path, ("merge", "--abort"), clone.env(), check=False)
            raise WorktreeError(
                f"merging {ws.base} into {ws.branch} failed without a conflict: "
                f"{err.strip()[-300:]}"
            )
        with clone.lock():
            clone.git("update-ref", _merging_ref(ws.task_id), ws.base_sha)
        return conflicted

    @staticmethod
    def _changed(clone: SharedClone, base_sha: str, sha: str) -> tuple[str, ...]:
        files = clone.git("diff", "--name-only", "--no-renames", f"{base_sha}...{sha}").split("\n")
        return tuple(f for f in files if f)

    def push(self, ws: Workspace, *, force: bool = False) -> str:
        """Push the worktree's HEAD to origin/<branch>; `force` uses --force-with-lease against the
        remote head the worktree started from. Returns the pushed sha; PushRejected when refused."""
        clone = self._clone(ws.repo_key)
        with clone.lock():
            sha = clone.sha(f"refs/heads/{ws.branch}") or ws.start_sha
            push(clone, clone.path, ws.branch, sha, lease=(ws.remote_sha or "") if force else None)
        return sha

    def rebase(self, repo_key: str, branch: str, base: str) -> RebaseOutcome:
        """Rebase origin/<branch> onto origin/<base> in a scratch worktree: clean -> pushed with
        --force-with-lease; a conflict -> aborted, with the conflicting files and both sides."""
        clone, path = self._clone(repo_key), self._path(repo_key, scratch_key(branch))
        with clone.lock():
            clone.ensure()
            head, base_sha = (
                clone.sha(f"refs/remotes/origin/{branch}"),
                clone.sha(f"refs/remotes/origin/{base}"),
            )
            if head is None or base_sha is None:
                missing = branch if head is None else base
                raise WorktreeError(f"branch {missing!r} not found on origin for repo {repo_key}")
            self._detached(clone, path, head)
        try:
            outcome = git_rebase.replay(clone, path, branch, head, base_sha)
            if outcome.head_sha != head:
                with clone.lock():
                    push(clone, path, branch, outcome.head_sha, lease=head)
            return outcome
        finally:
            with clone.lock():
                self._clear(clone, path, None)

    def build_train(
        self, repo_key: str, repo: str, base: str, branch: str, cars: Sequence[Car]
    ) -> TrainBuild:
        """Fetch, merge `cars` onto origin/<base> in a scratch worktree, and push the result to
        `branch` (replacing what a killed build left there)."""
        clone, path = self._clone(repo_key), self._path(repo_key, scratch_key(branch))
        with clone.lock():
            clone.ensure()
            base_sha = clone.sha(f"refs/remotes/origin/{base}")
            if base_sha is None:
                raise WorktreeError(f"branch {base!r} not found on origin for repo {repo_key}")
            self._detached(clone, path, base_sha)
        try:
            built = git_train.build(clone, path, repo, base_sha, cars)
            if built.merged:
                with clone.lock():
                    there = clone.sha(f"refs/remotes/origin/{branch}") or ""
                    push(clone, path, branch, built.head_sha, lease=there)
            return built
        finally:
            with clone.lock():
                self._clear(clone, path, None)

    def land(self, repo_key: str, base: str, sha: str) -> None:
        """Push `sha` to origin/<base> without force: only a fast-forward lands (PushRejected)."""
        clone = self._clone(repo_key)
        with clone.lock():
            push(clone, clone.path, base, sha, lease=None)

    def scratch(self, ws: Workspace, sha: str, files_from: str, paths: Sequence[str]) -> str:
        """Check out `sha` detached beside the task's worktree, `paths` as `files_from` has them."""
        clone, path = self._clone(ws.repo_key), self._path(ws.repo_key, proof_key(ws.task_id))
        with clone.lock():  # what it reads is in the clone already: no fetch
            git_agent.scratch(clone, path, sha, files_from, paths)
        return str(path)

    def remove_scratch(self, ws: Workspace) -> None:
        """Remove the task's scratch checkout; a missing one is a no-op."""
        git_agent.remove(self._path(ws.repo_key, proof_key(ws.task_id)))

    def remove(self, repo_key: str, task_id: str) -> None:
        """Remove a task's worktree (and its scratch checkout) and prune; the branch stays."""
        clone, path = self._clone(repo_key), self._path(repo_key, task_id)
        with clone.lock():
            self._clear(clone, path, None)
            git_agent.remove(self._path(repo_key, proof_key(task_id)))
            if (clone.path / "HEAD").exists():
                clone.git("update-ref", "-d", _merging_ref(task_id), check=False)

    def history(self, repo_key: str, base: str, since: datetime) -> tuple[BaseCommit, ...]:
        """Fetch, then read origin/<base>'s commits since `since` (newest first, capped)."""
        clone = self._clone(repo_key)
        with clone.lock():
            clone.ensure()
            if clone.sha(f"refs/remotes/origin/{base}") is None:
                raise WorktreeError(f"branch {base!r} not found on origin for repo {repo_key}")
            out = clone.git(
                "log",
                f"--max-count={HISTORY_LIMIT}",
                f"--since={since.isoformat()}",
                "--format=%H%x1f%cI%x1f%B%x1e",
                f"refs/remotes/origin/{base}",
                "--",
                strip=False,
            )
        return tuple(_commits(out))

    # -- helpers -----------------------------------------------------------------------------------
    def _detached(self, clone: SharedClone, path: Path, sha: str) -> None:
        """Check out `sha` detached at `path` (a scratch worktree), replacing a leftover. Call
        under the clone's lock."""
        self._clear(clone, path, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        clone.git("worktree", "add", "-q", "--detach", str(path), sha)

    def _clone(self, repo_key: str) -> SharedClone:
        try:
            return self.clones[repo_key]
        except KeyError:
            raise WorktreeError(
                f"unknown repo {repo_key!r} (known: {', '.join(self.clones)})"
            ) from None

    def _path(self, repo_key: str, name: str) -> Path:
        """Return `<worktrees_dir>/<repo_key>/<name>`; refuse anything that would land outside."""
        if not (is_valid_key(repo_key) and is_valid_key(name)):
            raise WorktreeError(f"unsafe worktree name {repo_key!r}/{name!r}")
        root = os.path.realpath(self.worktrees_dir)
        candidate = os.path.realpath(os.path.join(root, repo_key, name))
        if not contained(root, candidate):
            raise WorktreeError(f"worktree {repo_key}/{name} would lie outside {root}")
        return Path(candidate)

    def _existing(self, ws: Workspace) -> Path:
        path = self._path(ws.repo_key, Path(ws.path).name)
        if str(path) != ws.path or path.is_symlink() or not (path / ".git").is_dir():
            raise WorktreeError(f"worktree {ws.path} is gone (task {ws.task_id})")
        return path

    def _clear(self, clone: SharedClone, path: Path, branch: str | None) -> None:
        """Remove the folder at `path`, any other task's on `branch`, and registered worktrees.

        Registered worktrees are the rebase's scratch ones (and those of versions before each
        task had a repository of its own).
        """
        git_agent.remove(path)
        if branch is not None:
            for other in git_agent.sibling_folders(path.parent):
                if git_agent.holds(other, branch):
                    git_agent.remove(other)
        if not (clone.path / "HEAD").exists():
            return
        clone.git("worktree", "prune")
        ref = f"refs/heads/{branch}" if branch else None
        for found, checked_out in clone.worktrees():
            if os.path.realpath(found) == str(path) or (ref is not None and checked_out == ref):
                clone.git("worktree", "remove", "--force", "--force", str(found), check=False)
                if contained(os.path.realpath(self.worktrees_dir), os.path.realpath(found)):
                    shutil.rmtree(found, ignore_errors=True)
        git_agent.remove(path)
        clone.git("worktree", "prune")


def _commits(out: str) -> list[BaseCommit]:
    """Parse `git log --format=%H%x1f%cI%x1f%B%x1e` (a record per commit, fields apart)."""
    commits = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f", 2)
        if len(fields) != 3 or not _SHA.fullmatch(fields[0]):
            continue  # a message carrying the separators itself: skipped, never a crash
        try:
            commits.append(BaseCommit(fields[0], datetime.fromisoformat(fields[1]), fields[2]))
        except ValueError:
            continue
    return commits


def proof_key(task_id: str) -> str:
    """The folder of a task's scratch checkout for the acceptance proof: `app-3-g1-a1.proof`."""
    return f"{task_id}.proof"


def _merging_ref(task_id: str) -> str:
    """The ref recording the base a task's merge started from: the second parent of its commit."""
    return f"refs/agentos/merging/{task_id}"


def _fork_point(clone: SharedClone, base_sha: str, sha: str) -> str:
    return clone.git("merge-base", base_sha, sha, check=False).strip() or base_sha


def push(clone: SharedClone, path: Path, branch: str, sha: str, lease: str | None) -> None:
    """Push `sha` to refs/heads/<branch>.

    With `lease`, only if the remote still holds that sha ("" = absent).
    """
    args = ["push", "--porcelain", "origin"]
    if lease is not None:
        args.append(f"--force-with-lease=refs/heads/{branch}:{lease}")
    args.append(f"{sha}:refs/heads/{branch}")
    status, out, err = run(path, args, clone.env(network=True), check=False)
    if status == 0:
        return
    refused = [line for line in out.splitlines() if line.startswith("!")]
    if refused:
        reason = refused[0].split("\t")[-1].strip()
        raise PushRejected(branch, redact(reason))
    raise WorktreeError(redact(f"git push of {branch} failed: {err.strip()[-500:]}"))

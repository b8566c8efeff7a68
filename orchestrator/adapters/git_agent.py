"""The agent's own repository, and taking its files (never its git) back into the shared clone.

An agent gets a repository of its own at its worktree path: `git init` with no template (so no
sample hooks), the shared clone's object store borrowed through `objects/info/alternates` (as
`git clone --shared` does, costing no copy), the task's branch checked out. Git works inside the
agent's sandbox, where a linked worktree's pointer into the shared clone would not, and nothing
the agent writes there (hooks, config, attributes, filters, refs, commits) is ever read by a git
command that holds the token.

Afterwards the orchestrator reads the agent's *files* with its own git: the shared clone as the
git directory, the agent's folder as the work tree, a private index. `.git` at the top of the
folder is never read; an embedded repository further down becomes a gitlink, which the outbound
gate refuses. The commit, its parents and its message are ours.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from orchestrator.adapters.git_clone import CommitAuthor, SharedClone, run
from orchestrator.core.workspace import RESULT_FILE

AGENT_NAME = "Agent"
AGENT_EMAIL = "agent@agentos.invalid"  # the agent's own commits, which are never pushed


def make(clone: SharedClone, path: Path, branch: str, start: str, base: str, base_sha: str) -> None:
    """Create the agent's repository at `path` on `branch` at `start`; call under the clone lock.

    `origin/<base>` names the base commit, so the agent can diff against it.
    """
    env = _init(clone, path)
    git_dir = path / ".git"
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "exclude").write_text(
        f"# Agent OS: the agent's result contract\n/{RESULT_FILE}\n"
    )
    for key, value in (("user.name", AGENT_NAME), ("user.email", AGENT_EMAIL)):
        run(path, ("config", key, value), env)
    run(path, ("update-ref", f"refs/heads/{branch}", start), env)
    run(path, ("update-ref", f"refs/remotes/origin/{base}", base_sha), env)
    run(path, ("symbolic-ref", "HEAD", f"refs/heads/{branch}"), env)
    run(path, ("reset", "-q", "--hard", "HEAD"), env)


def scratch(
    clone: SharedClone, path: Path, sha: str, files_from: str, paths: Sequence[str]
) -> None:
    """Create a repository at `path` checked out detached at `sha`, with each of `paths` as commit
    `files_from` has it (removed where it has none): the base with the head's test files."""
    env = {**_init(clone, path), "GIT_LITERAL_PATHSPECS": "1"}
    run(path, ("update-ref", "--no-deref", "HEAD", sha), env)
    run(path, ("reset", "-q", "--hard", "HEAD"), env)
    if not paths:
        return
    listed = run(path, ("ls-tree", "-r", "-z", "--name-only", files_from, "--", *paths), env)[1]
    present = set(listed.split("\0")) - {""}
    if present:
        run(path, ("checkout", "-q", files_from, "--", *sorted(present)), env)
    gone = [p for p in paths if p not in present]
    if gone:
        run(path, ("rm", "-q", "-r", "--ignore-unmatch", "--", *gone), env)


def _init(clone: SharedClone, path: Path) -> dict[str, str]:
    """Make an empty repository at `path` borrowing the clone's objects; return git's env."""
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = clone.env()
    run(path.parent, ("init", "-q", "--template=", str(path)), env)
    alternates = path / ".git" / "objects" / "info"
    alternates.mkdir(parents=True, exist_ok=True)
    (alternates / "alternates").write_text(f"{clone.path / 'objects'}\n")
    return env


def index_file(clone: SharedClone, task_id: str) -> Path:
    """Return the private index the orchestrator reads a task's files into."""
    return clone.path / "agentos" / f"{task_id}.index"


def take(
    clone: SharedClone,
    path: Path,
    task_id: str,
    parents: tuple[str, ...],
    message: str,
    author: CommitAuthor,
) -> str | None:
    """Commit the files in `path` on top of `parents` in the shared clone; return the new commit.

    None when the files are exactly the first parent's tree and there is no second parent.
    """
    index = index_file(clone, task_id)
    index.parent.mkdir(parents=True, exist_ok=True)
    index.unlink(missing_ok=True)
    env = {**clone.env(), "GIT_INDEX_FILE": str(index)}
    outside = ("--git-dir", str(clone.path), "--work-tree", str(path))
    try:
        run(path, (*outside, "read-tree", parents[0]), env)
        run(path, (*outside, "add", "-A", "--", "."), env)
        run(path, (*outside, "rm", "-q", "--cached", "--ignore-unmatch", "--", RESULT_FILE), env)
        tree = run(path, (*outside, "write-tree"), env)[1].strip()
    finally:
        index.unlink(missing_ok=True)
    first_tree = clone.git("rev-parse", f"{parents[0]}^{{tree}}").strip()
    if tree == first_tree and len(parents) == 1:
        return None
    identity = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    args += ["-m", message]
    return run(clone.path, args, {**clone.env(), **identity})[1].strip()


def remove(path: Path) -> None:
    """Delete the agent's repository (its files and its .git); a missing one is a no-op."""
    if path.is_symlink():
        path.unlink()
    shutil.rmtree(path, ignore_errors=True)


def holds(path: Path, branch: str) -> bool:
    """Tell whether the repository at `path` has `branch` checked out (read as text, never run)."""
    try:
        head = (path / ".git" / "HEAD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return head.strip() == f"ref: refs/heads/{branch}"


def sibling_folders(folder: Path) -> list[Path]:
    """Return the task folders of one repo's worktrees folder."""
    try:
        return [Path(entry.path) for entry in os.scandir(folder) if entry.is_dir()]
    except OSError:
        return []

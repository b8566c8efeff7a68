"""Where a Worktrees contract test runs: a bare repo on disk, or the GitHub sandbox.

The sandbox is reached over smart HTTP with a token.

Both arrange the remote the way a human would (commits pushed from a separate clone with the
real git CLI), so the adapter under test is the only thing that uses GitWorktrees.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Protocol

from orchestrator.adapters.git import GitWorktrees
from orchestrator.adapters.git_clone import CommitAuthor, SharedClone, git_url
from orchestrator.config.model import Secret
from orchestrator.sandbox.github import Sandbox

BOT = CommitAuthor("Agent OS Test", "agentos-test@example.com")
_NAMES = itertools.count(1)


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    """Run the real git CLI; return stdout + stderr.

    The environment is isolated by the test fixture.
    """
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout + ("" if check else done.stderr)


class Remote:
    """One remote repository and a human's working clone of it."""

    def __init__(self, key: str, url: str, human: Path) -> None:
        self.key, self.url, self.human = key, url, human

    def commit(
        self, branch: str, files: dict[str, str | None], message: str, *, start: str = "main"
    ) -> str:
        """Commit `files` on top of origin/<branch> and push; return the sha.

        A None in `files` deletes that file; a new branch starts from `start`.
        """
        git("fetch", "-q", "origin", cwd=self.human)
        exists = git("ls-remote", "--heads", "origin", branch, cwd=self.human).strip()
        git("checkout", "-q", "-B", branch, f"origin/{branch if exists else start}", cwd=self.human)
        for name, text in files.items():
            target = self.human / name
            if text is None:
                git("rm", "-q", name, cwd=self.human)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            git("add", name, cwd=self.human)
        git("commit", "-q", "-m", message, cwd=self.human)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.human)
        return self.sha(branch) or ""

    def sha(self, branch: str) -> str | None:
        out = git("ls-remote", "origin", f"refs/heads/{branch}", cwd=self.human).split()
        return out[0] if out else None

    def show(self, ref: str, name: str) -> str:
        git("fetch", "-q", "origin", cwd=self.human)
        return git("show", f"origin/{ref}:{name}", cwd=self.human)

    def log(self, ref: str) -> list[str]:
        git("fetch", "-q", "origin", cwd=self.human)
        return git("log", "--format=%s", f"origin/{ref}", cwd=self.human).split("\n")[:-1]


class GitWorld(Protocol):
    name: str
    root: Path
    token: str | None

    def new_remote(self) -> Remote: ...
    def worktrees(self, *remotes: Remote, seed: Path | None = None) -> GitWorktrees: ...


class LocalWorld:
    """A bare repository on disk as `origin`: no network, no token."""

    name, token = "local", None

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_remote(self) -> Remote:
        key = f"repo{next(_NAMES)}"
        bare = self.root / "remotes" / f"{key}.git"
        git("init", "-q", "--bare", "--initial-branch=main", str(bare))
        return _seeded(key, str(bare), self.root)

    def worktrees(self, *remotes: Remote, seed: Path | None = None) -> GitWorktrees:
        clones = [
            SharedClone(
                r.key, self.root / "runtime" / "clones" / f"{r.key}.git", r.url, BOT, seed=seed
            )
            for r in remotes
        ]
        return GitWorktrees(clones, self.root / "worktrees")


class SandboxWorld:
    """The GitHub sandbox's git smart HTTP: the adapter authenticates with the token in a header."""

    name = "sandbox"

    def __init__(self, sandbox: Sandbox, root: Path) -> None:
        self.sandbox, self.root, self.token = sandbox, root, sandbox.token

    def new_remote(self) -> Remote:
        key = f"repo{next(_NAMES)}"
        self.sandbox.create_repo(f"agentos/{key}", auto_init=False)
        remote = _seeded(key, self.sandbox.clone_url(f"agentos/{key}"), self.root)
        # what the adapter gets: no token in it
        remote.url = git_url(self.sandbox.api_url, f"agentos/{key}")
        return remote

    def worktrees(
        self, *remotes: Remote, seed: Path | None = None, token: str | None = None
    ) -> GitWorktrees:
        secret = Secret("GITHUB_TOKEN", token or self.token)
        clones = [
            SharedClone(
                r.key, self.root / "runtime" / "clones" / f"{r.key}.git", r.url, BOT, secret, seed
            )
            for r in remotes
        ]
        return GitWorktrees(clones, self.root / "worktrees")


def _seeded(key: str, url: str, root: Path) -> Remote:
    """Give a new remote a first commit on main, from a human's clone.

    The clone keeps a token URL: test only.
    """
    human = root / "humans" / key
    git("init", "-q", "--initial-branch=main", str(human))
    git("remote", "add", "origin", url, cwd=human)
    (human / "README.md").write_text(f"# {key}\n")
    (human / "greet.py").write_text("def greet():\n    return 'hello'\n")
    git("add", "README.md", "greet.py", cwd=human)
    git("commit", "-q", "-m", "Initial commit", cwd=human)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=human)
    return Remote(key, url, human)

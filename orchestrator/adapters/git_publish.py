"""Commit a few files to a repository's branch and push them, with GitPython, in a throwaway clone.

The token travels in an `http.extraHeader` set through git's environment (GIT_CONFIG_*), so it
is in no command line, no remote URL and no file in the clone.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from git import Actor, GitCommandError, Repo

from orchestrator.adapters.github_errors import one_line
from orchestrator.errors import TrackerError
from orchestrator.ports_init import Edit

_PASSED = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
)


def git_environment(token: str) -> dict[str, str]:
    """Return the environment git runs with: no prompts, no system config, the token as a header."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    env = {name: os.environ[name] for name in _PASSED if name in os.environ}
    return env | {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ASKPASS": "true",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def publish(
    clone_url: str, branch: str, token: str, edits: Mapping[str, Edit], message: str, *, author: str
) -> bool:
    """Apply `edits` on top of `branch` and push one commit; return False when nothing changed."""
    env = git_environment(token)
    with tempfile.TemporaryDirectory(prefix="agentos-init-") as tmp:
        try:
            repo = Repo.clone_from(clone_url, Path(tmp) / "repo", env=env, depth=1, no_tags=True)
            with repo.git.custom_environment(**env):
                return _commit_and_push(repo, branch, edits, message, author)
        except GitCommandError as error:
            detail = one_line(str(error.stderr or error))[:300]
            raise TrackerError(f"git could not publish to {_plain(clone_url)}: {detail}") from None


def _commit_and_push(
    repo: Repo, branch: str, edits: Mapping[str, Edit], message: str, author: str
) -> bool:
    root = Path(str(repo.working_tree_dir))
    empty = not repo.heads  # a repository with no commit yet: the first one makes the branch
    if empty:
        repo.git.checkout("--orphan", branch)
    elif repo.active_branch.name != branch:
        repo.git.checkout("-B", branch, f"origin/{branch}")
    changed = []
    for name, edit in edits.items():
        path = root / name
        before = path.read_text(encoding="utf-8") if path.is_file() else None
        after = edit(before)
        if after != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(after, encoding="utf-8")
            changed.append(name)
    if not changed:
        return False
    repo.index.add(changed)
    who = Actor(author, f"{author}@users.noreply.github.com")
    repo.index.commit(message, author=who, committer=who)
    repo.remote("origin").push(f"HEAD:refs/heads/{branch}").raise_if_error()
    return True


def _plain(url: str) -> str:
    """Return the URL without any credentials in it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else url

"""The real git CLI over smart HTTP.

Token auth, clone, push, and what pushes change in the REST API.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import httpx
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git


def test_clone_push_and_the_api_sees_the_branch(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    assert (clone / "README.md").read_text().startswith("# backlog")
    git("checkout", "-q", "-b", "agent/7-fix", cwd=clone)
    (clone / "fix.py").write_text("print('fixed')\n")
    git("add", "fix.py", cwd=clone)
    git("commit", "-q", "-m", "Fix it", cwd=clone)
    git("push", "-q", "origin", "agent/7-fix", cwd=clone)
    sha = git("rev-parse", "HEAD", cwd=clone).strip()
    assert repo.get_branch("agent/7-fix").commit.sha == sha
    git("push", "-q", "origin", "--delete", "agent/7-fix", cwd=clone)
    assert "agent/7-fix" not in [b.name for b in repo.get_branches()]


def test_bearer_and_basic_token_forms(
    sandbox: Sandbox, repo: Repository, git: Git, tmp_path: Path
) -> None:
    url = f"{sandbox.base_url}/{repo.full_name}.git"
    out = git("-c", f"http.extraHeader=Authorization: Bearer {sandbox.token}", "ls-remote", url)
    assert "refs/heads/main" in out
    assert "refs/heads/main" in git("ls-remote", sandbox.clone_url(repo.full_name))


def test_wrong_token_is_refused(sandbox: Sandbox, repo: Repository, clone: Path, git: Git) -> None:
    bad = f"http://x-access-token:wrong@127.0.0.1:{sandbox.port}/{repo.full_name}.git"
    out = git("ls-remote", bad, check=False)
    assert "Authentication failed" in out
    git("remote", "set-url", "origin", bad, cwd=clone)
    git("commit", "-q", "--allow-empty", "-m", "nope", cwd=clone)
    out = git("push", "origin", "HEAD:refs/heads/nope", cwd=clone, check=False)
    assert "Authentication failed" in out
    assert "nope" not in [b.name for b in repo.get_branches()]


def test_reader_can_fetch_but_not_push(
    sandbox: Sandbox, repo: Repository, git: Git, tmp_path: Path
) -> None:
    token = sandbox.add_user("reader")
    path = tmp_path / "reader"
    git("clone", "-q", sandbox.clone_url(repo.full_name, token), str(path))
    git("commit", "-q", "--allow-empty", "-m", "nope", cwd=path)
    out = git("push", "origin", "HEAD:refs/heads/nope", cwd=path, check=False)
    assert "Permission to agentos/backlog.git denied to reader" in out


def test_unknown_repository(sandbox: Sandbox, git: Git) -> None:
    out = git("ls-remote", sandbox.clone_url("agentos/missing"), check=False)
    assert "not found" in out


def test_large_push_uses_chunked_transfer(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    """Over http.postBuffer (1 MiB) git streams the pack with chunked encoding."""
    (clone / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    git("add", "big.bin", cwd=clone)
    git("commit", "-q", "-m", "Big", cwd=clone)
    git("push", "-q", "origin", "HEAD:refs/heads/big", cwd=clone)
    assert repo.get_branch("big").commit.sha == git("rev-parse", "HEAD", cwd=clone).strip()


def test_gzip_request_bodies_are_decoded(sandbox: Sandbox, repo: Repository) -> None:
    body = gzip.compress(json.dumps({"title": "zipped"}).encode())
    response = httpx.post(
        f"{sandbox.api_url}/repos/{repo.full_name}/issues",
        content=body,
        headers={
            "Authorization": f"token {sandbox.token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 201 and response.json()["title"] == "zipped"


def test_a_push_from_a_shallow_clone_updates_the_branch(
    sandbox: Sandbox, repo: Repository, git: Git, tmp_path: Path
) -> None:
    """A shallow clone's push starts with `shallow <sha>` lines.

    The sandbox once crashed on them (HTTP 500).
    """
    path = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", sandbox.clone_url(repo.full_name), str(path))
    git("commit", "-q", "--allow-empty", "-m", "From a shallow clone", cwd=path)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=path)
    assert repo.get_branch("main").commit.sha == git("rev-parse", "HEAD", cwd=path).strip()
    assert not sandbox.violations

"""The contents API reads files and directories at a ref from the sandbox's git repositories."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest
from github import GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.recordings import octokit
from tests.sandbox.github.helpers import Git, commit, missing_keys, push_branch


def auth(sandbox: Sandbox, accept: str = "application/vnd.github+json") -> dict[str, str]:
    return {"Authorization": f"token {sandbox.token}", "Accept": accept}


@pytest.fixture
def tree(repo: Repository, clone: Path, git: Git) -> str:
    """main gains docs/a.md, docs/sub/b.md, a binary file and two symlinks; returns its sha."""
    (clone / "docs" / "sub").mkdir(parents=True)
    (clone / "docs" / "sub" / "b.md").write_text("bee\n")
    (clone / "logo.bin").write_bytes(bytes(range(256)))
    os.symlink("../README.md", clone / "docs" / "readme-link")
    os.symlink("/etc/passwd", clone / "docs" / "outside")
    git("add", "-A", cwd=clone)
    sha = commit(git, clone, "docs/a.md", "# A\n", "Add docs")
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    return sha


def test_a_file_is_base64_with_githubs_fields(sandbox: Sandbox, repo: Repository) -> None:
    readme = repo.get_contents("README.md")
    assert readme.decoded_content == b"# backlog\n\nA sandbox repo\n"
    assert (readme.type, readme.encoding, readme.size, readme.name) == (
        "file",
        "base64",
        26,
        "README.md",
    )
    assert readme.url == f"{sandbox.api_url}/repos/agentos/backlog/contents/README.md?ref=main"
    assert readme.git_url.endswith(f"/git/blobs/{readme.sha}")
    assert readme.html_url == f"{sandbox.base_url}/agentos/backlog/blob/main/README.md"
    download = httpx.get(readme.download_url, headers=auth(sandbox))
    assert (download.status_code, download.content) == (200, b"# backlog\n\nA sandbox repo\n")


def test_content_lines_are_60_characters_as_githubs(
    sandbox: Sandbox, repo: Repository, tree: str
) -> None:
    body = httpx.get(
        f"{sandbox.api_url}/repos/agentos/backlog/contents/logo.bin", headers=auth(sandbox)
    ).json()
    lines = body["content"].split("\n")
    assert {len(line) for line in lines[:-2]} == {60} and lines[-1] == ""
    assert base64.b64decode(body["content"]) == bytes(range(256))


def test_directories_list_their_entries(repo: Repository, tree: str) -> None:
    docs = repo.get_contents("docs")
    assert [(c.path, c.type) for c in docs] == [
        ("docs/a.md", "file"),
        ("docs/outside", "symlink"),
        ("docs/readme-link", "symlink"),
        ("docs/sub", "dir"),
    ]
    sub = next(c for c in docs if c.type == "dir")
    assert (sub.size, sub.download_url) == (0, None)
    assert sub.html_url.endswith("/agentos/backlog/tree/main/docs/sub")
    assert [c.path for c in repo.get_contents("")] == ["README.md", "docs", "logo.bin"]
    assert [c.path for c in repo.get_contents("docs/sub/")] == ["docs/sub/b.md"]


def test_the_root_is_served_with_and_without_the_slash(sandbox: Sandbox, repo: Repository) -> None:
    for path in ("contents", "contents/"):
        response = httpx.get(
            f"{sandbox.api_url}/repos/agentos/backlog/{path}", headers=auth(sandbox)
        )
        assert [e["name"] for e in response.json()] == ["README.md"]


def test_a_symlink_to_a_file_in_the_repository_answers_that_file(
    repo: Repository, tree: str
) -> None:
    followed = repo.get_contents("docs/readme-link")
    assert (followed.type, followed.path) == ("file", "README.md")
    outside = repo.get_contents("docs/outside")
    assert (outside.type, outside.raw_data["target"]) == ("symlink", "/etc/passwd")


def test_ref_names_a_branch_a_tag_or_a_commit(
    repo: Repository, clone: Path, git: Git, tree: str
) -> None:
    push_branch(git, clone, "agent/7-x", "feature.txt", "on the branch\n")
    assert repo.get_contents("feature.txt", ref="agent/7-x").decoded_content == b"on the branch\n"
    assert repo.get_contents("docs/a.md", ref=tree).decoded_content == b"# A\n"
    with pytest.raises(GithubException) as raised:
        repo.get_contents("feature.txt")
    assert (raised.value.status, raised.value.data["message"]) == (404, "Not Found")
    with pytest.raises(GithubException) as raised:
        repo.get_contents("README.md", ref="nope")
    assert raised.value.data["message"] == "No commit found for the ref nope"


def test_an_empty_repository_says_so(sandbox: Sandbox) -> None:
    sandbox.create_repo("agentos/empty", auto_init=False)
    response = httpx.get(f"{sandbox.api_url}/repos/agentos/empty/contents/", headers=auth(sandbox))
    assert (response.status_code, response.json()["message"]) == (404, "This repository is empty.")


def test_the_raw_media_type_answers_the_bytes(sandbox: Sandbox, repo: Repository) -> None:
    response = httpx.get(
        f"{sandbox.api_url}/repos/agentos/backlog/contents/README.md",
        headers=auth(sandbox, "application/vnd.github.v3.raw"),
    )
    assert response.content == b"# backlog\n\nA sandbox repo\n"
    assert response.headers["Content-Type"] == "application/vnd.github.v3.raw; charset=utf-8"


@pytest.mark.parametrize(
    "accept", ["application/vnd.github.html+json", "application/vnd.github.object"]
)
def test_media_types_not_implemented_are_501(
    sandbox: Sandbox, repo: Repository, accept: str
) -> None:
    response = httpx.get(
        f"{sandbox.api_url}/repos/agentos/backlog/contents/README.md",
        headers=auth(sandbox, accept),
    )
    assert response.status_code == 501 and accept in response.json()["message"]


def test_a_file_over_1_mb_is_githubs_403_too_large(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    commit(git, clone, "big.txt", "x" * (1024 * 1024 + 1), "Big")
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    with pytest.raises(GithubException) as raised:
        repo.get_contents("big.txt")
    assert raised.value.status == 403
    assert raised.value.data["errors"] == [
        {"resource": "Blob", "field": "data", "code": "too_large"}
    ]


def test_a_listing_has_the_keys_github_sent(sandbox: Sandbox, repo: Repository) -> None:
    real = octokit("get-content", "get", r"/repos/[^/]+/[^/]+/contents/")
    ours = httpx.get(f"{sandbox.api_url}/repos/agentos/backlog/contents/", headers=auth(sandbox))
    assert missing_keys(real, ours.json()) == []


# Dots encoded, or httpx would resolve them before sending.
@pytest.mark.parametrize("path", ["%2E%2E/etc/passwd", "%2E%2E%2F%2E%2E", "docs/%2E/a.md", "%00"])
def test_a_path_no_tree_can_hold_is_not_found(
    sandbox: Sandbox, repo: Repository, path: str
) -> None:
    """ "../x" once reached git, which refused it: a 500 (GitError) instead of GitHub's 404."""
    response = httpx.get(
        f"{sandbox.api_url}/repos/agentos/backlog/contents/{path}", headers=auth(sandbox)
    )
    assert (response.status_code, response.json()["message"]) == (404, "Not Found")

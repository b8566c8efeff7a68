"""GitWorktrees beyond the contract.

Where the token goes (nowhere it stays), auth failures, retries, wiring.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tenacity import wait_none

from orchestrator.adapters.git import GitWorktrees
from orchestrator.adapters.git_clone import CommitAuthor, SharedClone, git_url, run
from orchestrator.config.load import load_config
from orchestrator.errors import WorktreeError
from orchestrator.sandbox.github import Sandbox
from orchestrator.wiring import real_deps
from tests.contract.gitworlds import Remote, SandboxWorld, git
from tests.contract.test_worktrees import _isolated_git, agent_edits  # noqa: F401 (fixture)
from tests.helpers import minimal_config, write_config
from tests.support.github_sandbox import running_sandbox


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tenacity's retries, drop its back-off waits."""
    monkeypatch.setattr(SharedClone.fetch.retry, "wait", wait_none())  # type: ignore[attr-defined]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        yield sandbox


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> SandboxWorld:
    return SandboxWorld(sandbox, tmp_path)


@pytest.fixture
def remote(world: SandboxWorld) -> Remote:
    return world.new_remote()


def files_under(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name


def test_the_token_lands_in_no_file_no_remote_and_no_environment(
    world: SandboxWorld, remote: Remote, sandbox: Sandbox
) -> None:
    trees = world.worktrees(remote)
    ws = trees.prepare(remote.key, "repo-7-g1-a1", "agent/7-x", "main")
    agent_edits(ws.path, {"x.txt": "x\n"})
    trees.commit(ws, "X")
    trees.push(ws)
    trees.rebase(remote.key, "agent/7-x", "main")
    token = sandbox.token.encode()
    leaks = [
        p
        for root in (trees.clones[remote.key].path, Path(ws.path), world.root / "worktrees")
        for p in files_under(root)
        if p.is_file() and token in p.read_bytes()
    ]
    assert not leaks
    assert sandbox.token not in git("remote", "-v", cwd=Path(ws.path))
    assert not [k for k, v in os.environ.items() if sandbox.token in v]
    assert any(
        r.path.endswith("/git-receive-pack") and r.login == "agentos" for r in sandbox.requests
    )


def test_a_wrong_token_fails_at_once_with_a_message_that_does_not_carry_it(
    world: SandboxWorld, remote: Remote
) -> None:
    bad = "ghp_" + "x" * 36
    trees = world.worktrees(remote, token=bad)
    started = time.monotonic()
    with pytest.raises(WorktreeError, match="git fetch failed") as caught:
        trees.prepare(remote.key, "repo-7-g1-a1", "agent/7-x", "main")
    assert time.monotonic() - started < 5  # not retried: only network hiccups are
    assert bad not in str(caught.value)


def test_a_developers_curl_tracing_still_leaks_no_token(
    world: SandboxWorld, remote: Remote, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CURL_VERBOSE", "1")
    monkeypatch.setenv("GIT_TRACE_REDACT", "0")
    clone = world.worktrees(remote).clones[remote.key]
    basic = base64.b64encode(f"x-access-token:{sandbox.token}".encode()).decode()
    _, _, err = run(
        clone.path.parent, ("ls-remote", clone.url), clone.env(network=True), check=False
    )
    assert "Authorization: Basic <redacted>" in err
    assert sandbox.token not in err and basic not in err
    sandbox.add_fault("error", path=f"/agentos/{remote.key}.git/*", status=500, times=10)
    with pytest.raises(WorktreeError) as caught:
        world.worktrees(remote).prepare(remote.key, "repo-7-g1-a1", "agent/7-x", "main")
    assert sandbox.token not in str(caught.value) and basic not in str(caught.value)


def test_a_reader_cannot_push_and_gets_a_worktree_error(
    world: SandboxWorld, remote: Remote, sandbox: Sandbox
) -> None:
    reader = sandbox.add_user("reader")
    trees = world.worktrees(remote, token=reader)
    ws = trees.prepare(remote.key, "repo-7-g1-a1", "agent/7-x", "main")
    agent_edits(ws.path, {"x.txt": "x\n"})
    trees.commit(ws, "X")
    with pytest.raises(WorktreeError, match="push of agent/7-x failed") as caught:
        trees.push(ws)
    assert reader not in str(caught.value)


def test_a_server_error_while_fetching_is_retried(
    world: SandboxWorld, remote: Remote, sandbox: Sandbox
) -> None:
    trees = world.worktrees(remote)
    sandbox.clear_requests()
    sandbox.add_fault("error", path=f"/agentos/{remote.key}.git/info/refs", status=502, times=1)
    ws = trees.prepare(remote.key, "repo-7-g1-a1", "agent/7-x", "main")
    assert [r.status for r in sandbox.requests if "/info/refs" in r.path] == [502, 200]
    assert ws.base_sha == remote.sha("main")


def test_wiring_builds_worktrees_from_the_config(
    tmp_path: Path, sandbox: Sandbox, world: SandboxWorld, remote: Remote
) -> None:
    data = minimal_config(
        repos=[{"key": "app", "github": f"agentos/{remote.key}"}],
        github={
            "token": "$GITHUB_TOKEN",
            "api_url": sandbox.api_url,
            "commit_author": "Robot <robot@example.com>",
        },
    )
    config = load_config(write_config(tmp_path, data), {"GITHUB_TOKEN": sandbox.token})
    trees = real_deps(config, None).worktrees  # type: ignore[arg-type]
    assert isinstance(trees.inner, GitWorktrees)  # behind adapters.audited's recorder
    ws = trees.prepare("app", "app-7-g1-a1", "agent/7-x", "main")
    assert ws.path.startswith(str(config.paths.worktrees_dir.resolve()))
    agent_edits(ws.path, {"x.txt": "x\n"})
    done = trees.commit(ws, "X")
    assert trees.push(ws) == remote.sha("agent/7-x") == done.sha
    clone = trees.clones["app"].path
    assert (
        git("log", "-1", "--format=%an <%ae>", done.sha, cwd=clone).strip()
        == "Robot <robot@example.com>"
    )


@pytest.mark.parametrize(
    "api_url, expected",
    [
        ("https://api.github.com", "https://github.com/acme/app.git"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/acme/app.git"),
        ("http://127.0.0.1:8765/api/v3", "http://127.0.0.1:8765/acme/app.git"),
    ],
)
def test_clone_urls_follow_the_api_host(api_url: str, expected: str) -> None:
    assert git_url(api_url, "acme/app") == expected


@pytest.mark.parametrize("text", ["Robot", "<a@b>", "Robot <nope>", "Robot <a@b> x>"])
def test_a_malformed_identity_is_named(text: str) -> None:
    with pytest.raises(ValueError, match='expected "Name <email>"'):
        CommitAuthor.parse(text)

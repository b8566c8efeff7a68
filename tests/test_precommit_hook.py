"""Tests for hooks/pre-commit: real commits in temporary repositories, refused or let through."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.core.test_redact import ALNUM36, SAFE_TEXTS, SAMPLES, Sample

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "hooks"
TOKEN = "ghp_" + ALNUM36


class Repo:
    """A throwaway git repository whose commits go through a pre-commit hook."""

    def __init__(self, path: Path, hooks: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Agent OS tests")
        self.git("config", "user.email", "tests@agentos.invalid")
        self.git("config", "core.hooksPath", str(hooks))

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        # Drop GIT_* so a test run from inside a git hook cannot touch the outer repository.
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        return subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, timeout=60
        )

    def write(self, name: str, content: str | bytes) -> None:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, newline="")

    def commit(
        self, *files: tuple[str, str | bytes], verify: bool = True
    ) -> subprocess.CompletedProcess[str]:
        for name, content in files:
            self.write(name, content)
        self.git("add", "-A")
        return self.git("commit", "-q", "-m", "change", *([] if verify else ["--no-verify"]))

    def commits(self) -> int:
        result = self.git("rev-list", "--count", "HEAD")
        return int(result.stdout) if result.returncode == 0 else 0


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo", HOOKS)


def _refused(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 1 and "git commit --no-verify" in result.stderr


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_each_secret_shape_blocks_the_commit_without_showing_it(repo: Repo, sample: Sample) -> None:
    result = repo.commit(("notes.txt", "first line\nsecond line\n" + sample.text + "\n"))
    line = 3 + sample.before.count("\n")
    assert _refused(result)
    assert (
        f"pre-commit: notes.txt:{line}: {sample.label} (secret not shown; fingerprint "
        in result.stderr
    )
    assert sample.secret not in result.stderr + result.stdout
    assert repo.commits() == 0


@pytest.mark.parametrize(
    "path",
    [
        "config.yaml",
        "config.yml",
        "config.yaml.bak.20260501T100003",
        ".env",
        "deploy/.env",
        ".env.production",
        "objectives/ship-v1.yaml",
        "objectives/ship-v1.yml",
        ".agent_result.md",
        "runtime/worktrees/412/.agent_result.md",
    ],
)
def test_local_files_are_refused(repo: Repo, path: str) -> None:
    result = repo.commit((path, "harmless: true\n"))
    assert _refused(result)
    assert f"pre-commit: {path}: " in result.stderr
    assert repo.commits() == 0


@pytest.mark.parametrize(
    "path",
    [
        "objectives/example.yaml",
        "objectives/ship-v1.md",
        "config.example.yaml",
        ".env.example",
        "docs/config.yaml",
    ],
)
def test_templates_and_look_alikes_are_committed(repo: Repo, path: str) -> None:
    assert repo.commit((path, "harmless: true\n")).returncode == 0
    assert repo.commits() == 1


def test_modifying_a_config_file_already_in_history_is_refused(repo: Repo) -> None:
    repo.commit(("config.yaml", "limits: {}\n"), verify=False)
    result = repo.commit(("config.yaml", "limits: {max_running_tasks: 2}\n"))
    assert _refused(result)
    assert "pre-commit: config.yaml: local config" in result.stderr


def test_a_clean_commit_passes_silently(repo: Repo) -> None:
    result = repo.commit(("README.md", "# Agent OS\n\nRuns a GitHub backlog with coding agents.\n"))
    assert (result.returncode, result.stderr) == (0, "")


def test_shas_uuids_and_other_ordinary_text_pass(repo: Repo) -> None:
    assert repo.commit(("corpus.txt", "\n".join(SAFE_TEXTS.values()) + "\n")).returncode == 0


def test_the_line_number_points_into_the_modified_file(repo: Repo) -> None:
    repo.commit(("app.py", "one\ntwo\nthree\nfour\nfive\n"))
    result = repo.commit(("app.py", f"one\ntwo\nthree\nTOKEN = '{TOKEN}'\nfour\nfive\n"))
    assert "pre-commit: app.py:4: github-token (secret not shown; fingerprint " in result.stderr


def test_removing_a_line_that_holds_a_token_is_allowed(repo: Repo) -> None:
    """Only added lines count.

    Cleaning up a leaked token must not be blocked by the token itself.
    """
    repo.commit(("settings.py", f"DEBUG = True\nTOKEN = '{TOKEN}'\n"), verify=False)
    assert repo.commit(("settings.py", "DEBUG = True\n")).returncode == 0
    assert repo.commits() == 2


def test_binary_files_are_not_scanned(repo: Repo) -> None:
    assert (
        repo.commit(("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00" + TOKEN.encode() + b"\n")).returncode
        == 0
    )


def test_only_staged_changes_are_checked(repo: Repo) -> None:
    repo.write("scratch.txt", f"{TOKEN}\n")
    repo.write("README.md", "hello\n")
    repo.git("add", "README.md")
    assert repo.git("commit", "-q", "-m", "readme").returncode == 0


@pytest.mark.parametrize("path", ["my notes.txt", "notes é/tab\there.txt", 'say "hi".txt'])
def test_unusual_paths_are_reported_as_written(repo: Repo, path: str) -> None:
    result = repo.commit((path, f"{TOKEN}\n"))
    assert f"pre-commit: {path}:1: github-token (secret not shown; fingerprint " in result.stderr


def test_the_hook_fails_closed_when_the_secret_shapes_cannot_be_imported(tmp_path: Path) -> None:
    hooks = tmp_path / "bare-hooks"
    hooks.mkdir()
    shutil.copy2(HOOKS / "pre-commit", hooks / "pre-commit")
    repo = Repo(tmp_path / "repo", hooks)
    result = repo.commit(("README.md", "hello\n"))
    assert _refused(result)
    assert "pre-commit: cannot load orchestrator.core.redact" in result.stderr


def test_the_guard_and_its_tests_pass_their_own_guard(tmp_path: Path) -> None:
    """A copy of Agent OS with `core.hooksPath hooks`.

    The hook imports from the repository it guards.
    """
    guard = [
        "hooks/pre-commit",
        "orchestrator/__init__.py",
        "orchestrator/core/__init__.py",
        "orchestrator/core/redact.py",
        "tests/core/test_redact.py",
        "tests/test_precommit_hook.py",
    ]
    repo = Repo(tmp_path / "agent-os", Path("hooks"))
    for name in guard:
        (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo.path / name)
    result = repo.commit()
    assert (result.returncode, result.stderr) == (0, "")
    assert repo.commit(("leak.txt", f"{TOKEN}\n")).returncode == 1


def _fingerprint(stderr: str) -> str:
    return stderr.split("fingerprint ", 1)[1].split(")", 1)[0]


def test_an_allowlisted_fake_passes_only_in_the_file_it_was_allowed_for(repo: Repo) -> None:
    refused = repo.commit(("tests/data/recorded.json", f'{{"authorization": "token {TOKEN}"}}\n'))
    assert _refused(refused) and ".secrets-allowlist" in refused.stderr
    mark = _fingerprint(refused.stderr)
    assert TOKEN not in mark and len(mark) == 16
    allowlist = (
        "# recorded fixtures: placeholder tokens\n"
        f"{mark} tests/data/recorded.json  # octokit fixture\n"
    )
    assert repo.commit((".secrets-allowlist", allowlist)).returncode == 0
    assert repo.commits() == 1
    elsewhere = repo.commit(("app.py", f"TOKEN = '{TOKEN}'\n"))
    assert _refused(elsewhere) and "app.py:1: github-token" in elsewhere.stderr
    assert "tests/data/recorded.json" not in elsewhere.stderr


def test_an_allowlist_that_is_not_staged_allows_nothing(repo: Repo) -> None:
    mark = _fingerprint(repo.commit(("fixture.txt", f"{TOKEN}\n")).stderr)
    repo.git("reset", "-q")
    repo.write(".secrets-allowlist", f"{mark} fixture.txt\n")  # on disk, not in the index
    repo.git("add", "fixture.txt")
    assert _refused(repo.git("commit", "-q", "-m", "sneak"))


def test_every_file_of_agent_os_passes_its_own_guard(tmp_path: Path) -> None:
    """README tells contributors to enable this hook.

    The project's own recorded fixtures must not trip it.
    """
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    repo = Repo(tmp_path / "agent-os", Path("hooks"))
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo.path / name)
    result = repo.commit()
    assert (result.returncode, result.stderr) == (0, "")

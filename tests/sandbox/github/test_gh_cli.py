"""The real `gh` CLI (Debian's 2.23, which `make gh` installs) against the sandbox over HTTPS.

gh talks to an enterprise host only over https, so the sandbox runs with `tls=True` and gh
trusts its CA through SSL_CERT_FILE; its config and HOME are temporary, it never prompts.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.state import Json
from orchestrator.sandbox.github.tls import gh_environment
from tests.support.github_sandbox import git_environment, running_sandbox

GH = shutil.which("gh")
pytestmark = [
    pytest.mark.skipif(GH is None, reason="the gh CLI is missing: `make gh` installs Debian's"),
    pytest.mark.skipif(  # `tls=True` makes the sandbox's certificate with it
        shutil.which("openssl") is None, reason="openssl is missing: `make gh` installs it"
    ),
]
ROOT = Path(__file__).resolve().parents[3]
REPO = "agentos/demo"
Gh = Callable[..., str]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A strict sandbox served over HTTPS, with `agentos/demo` (a README on main)."""
    with running_sandbox(tmp_path / "data", tls=True) as served:
        served.create_repo(REPO)
        yield served


@pytest.fixture
def gh(sandbox: Sandbox, tmp_path: Path) -> Gh:
    """Run gh on `agentos/demo`; return its stdout, or fail with its stderr and the sandbox's view.

    The violations a failure caused are reported with it (and cleared), so they are not
    reported a second time when the sandbox stops.
    """
    assert sandbox.certificates is not None
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GH_CONFIG_DIR": str(tmp_path / "gh-config"),
        "GH_PROMPT_DISABLED": "1",
        "GH_NO_UPDATE_NOTIFIER": "1",
        "NO_COLOR": "1",
        **gh_environment(sandbox.host, sandbox.token, sandbox.certificates.ca, REPO),
    }

    def run(*args: str) -> str:
        assert GH is not None
        done = subprocess.run(
            [GH, *args], env=env, cwd=home, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            seen = [str(v) for v in sandbox.violations]
            sandbox.violations.clear()
            raise AssertionError(
                f"gh {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}\n"
                f"sandbox violations: {seen}"
            )
        return done.stdout

    return run


def record_of(sandbox: Sandbox, number: int) -> Json:
    """Return the sandbox's own record of an issue (or pull request) of agentos/demo."""
    repo = sandbox.store.repo(*REPO.split("/"))
    assert repo is not None
    with sandbox.store.lock:
        return dict(repo["issues"][str(number)])


@pytest.fixture
def feature_branch(sandbox: Sandbox, tmp_path: Path) -> str:
    """Push a branch with one commit, with the git CLI over https (trusting the sandbox's CA)."""
    assert sandbox.certificates is not None
    env = {**git_environment(tmp_path / "git-home"), "GIT_SSL_CAINFO": str(sandbox.certificates.ca)}
    clone = tmp_path / "clone"

    def git(*args: str) -> None:
        subprocess.run(["git", *args], env=env, check=True, capture_output=True, timeout=60)

    git("clone", "-q", sandbox.clone_url(REPO), str(clone))
    (clone / "feature.txt").write_text("a feature\n")
    git("-C", str(clone), "checkout", "-q", "-b", "feature")
    git("-C", str(clone), "add", "feature.txt")
    git("-C", str(clone), "commit", "-q", "-m", "Add a feature")
    git("-C", str(clone), "push", "-q", "origin", "feature")
    return "feature"


def test_the_api_command_reaches_rest_over_https(gh: Gh) -> None:
    assert '"full_name":"agentos/demo"' in gh("api", f"repos/{REPO}")


def test_issue_create_then_list_and_view(gh: Gh, sandbox: Sandbox) -> None:
    url = gh("issue", "create", "--title", "Add stats.mean", "--body", "The arithmetic mean.")
    assert url.strip() == f"{sandbox.base_url}/{REPO}/issues/1"
    assert gh("issue", "list").split("\t")[:3] == ["1", "OPEN", "Add stats.mean"]
    view = gh("issue", "view", "1")
    assert "title:\tAdd stats.mean\n" in view and "state:\tOPEN\n" in view
    assert "The arithmetic mean." in view


def test_issue_comment_is_recorded(gh: Gh, sandbox: Sandbox) -> None:
    gh("issue", "create", "--title", "Discuss", "--body", "")
    url = gh("issue", "comment", "1", "--body", "Looks good to me")
    assert url.strip().startswith(f"{sandbox.base_url}/{REPO}/issues/1#issuecomment-")
    assert "Looks good to me" in gh("issue", "view", "1", "--comments")


def test_issue_close_and_reopen_change_the_sandboxs_state(gh: Gh, sandbox: Sandbox) -> None:
    gh("issue", "create", "--title", "Short-lived", "--body", "")
    gh("issue", "close", "1")
    assert record_of(sandbox, 1)["state"] == "closed"
    assert gh("issue", "list", "--state", "closed").startswith("1\tCLOSED\tShort-lived")
    gh("issue", "reopen", "1")
    assert record_of(sandbox, 1)["state"] == "open"


def test_labels_are_listed_and_added_to_an_issue(gh: Gh, sandbox: Sandbox) -> None:
    gh("label", "create", "triage", "--color", "ededed", "--description", "Needs a look")
    assert "triage\tNeeds a look\t#ededed" in gh("label", "list")
    gh("issue", "create", "--title", "Unsorted", "--body", "")
    gh("issue", "edit", "1", "--add-label", "triage")
    assert record_of(sandbox, 1)["labels"] == ["triage"]


def test_pr_create_then_list_and_view(gh: Gh, sandbox: Sandbox, feature_branch: str) -> None:
    """`pr create` needs -R itself: only that flag (not GH_REPO) lets it run outside a clone.

    Inside one it would not help: gh drops the port of a remote's URL, so no remote matches a
    GH_HOST of 127.0.0.1:PORT ("none of the git remotes ... correspond to GH_HOST").
    """
    url = gh(
        "pr", "create", "-R", f"{sandbox.host}/{REPO}", "--head", feature_branch,
        "--base", "main", "--title", "Add a feature", "--body", "Closes nothing.",
    )  # fmt: skip
    assert url.strip() == f"{sandbox.base_url}/{REPO}/pull/1"
    assert record_of(sandbox, 1)["pull"]["head"] == "feature"
    assert gh("pr", "list").split("\t")[:3] == ["1", "Add a feature", "feature"]
    view = gh("pr", "view", "1")
    assert "title:\tAdd a feature\n" in view and "state:\tOPEN\n" in view
    assert "Closes nothing." in view


def test_serve_tls_prints_what_gh_needs(tmp_path: Path) -> None:
    """`sandbox serve --tls` prints an `export` line; gh given exactly that reaches the sandbox."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.sandbox.github.cli", "--tls", "--repo", REPO,
         "--data", str(tmp_path / "data")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("https://127.0.0.1:")
        assert lines[2].startswith("gh: export ")
        settings = dict(word.split("=", 1) for word in shlex.split(lines[2])[2:])
        assert settings["SSL_CERT_FILE"] == str(tmp_path / "data" / "tls" / "ca.pem")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **settings}
        env["GH_CONFIG_DIR"] = str(tmp_path / "gh-config")
        assert GH is not None
        # {owner}/{repo}: gh fills them in from the printed GH_REPO
        done = subprocess.run(
            [GH, "api", "repos/{owner}/{repo}", "--jq", ".full_name"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (0, f"{REPO}\n"), done.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()

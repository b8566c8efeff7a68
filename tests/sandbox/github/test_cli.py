"""`agentos sandbox serve`: prints its URL and token, keeps state in --data across restarts.

It stops on SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from orchestrator.sandbox.github import Sandbox, cli

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.sandbox.github.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url, token = process.stdout.readline().split()
        yield url, token
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, process.stderr.read() if process.stderr else ""
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(
        "--data", str(data), "--token", "t0k3n", "--repo", "agentos/demo", "--app", "ci"
    ) as (url, token):
        assert token == "t0k3n"
        headers = {"Authorization": f"token {token}"}
        made = httpx.post(
            f"{url}/api/v3/repos/agentos/demo/issues", headers=headers, json={"title": "kept"}
        )
        assert made.status_code == 201
    assert (data / "state.json").exists() and (data / "git" / "agentos" / "demo.git").is_dir()
    with serving("--data", str(data)) as (url, token):
        assert token == "t0k3n"
        issue = httpx.get(
            f"{url}/api/v3/repos/agentos/demo/issues/1", headers={"Authorization": f"token {token}"}
        )
        assert issue.json()["title"] == "kept"


def test_help_ends_with_an_example(capsys) -> None:
    try:
        cli.main(["--help"])
    except SystemExit as done:
        assert done.code == 0
    assert "example: agentos sandbox serve" in capsys.readouterr().out


def test_a_port_out_of_range_or_in_use_is_one_line_and_exit_2(capsys) -> None:
    """Both once ended in exit 1 and an "unexpected error" (OverflowError, OSError)."""
    import socket

    from orchestrator.cli.main import main

    assert main(["sandbox", "serve", "--port", "70000"], environ={}) == 2
    assert capsys.readouterr().err == (
        "agentos: argument --port: expected a port from 0 to 65535, got '70000'\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "serve", "--port", str(port)], environ={}) == 2
    assert capsys.readouterr().err == f"agentos: --port {port}: Address already in use\n"


LOGIN_RULE = "expected a login (letters, digits, inner hyphens)"


@pytest.mark.parametrize(
    "args, error",
    [
        (["--repo", "demo"], "argument --repo: expected OWNER/NAME, got 'demo'"),
        (["--repo", "../etc/x"], "argument --repo: expected OWNER/NAME, got '../etc/x'"),
        (["--repo", "a/b/c"], "argument --repo: expected OWNER/NAME, got 'a/b/c'"),
        (["--login", "a--b"], f"argument --login: {LOGIN_RULE}, got 'a--b'"),
        (["--app", "ci_bot"], f"argument --app: {LOGIN_RULE}, got 'ci_bot'"),
        (["--token", "a b"], "argument --token: expected a token without spaces, got 'a b'"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(capsys, args: list[str], error: str) -> None:
    from orchestrator.cli.main import main

    assert main(["sandbox", "serve", *args], environ={}) == 2
    assert capsys.readouterr().err == f"agentos: {error}\n"


def test_a_bad_data_folder_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    from orchestrator.cli.main import main

    a_file = tmp_path / "file"
    a_file.write_text("")
    assert main(["sandbox", "serve", "--data", str(a_file)], environ={}) == 2
    assert capsys.readouterr().err == f"agentos: --data {a_file}: Not a directory\n"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{")
    assert main(["sandbox", "serve", "--data", str(tmp_path / "broken")], environ={}) == 2
    assert capsys.readouterr().err.startswith(
        f"agentos: {tmp_path / 'broken' / 'state.json'} is not valid JSON: "
    )


def test_a_repository_of_an_unknown_owner_makes_the_owner_a_user(tmp_path: Path) -> None:
    """`--repo acme/app` once crashed with a KeyError traceback: acme did not exist."""
    with serving("--data", str(tmp_path / "data"), "--repo", "acme/app") as (url, token):
        pass
    with serving("--data", str(tmp_path / "data")) as (url, token):
        headers = {"Authorization": f"token {token}"}
        repo = httpx.get(f"{url}/api/v3/repos/acme/app", headers=headers).json()
        owner = httpx.get(f"{url}/api/v3/users/acme", headers=headers).json()
    assert (repo["full_name"], repo["owner"]["type"], owner["type"]) == ("acme/app", "User", "User")


def test_create_repos_returns_each_owner_it_made_with_its_token(tmp_path: Path) -> None:
    with Sandbox(tmp_path) as sandbox:
        made = cli.create_repos(sandbox, ["acme/app", "acme/lib", "agentos/demo"])
        assert [login for login, _ in made] == ["acme"]
        me = httpx.get(
            f"{sandbox.api_url}/user", headers={"Authorization": f"token {made[0][1]}"}
        ).json()
        assert me["login"] == "acme"
        assert sandbox.store.repo("acme", "lib") is not None

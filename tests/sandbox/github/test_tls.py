"""The sandbox over HTTPS: a CA made at start, trusted by clients; plain HTTP refused quietly."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orchestrator.errors import UsageError
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.tls import gh_hint, issue_certificates
from tests.support.github_sandbox import git_environment, running_sandbox

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is missing: `make gh` installs it"
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "data", tls=True) as served:
        yield served


def trusting(sandbox: Sandbox) -> ssl.SSLContext:
    assert sandbox.certificates is not None
    return ssl.create_default_context(cafile=sandbox.certificates.ca)


def test_the_ca_and_certificate_are_written_to_the_data_folder_without_the_cas_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    assert sandbox.base_url == f"https://127.0.0.1:{sandbox.port}"
    assert sorted(p.name for p in (tmp_path / "data" / "tls").iterdir()) == [
        "ca.pem",
        "cert.pem",
        "key.pem",
    ]
    assert (tmp_path / "data" / "tls" / "key.pem").stat().st_mode & 0o077 == 0


def test_a_client_trusting_the_ca_gets_answers(sandbox: Sandbox) -> None:
    user = httpx.get(
        f"{sandbox.api_url}/user",
        headers={"Authorization": f"token {sandbox.token}"},
        verify=trusting(sandbox),
    )
    assert user.status_code == 200 and user.json()["login"] == "agentos"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_certificate_names_both_loopback_names(sandbox: Sandbox, name: str) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as raw:
        with trusting(sandbox).wrap_socket(raw, server_hostname=name) as secure:
            assert secure.version() in ("TLSv1.2", "TLSv1.3")


def test_plain_http_and_untrusting_clients_are_refused_and_serving_goes_on(
    sandbox: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(sandbox.api_url.replace("https:", "http:"), timeout=10)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(sandbox.api_url, timeout=10)
    answer = httpx.get(f"{sandbox.api_url}/user", verify=trusting(sandbox))
    assert answer.status_code == 401  # no token: GitHub's "Bad credentials", over TLS
    assert "Traceback" not in capfd.readouterr().err


def test_git_clones_and_pushes_over_https_trusting_the_ca(sandbox: Sandbox, tmp_path: Path) -> None:
    assert sandbox.certificates is not None
    sandbox.create_repo("agentos/demo")
    env = {**git_environment(tmp_path / "home"), "GIT_SSL_CAINFO": str(sandbox.certificates.ca)}
    clone = tmp_path / "clone"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    git("clone", "-q", sandbox.clone_url("agentos/demo"), str(clone))
    git("-C", str(clone), "commit", "-q", "--allow-empty", "-m", "Over https")
    git("-C", str(clone), "push", "-q", "origin", "HEAD:refs/heads/tls")
    assert "refs/heads/tls" in git("ls-remote", sandbox.clone_url("agentos/demo"))


def test_without_openssl_tls_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no openssl there
    with pytest.raises(UsageError, match=r"missing \(apt-get install openssl\)"):
        issue_certificates(tmp_path)


def test_the_hint_is_shell_the_user_can_paste() -> None:
    hint = gh_hint("127.0.0.1:8443", "t0k3n", Path("/data dir/tls/ca.pem"), "agentos/demo")
    assert hint.splitlines()[0] == (
        "gh: export GH_HOST=127.0.0.1:8443 GH_ENTERPRISE_TOKEN=t0k3n "
        "SSL_CERT_FILE='/data dir/tls/ca.pem' GH_REPO=127.0.0.1:8443/agentos/demo"
    )

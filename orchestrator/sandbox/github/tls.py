"""Give the sandbox an HTTPS front: a throwaway CA and a certificate for 127.0.0.1 and localhost.

Clients that speak only HTTPS to an enterprise host (the `gh` CLI) trust the CA through
`SSL_CERT_FILE` (git: `GIT_SSL_CAINFO`). The certificates are made with the `openssl` command
line, which Debian ships, rather than a Python dependency; the sandbox already runs `git`.
"""

from __future__ import annotations

import os
import secrets
import shlex
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import UsageError

DIRECTORY = "tls"  # under the data folder: ca.pem, cert.pem, key.pem
DAYS = 365
# `req` reads its extensions from here; the CA signs nothing but the one server certificate.
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Agent OS sandbox
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
NEW_KEY = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"  # no passphrase


@dataclass(frozen=True)
class Certificates:
    """Where the PEM files are: `ca` is what clients trust, `cert` and `key` what we serve."""

    ca: Path
    cert: Path
    key: Path


def issue_certificates(data_dir: Path) -> Certificates:
    """Make a new CA and a server certificate signed by it under DATA/tls/; drop the CA's key."""
    target = data_dir / DIRECTORY
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        work = Path(scratch)
        (work / "openssl.cnf").write_text(OPENSSL_CONFIG)
        _openssl(
            f"req -x509 {NEW_KEY} -keyout ca-key.pem -out ca.pem -days {DAYS} "
            "-config openssl.cnf -extensions ca -subj /CN=agentos-sandbox-ca",
            work,
        )
        _openssl(
            f"req -new {NEW_KEY} -keyout key.pem -out server.csr "
            "-config openssl.cnf -subj /CN=127.0.0.1",
            work,
        )
        _openssl(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem "
            f"-set_serial {secrets.randbits(63)} -days {DAYS} "
            "-extfile openssl.cnf -extensions server -out cert.pem",
            work,
        )
        for name in ("key.pem", "cert.pem", "ca.pem"):  # the CA last: it names a complete set
            os.replace(work / name, target / name)
    return Certificates(ca=target / "ca.pem", cert=target / "cert.pem", key=target / "key.pem")


def server_context(certificates: Certificates) -> ssl.SSLContext:
    """Return a server-side TLS context serving `certificates`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificates.cert, certificates.key)
    return context


def _openssl(command: str, cwd: Path) -> None:
    args = command.split()
    try:
        done = subprocess.run(
            ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise UsageError(
            "--tls makes its certificate with the openssl command, which is missing "
            "(apt-get install openssl)"
        ) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"--tls: openssl {args[0]} failed: {last}")


def gh_environment(host: str, token: str, ca: Path, repo: str | None = None) -> dict[str, str]:
    """Return the variables that point the `gh` CLI at a sandbox served with TLS."""
    env = {"GH_HOST": host, "GH_ENTERPRISE_TOKEN": token, "SSL_CERT_FILE": str(ca.resolve())}
    if repo is not None:  # gh reads the repository from the git remote, -R, or this
        env["GH_REPO"] = f"{host}/{repo}"
    return env


def gh_hint(host: str, token: str, ca: Path, repo: str | None) -> str:
    """Return the lines `sandbox serve --tls` prints: how to point gh and git at it."""
    env = gh_environment(host, token, ca, repo or "OWNER/NAME")
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return (
        f"gh: export {exports}\n"
        f"    then: gh issue list (or -R {host}/OWNER/NAME); gh then trusts only this CA\n"
        f"git over https: GIT_SSL_CAINFO={shlex.quote(env['SSL_CERT_FILE'])}"
    )

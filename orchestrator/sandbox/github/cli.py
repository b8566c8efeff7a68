"""Command line for `agentos sandbox serve`: run the GitHub sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from orchestrator.errors import UsageError
from orchestrator.sandbox.github.accounts import DEFAULT_SCOPES
from orchestrator.sandbox.github.sandbox import Sandbox
from orchestrator.sandbox.github.tls import gh_hint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the serve options to a (sub)parser."""
    parser.add_argument(
        "--port", type=port, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="directory for state.json and the bare git repositories; reused across restarts "
        "(default: a temporary directory removed on exit)",
    )
    parser.add_argument(
        "--token",
        type=token,
        default=None,
        help="the owner's token (default: the saved one, or a new one)",
    )
    parser.add_argument(
        "--login", type=login, default="agentos", help="the owner's login (default: agentos)"
    )
    parser.add_argument(
        "--scopes",
        default=", ".join(DEFAULT_SCOPES),
        help="comma-separated scopes reported in X-OAuth-Scopes (default: %(default)s)",
    )
    parser.add_argument(
        "--repo",
        type=full_name,
        action="append",
        default=[],
        metavar="OWNER/NAME",
        help="create this repository (with a README) if it does not exist, and its owner as a "
        "user if there is none (its token is printed); repeatable",
    )
    parser.add_argument(
        "--app",
        type=login,
        action="append",
        default=[],
        metavar="SLUG",
        help="install a GitHub App (only apps write check runs) and print its token; repeatable",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="answer 500 on any exchange outside GitHub's description (as tests do)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS, with a CA made at start and written to DATA/tls/ca.pem (for the gh "
        "CLI, which speaks only HTTPS to an enterprise host); prints the settings gh needs",
    )


def port(text: str) -> int:
    """Parse --port: a TCP port number, 0 for a free one."""
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


# GitHub's rules: a login is letters, digits and single inner hyphens, at most 39 characters; a
# repository name is letters, digits, ".", "-" and "_". Both become paths under --data.
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def login(text: str) -> str:
    """Parse --login and --app: a GitHub login."""
    if not _LOGIN.match(text):
        raise argparse.ArgumentTypeError(
            f"expected a login (letters, digits, inner hyphens), got {text!r}"
        )
    return text


def full_name(text: str) -> str:
    """Parse --repo: OWNER/NAME."""
    owner, _, name = text.partition("/")
    if not (_LOGIN.match(owner) and _REPO.match(name) and name not in (".", "..")):
        raise argparse.ArgumentTypeError(f"expected OWNER/NAME, got {text!r}")
    return text


def token(text: str) -> str:
    """Parse --token: printed after the URL on one line, so no spaces."""
    if not text or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"expected a token without spaces, got {text!r}")
    return text


def serve(args: argparse.Namespace) -> int:
    """Run the sandbox; print "BASE_URL TOKEN" as the first line; stop cleanly on SIGINT/SIGTERM."""
    scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip())
    try:
        sandbox = Sandbox(
            args.data,
            port=args.port,
            token=args.token,
            login=args.login,
            scopes=scopes,
            strict=args.strict,
            tls=args.tls,
        )
    except OSError as exc:  # --data is a file, or not ours to write
        raise UsageError(f"--data {args.data}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        owners = create_repos(sandbox, args.repo)
        try:
            sandbox.start()
        except OSError as exc:  # in use, or not ours to bind
            raise UsageError(f"--port {args.port}: {exc.strerror or exc}") from None
        print(f"{sandbox.base_url} {sandbox.token}", flush=True)
        print(
            f"REST {sandbox.api_url}  GraphQL {sandbox.graphql_url}  "
            f"git {sandbox.base_url}/OWNER/NAME.git",
            flush=True,
        )
        for owner, owner_token in owners:
            print(f"user {owner} {owner_token}", flush=True)
        for slug in args.app:
            print(f"app {slug} {sandbox.add_app(slug)}", flush=True)
        if sandbox.certificates is not None:
            repo = args.repo[0] if args.repo else None
            print(gh_hint(sandbox.host, sandbox.token, sandbox.certificates.ca, repo), flush=True)
        stop.wait()
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def create_repos(sandbox: Sandbox, names: list[str]) -> list[tuple[str, str]]:
    """Create each missing repository, and its owner as a user when there is none.

    GitHub has no repository without an owner; making one is friendlier than refusing. Return
    (login, token) of each owner made.
    """
    made = []
    for name in names:
        owner, repo = name.split("/", 1)
        if sandbox.store.user(owner) is None:
            made.append((owner, sandbox.add_user(owner)))
        if sandbox.store.repo(owner, repo) is None:
            sandbox.create_repo(name)
    return made


@contextmanager
def separate_process(data: Path, token: str, root: Path) -> Iterator[str]:
    """Serve `data` from a child process (so its CPU is not the caller's); yield its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.sandbox.github.cli",
            "--data",
            str(data),
            "--token",
            token,
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and serve (for `python -m orchestrator.sandbox.github.cli`)."""
    parser = argparse.ArgumentParser(
        prog="agentos sandbox serve",
        description=__doc__,
        epilog="example: agentos sandbox serve --port 8765 --data runtime/sandbox "
        "--repo agentos/demo",
    )
    add_arguments(parser)
    try:
        return serve(parser.parse_args(argv))
    except UsageError as exc:
        parser.error(str(exc))  # one line and exit 2, as `agentos sandbox serve` does


if __name__ == "__main__":
    sys.exit(main())

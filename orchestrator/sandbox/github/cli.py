"""Command line for `agentos sandbox serve`: run the GitHub sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
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
        "--token", default=None, help="the owner's token (default: the saved one, or a new one)"
    )
    parser.add_argument("--login", default="agentos", help="the owner's login (default: agentos)")
    parser.add_argument(
        "--scopes",
        default=", ".join(DEFAULT_SCOPES),
        help="comma-separated scopes reported in X-OAuth-Scopes (default: %(default)s)",
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="OWNER/NAME",
        help="create this repository (with a README) if it does not exist; repeatable",
    )
    parser.add_argument(
        "--app",
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


def port(text: str) -> int:
    """Parse --port: a TCP port number, 0 for a free one."""
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


def serve(args: argparse.Namespace) -> int:
    """Run the sandbox; print "BASE_URL TOKEN" as the first line; stop cleanly on SIGINT/SIGTERM."""
    scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip())
    sandbox = Sandbox(
        args.data,
        port=args.port,
        token=args.token,
        login=args.login,
        scopes=scopes,
        strict=args.strict,
    )
    for full_name in args.repo:
        if sandbox.store.repo(*full_name.split("/", 1)) is None:
            sandbox.create_repo(full_name)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
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
        for slug in args.app:
            print(f"app {slug} {sandbox.add_app(slug)}", flush=True)
        stop.wait()
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


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

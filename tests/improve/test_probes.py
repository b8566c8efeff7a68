"""The sources that are asked: a command (its exit), a URL (its answer), through `sources.read`.

The command runs for real, with a bare environment; the URL is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from orchestrator.config.model import SignalSource, SourceKind
from orchestrator.core.signatures import signature
from orchestrator.improve import probes
from orchestrator.improve.readings import SourceReading
from orchestrator.improve.sources import read, workdir

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "gh-token-the-test-process-holds-0123456789"


def command(*argv: str, timeout: float = 10.0) -> SignalSource:
    return SignalSource(
        name="check", repo="app", kind=SourceKind.COMMAND, argv=argv, timeout_seconds=timeout
    )


def python(code: str, timeout: float = 10.0) -> SignalSource:
    return command(sys.executable, "-c", code, timeout=timeout)


def one(reading: SourceReading) -> str:
    assert reading.problem is None, reading.problem
    [found] = reading.signals
    return found.detail


# -- command ------------------------------------------------------------------------------------


def test_a_command_that_exits_0_is_no_signal(tmp_path: Path) -> None:
    reading = read(python("print('all good')"), tmp_path, T0, cwd=tmp_path)
    assert reading == SourceReading(())


def test_a_failing_command_is_one_signal_of_its_last_lines(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "print('stdout chatter')\n"
        "for n in range(8): print(f'line {n}', file=sys.stderr)\n"
        "print('', file=sys.stderr)\n"
        "print('queue depth 9000 over 500', file=sys.stderr); sys.exit(3)"
    )
    reading = read(python(code), tmp_path, T0, cwd=tmp_path)
    assert one(reading) == "exit 3: line 4 line 5 line 6 line 7 queue depth 9000 over 500"
    [found] = reading.signals
    assert found.ts == "2026-12-01T09:00:00.000Z" and found.key == "check:2026-12-01T09:00:00.000Z"
    said = "exit 3: line 4\nline 5\nline 6\nline 7\nqueue depth 9000 over 500"
    assert found.signature == signature("source:check", said)


def test_a_failing_command_without_output_says_its_exit(tmp_path: Path) -> None:
    assert one(read(command("false"), tmp_path, T0, cwd=tmp_path)) == "exit 1"
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert one(read(python(code), tmp_path, T0, cwd=tmp_path)) == "killed by signal 15"


def test_a_command_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(1)\nopen({str(marker)!r}, 'w').close()\n")
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(child)!r}])\n"
        "time.sleep(30)"
    )
    started = datetime.now(UTC)
    reading = read(python(code, timeout=0.5), tmp_path, T0, cwd=tmp_path)
    assert one(reading) == "timed out after 0.5s"
    assert (datetime.now(UTC) - started).total_seconds() < 10
    threading.Event().wait(1.2)  # the child would have written by now
    assert not marker.exists()


def test_a_command_that_cannot_start_is_a_problem(tmp_path: Path) -> None:
    reading = read(command("no-such-program-agentos"), tmp_path, T0, cwd=tmp_path)
    assert reading.signals == ()
    assert reading.problem == (
        "source check: cannot start no-such-program-agentos: No such file or directory"
    )
    gone = read(command("true"), tmp_path, T0, cwd=tmp_path / "nowhere")
    assert "working folder" in (gone.problem or "")


def test_a_command_gets_path_home_and_lang_only_and_runs_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    code = (
        "import os, sys\n"
        "print(os.getcwd(), file=sys.stderr)\n"
        "names = set(os.environ) - {'LC_CTYPE'}\n"  # Python sets LC_CTYPE itself in a C locale
        "print(','.join(sorted(names)), os.environ.get('LANG'), file=sys.stderr); sys.exit(1)"
    )
    reading = read(python(code), tmp_path, T0, cwd=tmp_path)
    assert SECRET not in one(reading)
    assert one(reading) == f"exit 1: {tmp_path} HOME,LANG,PATH C.UTF-8"
    assert set(probes.command_env({"PATH": "/bin", "GITHUB_TOKEN": SECRET, "X": "1"})) == {"PATH"}


def test_a_chatty_command_keeps_its_last_output(tmp_path: Path) -> None:
    code = (
        "import sys; sys.stdout.write('x' * (5 << 20)); print('the end', file=sys.stderr); exit(2)"
    )
    assert one(read(python(code), tmp_path, T0, cwd=tmp_path)) == "exit 2: the end"
    code = "import sys; sys.stdout.write('y' * (5 << 20) + '\\nlast words\\n'); exit(2)"
    detail = one(read(python(code), tmp_path, T0, cwd=tmp_path))
    assert detail == "exit 2: " + "y" * probes.LINE_SHOWN + " last words"


def test_a_command_runs_in_its_repos_clone_else_beside_the_config(tmp_path: Path) -> None:
    from orchestrator.config.load import load_config
    from tests.helpers import ENV, minimal_config, write_config

    clone = tmp_path / "clone"
    clone.mkdir()
    repos = [
        {"key": "app", "github": "acme/app", "local_path": str(clone)},
        {"key": "site", "github": "acme/site"},
    ]
    config = load_config(write_config(tmp_path, minimal_config(repos=repos)), ENV)
    assert workdir(config, command("true")) == clone
    elsewhere = SignalSource(name="s", repo="site", kind=SourceKind.COMMAND, argv=("true",))
    assert workdir(config, elsewhere) == config.source.parent


# -- url ----------------------------------------------------------------------------------------


class Site:
    """Two HTTP servers on 127.0.0.1: `main` answers by path, `other` is another host's."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []  # (server, path, user agent)
        self.release = threading.Event()
        self.main = self._serve("main")
        self.other = self._serve("other")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.main.server_address[1]}{path}"

    def _serve(self, name: str) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.seen.append((name, self.path, self.headers.get("User-Agent", "")))
                if self.path == "/slow":
                    site.release.wait(10)
                code, body, location = site.answer(self.path)
                self.send_response(code)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return server

    def answer(self, path: str) -> tuple[int, bytes, str]:
        other = f"http://localhost:{self.other.server_address[1]}/ok"
        return {
            "/ok": (200, b"fine", ""),
            "/slow": (200, b"late", ""),
            "/down": (503, b"  Service  Unavailable:\n maintenance " + b"m" * 400, ""),
            "/empty": (500, b"", ""),
            "/here": (302, b"", "/ok"),
            "/away": (302, b"", other),
        }.get(path, (404, b"no such page", ""))

    def close(self) -> None:
        self.release.set()
        for server in (self.main, self.other):
            server.shutdown()
            server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    running = Site()
    yield running
    running.close()


def url(address: str, timeout: float = 5.0) -> SignalSource:
    return SignalSource(
        name="health", repo="app", kind=SourceKind.URL, url=address, timeout_seconds=timeout
    )


def test_a_2xx_answer_is_no_signal(site: Site, tmp_path: Path) -> None:
    assert read(url(site.url("/ok")), tmp_path, T0) == SourceReading(())
    assert read(url(site.url("/here")), tmp_path, T0) == SourceReading(())  # same host: followed
    assert [s[1:] for s in site.seen] == [("/ok", probes.USER_AGENT)] + [
        ("/here", probes.USER_AGENT),
        ("/ok", probes.USER_AGENT),
    ]


def test_another_status_is_a_signal_with_the_bodys_start(site: Site, tmp_path: Path) -> None:
    detail = one(read(url(site.url("/down")), tmp_path, T0))
    assert detail.startswith("HTTP 503: Service Unavailable: maintenance mmm")
    assert len(detail) == len("HTTP 503: ") + 200
    assert one(read(url(site.url("/empty")), tmp_path, T0)) == "HTTP 500"
    assert one(read(url(site.url("/missing")), tmp_path, T0)) == "HTTP 404: no such page"


def test_a_slow_answer_is_unreachable_after_the_timeout(site: Site, tmp_path: Path) -> None:
    assert one(read(url(site.url("/slow"), 0.5), tmp_path, T0)) == (
        "unreachable: timed out after 0.5s"
    )


def test_a_redirect_to_another_host_is_refused(site: Site, tmp_path: Path) -> None:
    detail = one(read(url(site.url("/away")), tmp_path, T0))
    assert detail == "HTTP 302: redirect to another host refused (localhost)"
    assert [s[0] for s in site.seen] == ["main"]  # the other host was never asked


def test_a_port_nobody_listens_on_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reading = read(url(f"http://127.0.0.1:{port}/health"), tmp_path, T0)
    assert one(reading) == "unreachable: Connection refused"
    assert reading.signals[0].signature == signature(
        "source:health", "unreachable: connection refused"
    )


def test_a_url_that_is_not_http_is_a_problem(tmp_path: Path) -> None:
    reading = read(url("file:///etc/passwd"), tmp_path, T0)
    assert reading.signals == () and reading.problem == "source health: expected an http(s) URL"

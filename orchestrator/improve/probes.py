"""The signal sources that are asked, not read: a `command` run, a `url` fetched (`sources.read`).

A command runs without a shell, stdin from /dev/null, in its repo's clone (else the config's
folder), with an environment of PATH, HOME and LANG only: never the process's own, which holds
the GitHub token and the agents' keys. Its output is kept to its last 1 MiB per stream. Exit 0 is
no signal; another exit is one signal of the last non-empty lines of stderr (else stdout); a run
past the timeout is killed with its process group and is the signal "timed out after Ns"; a
program that cannot be started is the source's problem, not a signal.

A URL is fetched with GET, directly (no proxy from the environment), following redirects on the
same host only; 2xx is no signal, another status the signal "HTTP <status>: <body's start>",
and a refused connection, a timeout or a redirect elsewhere the signal "unreachable: <why>" or
"HTTP 3xx: redirect to another host refused".
"""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from orchestrator.config.model import SignalSource
from orchestrator.improve.readings import SourceReading, message_signal, problem, stamp

OUTPUT_MAX = 1 << 20  # bytes of each of a command's streams kept: its last ones
TAIL_LINES = 5  # non-empty lines of a failing command's output that make its signal
LINE_SHOWN = 200  # characters of each of those lines
ENV_KEYS = ("PATH", "HOME", "LANG")  # the only variables a command gets from our environment
BODY_MAX = 64 << 10  # bytes of a URL's answer read
BODY_SHOWN = 200  # characters of a failing answer's body in its signal
USER_AGENT = "agentos-incident-scanner"


def command_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment a command source gets: PATH, HOME and LANG, nothing else."""
    given = dict(os.environ) if environ is None else environ
    env = {name: given[name] for name in ENV_KEYS if name in given}
    env.setdefault("PATH", os.defpath)
    return env


def run_command(source: SignalSource, cwd: Path, now: datetime) -> SourceReading:
    """Run the source's program once; its failing exit or its timeout is one signal."""
    if not source.argv:
        return problem(source, "no command to run")
    if not cwd.is_dir():
        return problem(source, f"working folder {cwd} does not exist")
    ran = run_program(source.argv, cwd, source.timeout_seconds)
    if isinstance(ran, str):
        return problem(source, ran)
    if ran.timed_out:
        text = f"timed out after {source.timeout_seconds:g}s"
    elif ran.returncode == 0:
        return SourceReading(())
    else:
        text = ran.failure()
    found = message_signal(source, text, stamp(now), f"{source.name}:{stamp(now)}")
    return SourceReading(() if found is None else (found,))


@dataclass(frozen=True, slots=True)
class Ran:
    """A program's end: its exit code, the last OUTPUT_MAX bytes of each stream, a timeout."""

    returncode: int
    out: bytes
    err: bytes
    timed_out: bool

    def failure(self) -> str:
        """Return a failing exit as one short text: the code, then the last lines it printed."""
        return _exit_text(self.returncode, self.err, self.out)


def run_program(argv: Sequence[str], cwd: Path, timeout: float) -> Ran | str:
    """Run a program with `command_env` (never a token), in its own process group, killed at
    the timeout; return how it ended, or why it could not start."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=command_env(),
            start_new_session=True,  # its own process group: a timeout kills its children too
        )
    except (OSError, ValueError) as exc:
        return f"cannot start {argv[0]}: {getattr(exc, 'strerror', None) or exc}"
    try:
        out, err, timed_out = _collect(proc, timeout)
    finally:
        _end(proc)
    return Ran(proc.returncode if proc.returncode is not None else -9, out, err, timed_out)


def _collect(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes, bool]:
    """Read both streams to their end or the deadline; keep each one's last OUTPUT_MAX bytes."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    kept = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in kept:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", b"", True
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffer = kept[key.fd]
                buffer += chunk
                del buffer[:-OUTPUT_MAX]
    try:
        proc.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"", b"", True
    return bytes(kept[proc.stdout.fileno()]), bytes(kept[proc.stderr.fileno()]), False


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the program's process group if it still runs, reap it, close its pipes."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _exit_text(code: int, err: bytes, out: bytes) -> str:
    how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
    for stream in (err, out):
        lines = [line.strip() for line in stream.decode("utf-8", "replace").splitlines()]
        said = [line[:LINE_SHOWN] for line in lines if line]
        if said:
            return f"{how}: " + "\n".join(said[-TAIL_LINES:])
    return how


# -- url ----------------------------------------------------------------------------------------


class _SameHost(urllib.request.HTTPRedirectHandler):
    """Follows a redirect on the same host; one elsewhere is refused (the 3xx is the answer)."""

    refused: str | None = None

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if _host(newurl) != _host(req.full_url):
            self.refused = _host(newurl) or "?"
            return None  # urllib then raises HTTPError with the 3xx
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def get_url(source: SignalSource, now: datetime) -> SourceReading:
    """Fetch the source's URL once; an error, a timeout or a non-2xx answer is one signal."""
    url = source.url or ""
    if urlsplit(url).scheme not in ("http", "https"):
        return problem(source, "expected an http(s) URL")
    redirects = _SameHost()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), redirects)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT}, method="GET")
    try:
        with opener.open(request, timeout=source.timeout_seconds) as response:
            response.read(BODY_MAX)
            status = int(response.status)
            text = "" if 200 <= status < 300 else f"HTTP {status}: (no error, no 2xx)"
    except urllib.error.HTTPError as error:
        text = _http_error(error, redirects.refused)
    except urllib.error.URLError as error:
        text = f"unreachable: {_why(error.reason, source)}"
    except (OSError, http.client.HTTPException) as error:  # a timeout, a reset, a bad answer
        text = f"unreachable: {_why(error, source)}"
    except ValueError as error:  # a URL urllib cannot use (an invalid port, a bad host)
        return problem(source, f"cannot fetch the URL: {error}")
    if not text:
        return SourceReading(())
    found = message_signal(source, text, stamp(now), f"{source.name}:{stamp(now)}")
    return SourceReading(() if found is None else (found,))


def _http_error(error: urllib.error.HTTPError, refused: str | None) -> str:
    try:
        if refused is not None and 300 <= error.code < 400:
            return f"HTTP {error.code}: redirect to another host refused ({refused})"
        body = error.read(BODY_MAX).decode("utf-8", "replace")
    except (OSError, ValueError, http.client.HTTPException):
        body = ""
    finally:
        error.close()
    shown = " ".join(body.split())[:BODY_SHOWN]
    return f"HTTP {error.code}: {shown}" if shown else f"HTTP {error.code}"


def _why(reason: Any, source: SignalSource) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"timed out after {source.timeout_seconds:g}s"
    return str(getattr(reason, "strerror", None) or reason) or type(reason).__name__

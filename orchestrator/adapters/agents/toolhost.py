"""The tool host: our Anthropic loop's tool calls, carried out in a process of their own.

The worker holds the model's API key and can read the config and the env file, so the model's
tool calls never run there. A run starts one host (`ToolHost`) in the worktree, with the scrubbed
agent environment and no credential at all, confined as `agents.isolation` says (`confine.py`),
and sends it each call. The host (`main`) runs on the base interpreter in isolated mode without
`site` (`command`), so it needs nothing from the virtualenv: only the standard library and this
package, whose modules it imports (tools, process, reaper, errors) use nothing else.

The protocol is one JSON object per line. A request on the host's stdin:
`{"id": …, "name": …, "input": {…}, "timeout_s": seconds the run has left}`; its reply on stdout:
`{"id": …, "output": "…", "is_error": true|false}`. Lines are bounded (`REQUEST_LIMIT`,
`REPLY_LIMIT`); a line too long, not JSON or not such a request gets an error reply (its id null
when it cannot be told), never a crash. The host's own fd 1 is pointed at /dev/null, so nothing
but a reply ever reaches the worker on that pipe. The worker ends the host's group however the run
ends; a host that dies or breaks the protocol is a `ToolHostError` with a one-line reason.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from orchestrator.adapters.agents import process
from orchestrator.adapters.agents.reaper import Reaper
from orchestrator.adapters.agents.tools import ToolRunner
from orchestrator.errors import ToolHostError

REQUEST_LIMIT = 8 << 20  # bytes of one request line
REPLY_LIMIT = 1 << 20  # bytes of one reply line (outputs are cut to 30,000 characters before)
ROOT = Path(__file__).resolve().parents[3]  # the folder holding the orchestrator package
PACKAGE = ROOT / "orchestrator"
_SLACK = 10.0  # seconds past the run's deadline a call may take: bash's grace, drain and reaping
_CHUNK = 65536


def command() -> tuple[str, ...]:
    """Return the argv that runs the host: the base interpreter, isolated, without `site`."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    python = base if os.access(base, os.X_OK) else sys.executable
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from orchestrator.adapters.agents.toolhost import main; raise SystemExit(main())"
    )
    return (python, "-I", "-S", "-B", "-c", code)


def readable() -> tuple[Path, ...]:
    """Return what the host reads besides the worktree: this package and the interpreter's tree."""
    return (PACKAGE, Path(sys.base_prefix).resolve())


def main() -> int:
    """Serve tool calls from stdin until it ends, in the working directory (the worktree)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    replies = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)
    requests, root, env = sys.stdin.buffer, Path.cwd(), dict(os.environ)
    while line := requests.readline(REQUEST_LIMIT + 1):
        if len(line) > REQUEST_LIMIT:
            while line and not line.endswith(b"\n"):  # drop the rest of the over-long line
                line = requests.readline(_CHUNK)
            reply = _reply(None, f"a request is longer than {REQUEST_LIMIT} bytes", True)
        else:
            reply = serve(line, root, env)
        replies.write(reply)
        replies.flush()
    return 0


def serve(line: bytes, root: Path, env: Mapping[str, str]) -> bytes:
    """Carry out one request line; return the reply line. Nothing it is sent makes it raise."""
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return _reply(None, f"a request is not JSON: {exc}", True)
    if not isinstance(request, dict):
        return _reply(None, f"a request must be an object, got {type(request).__name__}", True)
    ident = request.get("id")
    ident = ident if isinstance(ident, str) else None
    name, args, timeout = request.get("name"), request.get("input"), request.get("timeout_s")
    if not isinstance(name, str) or not isinstance(args, dict):
        return _reply(ident, f"a request needs a name and an input object, got {name!r}", True)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        return _reply(ident, f"timeout_s must be a number of seconds, got {timeout!r}", True)
    try:
        output, failed = ToolRunner(root, env, time.monotonic() + timeout).call(name, args)
    except Exception as exc:  # noqa: BLE001 - a tool's bug is the model's error, not the host's end
        output, failed = f"{name} failed: {type(exc).__name__}: {exc}", True
    return _reply(ident, output, failed)


def _reply(ident: str | None, output: str, failed: bool) -> bytes:
    line = json.dumps({"id": ident, "output": output, "is_error": failed}).encode() + b"\n"
    if len(line) <= REPLY_LIMIT:
        return line
    return _reply(ident, output[: REPLY_LIMIT // 8] + "\n[output cut]", failed)


class ToolHost:
    """One run's tool host, seen from the worker: start it, send it calls, end it.

    `spec` is what to run (`command()` in the worktree with the agent's environment), already
    wrapped by the confinement; its `grace` is how long the host gets to exit at the end. A call
    may take `slack` seconds past the run's deadline (bash's grace, draining, reaping) before the
    host is taken for hung.
    """

    def __init__(self, spec: process.Spec, *, slack: float = _SLACK) -> None:
        self.spec, self.slack = spec, slack
        self.reaper = Reaper()
        self.errors = tempfile.TemporaryFile()  # the host's stderr: its last words, if it dies
        try:
            self.proc = subprocess.Popen(
                spec.argv,
                cwd=spec.cwd,
                env=dict(spec.env),
                start_new_session=True,
                close_fds=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
            )
        except OSError as exc:
            self.errors.close()
            raise ToolHostError(
                f"cannot start the tool host {spec.argv[0]}: {exc.strerror}"
            ) from exc
        self.reaper.started(self.proc.pid)
        self._buffer = bytearray()
        self._closed = False

    def __enter__(self) -> ToolHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, ident: str, name: str, args: Mapping[str, Any], deadline: float
    ) -> tuple[str, bool]:
        """Carry out one tool call before `deadline` (time.monotonic); return output, is_error."""
        timeout_s = max(deadline - time.monotonic(), 0.0)
        request = {"id": ident, "name": name, "input": args, "timeout_s": timeout_s}
        data = json.dumps(request, default=str).encode() + b"\n"
        if len(data) > REQUEST_LIMIT:
            return f"the {name} call is {len(data)} bytes; a call may be {REQUEST_LIMIT}", True
        until = time.monotonic() + timeout_s + self.slack
        self._send(data, until)
        reply = self._receive(until)
        if (
            reply.get("id") != ident
            or not isinstance(reply.get("output"), str)
            or not isinstance(reply.get("is_error"), bool)
        ):
            raise ToolHostError(f"the tool host answered {ident!r} with {str(reply)[:200]!r}")
        return reply["output"], reply["is_error"]

    def close(self) -> None:
        """End the host's group (SIGTERM, the grace, SIGKILL) and whatever it left; reap it."""
        if self._closed:
            return
        self._closed = True
        try:
            _close(self.proc.stdin)  # a host waiting for a request exits at once
            process.stop(self.proc, self.spec.grace, self.reaper)
        finally:
            _close(self.proc.stdout)
            self.errors.close()

    def _send(self, data: bytes, until: float) -> None:
        pipe = self.proc.stdin
        assert pipe is not None
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_WRITE)
            while data:
                if not selector.select(until - time.monotonic()):
                    raise ToolHostError("the tool host stopped reading its requests")
                try:
                    data = data[os.write(pipe.fileno(), data[:_CHUNK]) :]
                except BrokenPipeError:
                    raise ToolHostError(self._death()) from None

    def _receive(self, until: float) -> dict[str, Any]:
        pipe = self.proc.stdout
        assert pipe is not None
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_READ)
            while (cut := self._buffer.find(b"\n")) < 0:
                if len(self._buffer) > REPLY_LIMIT:
                    raise ToolHostError(f"the tool host sent a reply over {REPLY_LIMIT} bytes")
                remaining = until - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise ToolHostError("the tool host did not answer in time")
                chunk = os.read(pipe.fileno(), _CHUNK)
                if not chunk:
                    raise ToolHostError(self._death())
                self._buffer += chunk
        line = bytes(self._buffer[:cut])
        del self._buffer[: cut + 1]
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise ToolHostError(f"the tool host sent {line[:200]!r}, not a reply")
        return reply

    def _death(self) -> str:
        """Return why the host is gone, in one line: its last words, else how it ended."""
        info = None
        for _ in range(50):  # the pipe closes a moment before the process is gone
            try:
                info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                break
            if info is not None:
                break
            time.sleep(0.02)
        self.errors.seek(max(0, os.fstat(self.errors.fileno()).st_size - 4096))
        words = [line for line in self.errors.read().decode(errors="replace").splitlines() if line]
        if words:
            return f"the tool host died: {words[-1].strip()[:300]}"
        if info is None:
            return "the tool host closed its output"
        how = "was killed by signal" if info.si_code != os.CLD_EXITED else "exited with"
        return f"the tool host {how} {info.si_status}"


def _close(pipe: IO[bytes] | None) -> None:
    if pipe is not None:
        try:
            pipe.close()
        except OSError:
            pass

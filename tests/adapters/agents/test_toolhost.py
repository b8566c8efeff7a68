"""The tool host: one JSON request a line in, one reply a line out, never a crash; and its client.

The host is run for real (the base interpreter, isolated, without `site`), in a worktree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.adapters.agents import process, toolhost
from orchestrator.adapters.agents.toolhost import ToolHost
from orchestrator.errors import ToolHostError
from tests.adapters.agents.test_process import alive, wait_dead

ENV = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "LANG": "C.UTF-8"}


def spec(worktree: Path, argv: tuple[str, ...] | None = None) -> process.Spec:
    return process.Spec(argv or toolhost.command(), worktree, ENV, grace=1.0)


def serve(worktree: Path, request: object) -> dict[str, object]:
    line = request if isinstance(request, bytes) else json.dumps(request).encode()
    reply = toolhost.serve(line, worktree, ENV)
    assert reply.endswith(b"\n") and reply.count(b"\n") == 1
    return json.loads(reply)  # type: ignore[no-any-return]


def fake(code: str) -> tuple[str, ...]:
    """Return the argv of a host that behaves as `code` says instead of serving."""
    return (sys.executable, "-c", code)


@pytest.mark.parametrize(
    "line, id_, says",
    [
        (b"not json\n", None, "not JSON"),
        (b"\xff\xfe\n", None, "not JSON"),
        (b"[" * 100_000 + b"\n", None, "not JSON"),
        (b"[1, 2]\n", None, "must be an object, got list"),
        (b'{"id": "a", "input": {}, "timeout_s": 5}\n', "a", "needs a name"),
        (b'{"id": "b", "name": "bash", "input": "ls", "timeout_s": 5}\n', "b", "input object"),
        (b'{"id": "c", "name": "bash", "input": {}, "timeout_s": "soon"}\n', "c", "'soon'"),
        (b'{"id": "d", "name": "bash", "input": {}, "timeout_s": NaN}\n', "d", "nan"),
        (b'{"id": 7, "name": "nope", "input": {}, "timeout_s": 5}\n', None, "unknown tool"),
        (
            b'{"id": "e", "name": "read_file", "input": {"path": "README.md", "offset": [2]}, '
            b'"timeout_s": 5}\n',
            "e",
            "read_file failed: TypeError",
        ),
    ],
)
def test_a_malformed_request_gets_an_error_reply(
    worktree: Path, line: bytes, id_: str | None, says: str
) -> None:
    reply = serve(worktree, line)
    assert reply["id"] == id_ and reply["is_error"] is True and says in str(reply["output"])


def test_a_request_is_carried_out_in_the_worktree(worktree: Path) -> None:
    write = {"id": "w", "name": "write_file", "input": {"path": "a.txt", "content": "hi"}}
    assert serve(worktree, write | {"timeout_s": 5})["is_error"] is False
    read = serve(
        worktree, {"id": "r", "name": "bash", "input": {"command": "cat a.txt"}, "timeout_s": 5}
    )
    assert read == {"id": "r", "output": "exit code 0\nhi", "is_error": False}
    escape = {"path": "../x.txt", "content": "out"}
    reply = serve(worktree, {"id": "e", "name": "write_file", "input": escape, "timeout_s": 5})
    assert reply["is_error"] is True and not (worktree.parent / "x.txt").exists()


def test_a_reply_never_passes_its_bound(worktree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (worktree / "big.txt").write_text("é" * 20_000)
    monkeypatch.setattr(toolhost, "REPLY_LIMIT", 4000)
    line = json.dumps(
        {"id": "r", "name": "read_file", "input": {"path": "big.txt"}, "timeout_s": 5}
    )
    reply = toolhost.serve(line.encode(), worktree, ENV)
    assert len(reply) <= 4000 and json.loads(reply)["output"].endswith("[output cut]")


def test_the_host_answers_each_line_and_survives_an_over_long_one(worktree: Path) -> None:
    good = json.dumps(
        {"id": "1", "name": "bash", "input": {"command": "echo $$ $PPID"}, "timeout_s": 9}
    )
    lines = [b"x" * (toolhost.REQUEST_LIMIT + 10) + b"\n", b"{broken\n", good.encode() + b"\n"]
    done = subprocess.run(
        toolhost.command(),
        input=b"".join(lines),
        cwd=worktree,
        env=ENV,
        capture_output=True,
        timeout=60,
    )
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and [r["id"] for r in replies] == [None, None, "1"]
    assert "longer than" in replies[0]["output"] and "not JSON" in replies[1]["output"]
    shell_pid, host_pid = replies[2]["output"].splitlines()[1].split()
    assert int(host_pid) not in (os.getpid(), 0) and shell_pid != host_pid


def test_the_host_needs_nothing_from_the_virtualenv(worktree: Path) -> None:
    argv = toolhost.command()
    assert argv[1:4] == ("-I", "-S", "-B") and ".venv" not in argv[0]
    probe = (
        "import sys; print('anthropic' in sys.modules, any('site-packages' in p for p in sys.path))"
    )
    done = subprocess.run(
        (*argv[:-1], argv[-1].replace("raise SystemExit(main())", probe)),
        cwd=worktree,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["False", "False"]


def test_the_client_carries_out_calls_and_ends_the_host(worktree: Path) -> None:
    with ToolHost(spec(worktree)) as host:
        assert host.call(
            "1", "write_file", {"path": "f.txt", "content": "x"}, time.monotonic() + 30
        ) == (
            "wrote 1 characters to f.txt",
            False,
        )
        output, failed = host.call("2", "bash", {"command": "exit 3"}, time.monotonic() + 30)
        assert failed and output.startswith("exit code 3")
        pid = host.proc.pid
    assert (worktree / "f.txt").read_text() == "x" and wait_dead(pid)


def test_a_host_that_dies_mid_call_is_one_line_not_a_hang(worktree: Path) -> None:
    started = time.monotonic()
    with ToolHost(spec(worktree)) as host, pytest.raises(ToolHostError) as caught:
        host.call("k", "bash", {"command": "kill -KILL $PPID; sleep 30"}, time.monotonic() + 60)
    assert str(caught.value) == "the tool host was killed by signal 9"
    assert time.monotonic() - started < 10 and wait_dead(host.proc.pid)


def test_a_host_that_crashes_is_reported_with_its_last_words(worktree: Path) -> None:
    crash = fake("import sys; sys.stdin.readline(); raise SystemExit('tools are broken')")
    with ToolHost(spec(worktree, crash)) as host, pytest.raises(ToolHostError) as caught:
        host.call("1", "bash", {"command": "true"}, time.monotonic() + 30)
    assert str(caught.value) == "the tool host died: tools are broken"


@pytest.mark.parametrize(
    "code, says",
    [
        ("import sys; sys.stdin.readline(); print('hello', flush=True)", "not a reply"),
        (
            "import sys; sys.stdin.readline(); "
            'print(\'{"id": "other", "output": "", "is_error": false}\', flush=True)',
            "answered '1'",
        ),
        ("import sys; sys.stdin.readline(); sys.stdout.write('x' * 3_000_000)", "over 1048576"),
    ],
)
def test_a_host_that_breaks_the_protocol_ends_the_run(worktree: Path, code: str, says: str) -> None:
    with ToolHost(spec(worktree, fake(code + "\nimport time; time.sleep(30)"))) as host:
        with pytest.raises(ToolHostError, match=says):
            host.call("1", "bash", {"command": "true"}, time.monotonic() + 30)


def test_a_host_that_never_answers_is_given_up_on(worktree: Path) -> None:
    mute = fake(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    started = time.monotonic()
    host = ToolHost(spec(worktree, mute), slack=0.5)
    try:
        with pytest.raises(ToolHostError, match="did not answer in time"):
            host.call("1", "bash", {"command": "true"}, time.monotonic() + 0.5)
        assert alive(host.proc.pid)
    finally:
        host.close()
    assert not alive(host.proc.pid) and time.monotonic() - started < 10


def test_a_host_that_cannot_start_is_one_line(worktree: Path) -> None:
    with pytest.raises(ToolHostError, match="cannot start the tool host .*missing"):
        ToolHost(spec(worktree, (str(worktree / "missing"),)))


def test_what_the_host_leaves_behind_dies_with_it(worktree: Path) -> None:
    """A process started off the host's bash (setsid, outside any call) dies when the host ends."""
    late = "import os, time; time.sleep(1.5); open('late.txt', 'w').write('late')"
    leaver = fake(
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {late!r}], start_new_session=True)\n"
        "sys.stdin.readline()"
    )
    with ToolHost(spec(worktree, leaver)):
        time.sleep(0.3)
    time.sleep(2)
    assert not (worktree / "late.txt").exists()


def test_nothing_but_replies_reaches_the_worker_on_the_hosts_stdout(worktree: Path) -> None:
    noisy = toolhost.command()[-1].replace(
        "raise SystemExit(main())",
        "from orchestrator.adapters.agents import toolhost; serve = toolhost.serve; "
        "toolhost.serve = lambda *a: (print('noise', flush=True), serve(*a))[1]; "
        "raise SystemExit(main())",
    )
    request = {"id": "1", "name": "bash", "input": {"command": "true"}, "timeout_s": 9}
    done = subprocess.run(
        (*toolhost.command()[:-1], noisy),
        input=json.dumps(request).encode() + b"\n",
        cwd=worktree,
        env=ENV,
        capture_output=True,
        timeout=60,
    )
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["1"]


def test_a_host_told_to_stop_ends_the_command_it_runs(worktree: Path) -> None:
    request = {"id": "1", "name": "bash", "input": {"command": "echo $$ > pid; exec sleep 30"}}
    with subprocess.Popen(
        toolhost.command(), cwd=worktree, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as host:
        try:
            assert host.stdin is not None
            host.stdin.write(json.dumps(request | {"timeout_s": 60}).encode() + b"\n")
            host.stdin.flush()
            deadline = time.monotonic() + 30
            while not (worktree / "pid").exists() or not (worktree / "pid").read_text().strip():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            host.terminate()
            assert host.wait(timeout=20) == 128 + 15
            assert wait_dead(int((worktree / "pid").read_text()))
        finally:
            host.kill()

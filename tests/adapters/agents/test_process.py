"""The process runner: its own process group, lines as they come, a timeout.

The timeout kills grandchildren too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestrator.adapters.agents import process

ENV = {"PATH": os.environ["PATH"]}


def run(
    tmp_path: Path,
    script: str,
    *,
    timeout: float = 10,
    stdin: str | None = None,
    grace: float = 1.0,
    max_line: int = 1 << 20,
) -> tuple[process.Exit, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    spec = process.Spec(
        (sys.executable, "-c", script), tmp_path, ENV, stdin, timeout, grace, max_line
    )
    return process.run(spec, lambda stream, line: lines.append((stream, line))), lines


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; /proc tells them apart.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def wait_dead(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_lines_of_both_streams_arrive_in_order_with_the_exit_code(tmp_path: Path) -> None:
    ended, lines = run(
        tmp_path,
        "import sys\nprint('one', flush=True)\nprint('oops', file=sys.stderr, flush=True)\n"
        "sys.stdout.write('two\\nno newline at the end')\nsys.exit(3)",
    )
    assert (ended.returncode, ended.timed_out) == (3, False)
    assert [line for stream, line in lines if stream == "stdout"] == [
        "one",
        "two",
        "no newline at the end",
    ]
    assert ("stderr", "oops") in lines and ended.tail[-1] == "no newline at the end"


def test_the_prompt_goes_in_on_stdin_however_large(tmp_path: Path) -> None:
    prompt = "line of the prompt\n" * 50_000  # ~1 MB: far past a pipe's buffer
    ended, lines = run(
        tmp_path,
        "import sys\ndata = sys.stdin.read()\nprint(len(data), data.count('\\n'))",
        stdin=prompt,
    )
    assert ended.returncode == 0 and lines == [("stdout", f"{len(prompt)} 50000")]


def test_without_stdin_text_the_process_reads_dev_null(tmp_path: Path) -> None:
    ended, lines = run(tmp_path, "import sys\nprint(repr(sys.stdin.read()))")
    assert lines == [("stdout", "''")]


def test_the_process_runs_in_a_process_group_of_its_own(tmp_path: Path) -> None:
    ended, lines = run(
        tmp_path, "import os\nprint(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid())"
    )
    assert lines == [("stdout", "True True")]


def test_a_timeout_kills_the_whole_group_grandchildren_too(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(300)"
    )
    started = time.monotonic()
    ended, lines = run(tmp_path, script, timeout=1.0)
    assert ended.timed_out and ended.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 5 and lines == [("stdout", "started")]
    assert wait_dead(int(pids.read_text()))


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['python3', '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(300)"
    )
    started = time.monotonic()
    ended, _ = run(tmp_path, script, timeout=1.0, grace=0.5)
    assert (
        ended.timed_out and ended.returncode == -signal.SIGKILL and time.monotonic() - started < 5
    )
    assert wait_dead(int(pids.read_text()))


def test_a_background_straggler_does_not_hold_a_finished_run_open(tmp_path: Path) -> None:
    """An agent that leaves `sleep 300 &` behind, holding stdout, still ends when it exits.

    The straggler is killed.
    """
    pids = tmp_path / "pids"
    script = (
        "import subprocess\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "print('done', flush=True)"
    )
    started = time.monotonic()
    ended, lines = run(tmp_path, script, timeout=30)
    assert (ended.returncode, ended.timed_out) == (0, False) and time.monotonic() - started < 5
    assert lines == [("stdout", "done")] and wait_dead(int(pids.read_text()))


def test_an_endless_line_costs_max_line_bytes_not_all_of_it(tmp_path: Path) -> None:
    script = "import sys\nsys.stdout.write('x' * 3_000_000)\nsys.stdout.write('\\nafter\\n')"
    ended, lines = run(tmp_path, script, max_line=1000)
    assert ended.returncode == 0
    assert [len(line) for _, line in lines] == [1000, 5] and lines[1] == ("stdout", "after")


def test_a_program_that_cannot_start_is_reported_not_raised(tmp_path: Path) -> None:
    spec = process.Spec((str(tmp_path / "missing"),), tmp_path, ENV)
    ended = process.run(spec, lambda stream, line: None)
    assert (
        ended.returncode is None and "cannot start" in ended.error and "No such file" in ended.error
    )


def test_an_exception_in_the_line_handler_still_ends_the_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = (
        f"import os, time\nopen({str(pids)!r}, 'w').write(str(os.getpid()))\n"
        "print('boom', flush=True)\ntime.sleep(300)"
    )

    def explode(stream: str, line: str) -> None:
        raise RuntimeError("channel.jsonl is full")

    spec = process.Spec((sys.executable, "-c", script), tmp_path, ENV, None, 30, 0.5)
    with pytest.raises(RuntimeError, match="channel.jsonl"):
        process.run(spec, explode)
    assert wait_dead(int(pids.read_text()))


ESCAPE = (
    "import os, subprocess, sys, time\n"
    "out, pids = {out!r}, {pids!r}\n"
    'late = f\'import time; time.sleep(1.5); open({{out!r}}, "w").write("escaped")\'\n'
    "loose = subprocess.Popen([sys.executable, '-c', late], start_new_session=True,\n"
    "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "read, write = os.pipe()\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        os.write(write, str(os.getpid()).encode())\n"
    "        time.sleep(1.5)\n"
    "        open(out + '.2', 'w').write('escaped')\n"
    "        os._exit(0)\n"
    "    os._exit(0)\n"
    "grandchild = os.read(read, 20).decode()\n"
    "open(pids, 'w').write(f'{{loose.pid}} {{grandchild}}')\n"
    "print('left', flush=True)"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child subreaper is Linux's")
def test_a_setsid_child_and_a_double_forked_grandchild_die_with_the_run(tmp_path: Path) -> None:
    """Both left the group on purpose and would write a file after the run; neither does."""
    out, pids = tmp_path / "late.txt", tmp_path / "pids"
    ended, lines = run(tmp_path, ESCAPE.format(out=str(out), pids=str(pids)), grace=0.5)
    assert (ended.returncode, lines) == (0, [("stdout", "left")])
    escaped = [int(pid) for pid in pids.read_text().split()]
    assert len(escaped) == 2 and not any(alive(pid) for pid in escaped)
    time.sleep(2.5)  # past the moment they would have written
    assert not out.exists() and not Path(f"{out}.2").exists()


def test_a_child_we_had_before_the_run_survives_it(tmp_path: Path) -> None:
    ours = subprocess.Popen(["sleep", "30"])
    try:
        ended, _ = run(tmp_path, "import subprocess\nsubprocess.Popen(['sleep', '30'])")
        assert ended.returncode == 0 and alive(ours.pid) and ours.poll() is None
    finally:
        ours.kill()
        ours.wait()


def test_a_child_another_thread_starts_in_our_session_during_the_run_survives_it(
    tmp_path: Path,
) -> None:
    """Nothing of the run can be in our session (its leader starts a new one): not the run's."""
    started: list[subprocess.Popen[bytes]] = []
    thread = threading.Timer(0.3, lambda: started.append(subprocess.Popen(["sleep", "30"])))
    thread.start()
    try:
        ended, _ = run(tmp_path, "import time\ntime.sleep(1)")
        thread.join()
        assert ended.returncode == 0 and alive(started[0].pid) and started[0].poll() is None
    finally:
        for child in started:
            child.kill()
            child.wait()

"""The wall between the agent and Agent OS: agents confined by bubblewrap (confine.py).

A command backend, built from a real config like the worker builds it, tries what a hostile agent
would: read the config, the env file, other rooms, runtime/, the worker's environment, the real
HOME; outlive its task. Odd layouts of config, runtime and worktrees are walled as well.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.adapters.agents import confine, process
from orchestrator.adapters.agents.base import CANARY_MASK, Collector
from orchestrator.adapters.agents.registry import build_agents
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, Isolation
from orchestrator.core import redact
from orchestrator.core.agent import (
    AgentEvent,
    AgentOutcome,
    OutcomeKind,
    OutputLine,
    ToolReturned,
    clip,
)
from orchestrator.core.redact import forget_values, register_values
from tests.adapters.agents.conftest import Events, make_request, needs_bwrap
from tests.adapters.agents.test_command import script
from tests.helpers import minimal_config, write_config
from tests.sandbox.models.conftest import make_worktree

CANARY = "canary-token-0123456789abcdef"
WORKER_MARK = "AGENTOS_WORKER_ONLY_7f3a"  # in the worker's own environment, never the agent's
SECRET_LINE = "TOP-SECRET-CONFIG-LINE"
Host = dict[str, str]
PLAIN = {"PATH": "/usr/bin:/bin"}


def installation(tmp_path: Path, agent: str, isolation: str = "bwrap") -> tuple[Config, Host]:
    """Write an installation: config.yaml and .env in a project folder, runtime/ in it with
    another task's room, a real HOME with a key in it; its command backend runs `agent`."""
    project, home = tmp_path / "project", tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE-KEY-OF-THE-HOST\n")
    project.mkdir()
    (project / ".env").write_text("GITHUB_TOKEN=ghp_from_the_env_file_0123456789abcdef0123\n")
    program = script(project, agent)
    backends = {"script": {"type": "command", "argv": [str(program)]}}
    data = minimal_config(agents={"backends": backends, "isolation": isolation})
    path = write_config(project, data)
    path.write_text(path.read_text() + f"# {SECRET_LINE}\n")
    config = load_config(path, {})
    room = config.paths.rooms_dir / "app-9-g1-a1"
    room.mkdir(parents=True)
    (room / "events.jsonl").write_text('{"event": "another task"}\n')
    return config, {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}


def run(config: Config, host: Host, canary: str = "") -> tuple[AgentOutcome, Events, Path]:
    """Run the command backend as the worker would, on a worktree under worktrees_dir."""
    (config.paths.worktrees_dir / "app").mkdir(parents=True, exist_ok=True)
    worktree = make_worktree(config.paths.worktrees_dir / "app")
    folder = config.paths.rooms_dir / "app-1-g1-a1"  # the prompt file lives in the task's room
    folder.mkdir(parents=True, exist_ok=True)
    request = replace(make_request(folder, worktree, task_id="app-1-g1-a1"), canary=canary)
    events = Events()
    return build_agents(config, host)["script"].run(request, events), events, worktree


def lines(events: Events) -> list[str]:
    return [event.line for event in events.of(OutputLine)]


def probes(config: Config, host: Host) -> str:
    """Return a script that tries each thing an agent must not reach, saying READ or HIDDEN."""
    targets = {
        "config": config.source,
        "env_file": config.source.parent / ".env",
        "room": config.paths.rooms_dir / "app-9-g1-a1" / "events.jsonl",
        "host_key": Path(host["HOME"]) / ".ssh" / "id_ed25519",
        "runtime": config.paths.state_dir,
    }
    body = 'try() { if cat "$2" >/dev/null 2>&1 || ls "$2" >/dev/null 2>&1; '
    body += 'then echo "READ $1"; else echo "HIDDEN $1"; fi; }\n'
    body += "".join(f"try {name} {path}\n" for name, path in targets.items())
    body += (  # its environment (the kernel refuses it across user namespaces), or its argv
        f"if cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' "
        f"| grep -q '{WORKER_MARK[:-1]}[{WORKER_MARK[-1]}]'; "  # a pattern its own argv lacks
        'then echo "READ worker_process"; else echo "HIDDEN worker_process"; fi\n'
    )
    return body + 'echo written > made-by-agent.txt && echo "WROTE worktree"\n'


@pytest.fixture
def worker() -> Iterator[None]:
    """A process of the host whose environment and argv hold a mark, as the worker's hold secrets.

    (/proc/<pid>/environ is what a process started with; the test's own setenv would not show.)
    """
    env = {"PATH": "/usr/bin:/bin", WORKER_MARK: "1"}
    with subprocess.Popen(["/bin/sh", "-c", f"sleep 120; : {WORKER_MARK}"], env=env) as sibling:
        yield
        sibling.kill()


@needs_bwrap
@pytest.mark.usefixtures("worker")
def test_a_confined_agent_sees_nothing_of_agent_os_and_writes_only_its_worktree(
    tmp_path: Path,
) -> None:
    config, host = installation(tmp_path, "")
    config.paths.state_dir.mkdir(parents=True, exist_ok=True)
    script(config.source.parent, probes(config, host))
    outcome, events, worktree = run(config, host)
    assert outcome.kind is OutcomeKind.FINISHED, outcome
    said = lines(events)
    for what in ("config", "env_file", "room", "host_key", "runtime", "worker_process"):
        assert f"HIDDEN {what}" in said, said
    assert "WROTE worktree" in said
    assert (worktree / "made-by-agent.txt").read_text() == "written\n"
    assert not (config.paths.runtime_dir / "homes" / "app-1-g1-a1").exists()  # removed after


@pytest.mark.usefixtures("worker")
def test_unconfined_the_same_probes_read_everything_as_before(tmp_path: Path) -> None:
    """`agents.isolation: none` is today's behaviour, and shows the probes can tell a wall."""
    config, host = installation(tmp_path, "", isolation="none")
    config.paths.state_dir.mkdir(parents=True, exist_ok=True)
    script(config.source.parent, probes(config, host) + 'echo "HOME=$HOME GH=$GH_TOKEN"\n')
    outcome, events, _ = run(config, host, canary=CANARY)
    said = lines(events)
    assert outcome.kind is OutcomeKind.FINISHED, outcome
    for what in ("config", "env_file", "room", "host_key", "runtime", "worker_process"):
        assert f"READ {what}" in said, said
    assert f"HOME={host['HOME']} GH={CANARY_MASK}" in said  # only the canary is planted
    assert not (config.paths.runtime_dir / "homes").exists()


@needs_bwrap
def test_a_setsid_double_forked_child_dies_with_its_box(tmp_path: Path) -> None:
    """Bubblewrap alone (no reaper of ours): the pid namespace ends with its first process."""
    worktree = make_worktree(tmp_path)
    mark = f"agentos-orphan-{os.getpid()}-{time.monotonic_ns()}"
    walls = confine.Walls(Isolation.BWRAP, (Path("/tmp"),), (), tmp_path / "homes")
    try:
        with confine.session(confine.Box(walls, worktree, "t-orphan")) as confined:
            spec = confined(process.Spec(("/bin/sh", "-c", orphan(mark)), worktree, PLAIN))
            done = subprocess.run(spec.argv, env=spec.env, capture_output=True, timeout=30)
        assert done.stdout == b"orphan running\n"  # it did start, and outlived its parent
        assert gone(mark)
    finally:
        _end(mark)


@needs_bwrap
def test_a_box_dies_with_the_worker_that_started_it_even_when_killed(tmp_path: Path) -> None:
    """A SIGKILLed worker ends nothing itself: --die-with-parent ends the box and all in it."""
    worktree = make_worktree(tmp_path)
    mark = f"agentos-boxed-{os.getpid()}-{time.monotonic_ns()}"
    walls = confine.Walls(Isolation.BWRAP, (Path("/tmp"),), (), tmp_path / "homes")
    body = orphan(mark) + "sleep 300\n"
    try:
        with confine.session(confine.Box(walls, worktree, "t-killed")) as confined:
            spec = confined(process.Spec(("/bin/sh", "-c", body), worktree, PLAIN))
            code = (  # a worker: the agent in a session of its own, as process.run starts it
                "import subprocess, time; "
                f"subprocess.Popen({list(spec.argv)!r}, start_new_session=True, "
                "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                "time.sleep(300)"
            )
            with subprocess.Popen([sys.executable, "-c", code], cwd=worktree) as worker:
                assert appears(mark)
                worker.kill()
            assert gone(mark)
    finally:
        _end(mark)


def test_unconfined_the_same_orphan_outlives_its_run(tmp_path: Path) -> None:
    """What the box stops: a plain child's `setsid` grandchild lives on (ended here by hand)."""
    mark = f"agentos-orphan-{os.getpid()}-{time.monotonic_ns()}"
    try:
        done = subprocess.run(["/bin/sh", "-c", orphan(mark)], capture_output=True, timeout=30)
        assert done.stdout == b"orphan running\n" and not gone(mark, within=1)
    finally:
        _end(mark)


def orphan(mark: str) -> str:
    """Return a script that leaves a `setsid` grandchild running (its argv holds `mark`),
    and says "orphan running" once it runs."""
    # The mark is whole only in the orphan's argv: not in this script's text, nor grep's argv.
    head, tail = mark[:8], mark[8:]
    seen = f"grep -qs '{mark[:-1]}[{mark[-1]}]' /proc/[0-9]*/cmdline"
    start = f'setsid sh -c "sleep 300; : ${{head}}{tail}" < /dev/null > /dev/null 2>&1 &'
    return (
        f"head={head}; ({start})\n"
        f"for _ in 1 2 3 4 5 6 7 8 9 10; do {seen} && break; sleep 0.1; done\n"
        f"{seen} && echo orphan running\n"
    )


def appears(mark: str, within: float = 10.0) -> bool:
    """Wait up to `within` seconds for a process marked `mark`; tell whether one came."""
    deadline = time.monotonic() + within
    while not _running(mark):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def gone(mark: str, within: float = 5.0) -> bool:
    """Wait up to `within` seconds for every process marked `mark` to end; tell whether they did."""
    deadline = time.monotonic() + within
    while _running(mark):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _end(mark: str) -> None:
    """End what a test left running: the orphan leads a session of its own, so its group."""
    for pid in _pids(mark):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            os.kill(pid, signal.SIGKILL)


def _pids(mark: str) -> list[int]:
    """Return the live (not zombie) processes whose argv holds `mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark.encode() in (entry / "cmdline").read_bytes():
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _running(mark: str) -> bool:
    return bool(_pids(mark))


@needs_bwrap
def test_the_canary_is_in_the_agents_env_and_home_and_masked_wherever_it_shows(
    tmp_path: Path,
) -> None:
    agent = """
    echo "env $GH_TOKEN $GITHUB_TOKEN"
    cat ~/.git-credentials ~/.config/gh/hosts.yml
    printf 'x%s' "$GH_TOKEN" | base64
    """
    config, host = installation(tmp_path, agent)
    outcome, events, _ = run(config, host, canary=CANARY)
    said = "\n".join(lines(events))
    assert outcome.kind is OutcomeKind.FINISHED, outcome
    assert CANARY not in said and base64.b64encode(f"x{CANARY}".encode()).decode() not in said
    assert f"env {CANARY_MASK} {CANARY_MASK}" in said
    assert "x-access-token" in said  # the URL's credentials: masked by the redactor first
    assert f"oauth_token: {CANARY_MASK}" in said
    assert said.count(CANARY_MASK) >= 4
    assert outcome.canary_seen == "agent stdout"


def test_no_canary_is_seen_when_the_agent_leaves_it_alone(tmp_path: Path) -> None:
    config, host = installation(tmp_path, "echo quiet\n")
    outcome, _, _ = run(config, host, canary=CANARY)
    assert outcome.kind is OutcomeKind.FINISHED and outcome.canary_seen == ""


@needs_bwrap
def test_a_canary_shaped_like_a_github_token_is_seen_before_the_redactor_hides_it(
    tmp_path: Path,
) -> None:
    canary = "ghp_" + "C4n4ry" * 6
    config, host = installation(tmp_path, 'echo "token: $GITHUB_TOKEN"\n')
    outcome, events, _ = run(config, host, canary=canary)
    assert canary not in "\n".join(lines(events))
    assert outcome.canary_seen == "agent stdout"


@needs_bwrap
def test_where_the_walls_cannot_stand_the_run_is_unavailable_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confine, "probe", lambda: "bwrap cannot start (uid map: EPERM)")
    config, host = installation(tmp_path, "echo ran > ran.txt\n")
    outcome, _, worktree = run(config, host)
    assert outcome.kind is OutcomeKind.UNAVAILABLE and not (worktree / "ran.txt").exists()
    assert outcome.error == (
        "agents cannot be confined here: bwrap cannot start (uid map: EPERM); "
        "set agents.isolation: none to run agents unconfined; see docs/security.md"
    )


def test_a_canary_the_redaction_hid_before_the_collector_is_still_seen() -> None:
    """The anthropic loop's tool output is clipped (redacted) before it becomes an event."""
    register_values([CANARY], redact.CANARY)
    try:
        emitted: list[AgentEvent] = []
        collector = Collector("api", emitted.append, canary=CANARY)
        collector.emit(ToolReturned("t1", clip(f"found GH_TOKEN={CANARY}")))
        assert collector.canary_seen == "agent output (tool.returned)"
        assert CANARY not in repr(emitted) and CANARY_MASK in repr(emitted)
    finally:
        forget_values()
    quiet = Collector("api", emitted.append, canary=CANARY)
    quiet.emit(ToolReturned("t2", clip("nothing here")))
    assert quiet.canary_seen == ""

"""Off means off, in two strengths, with real processes: a queue tick running three agents.

`off` is a drain: the running tick starts nothing more and its agents finish. `off --now` also
stops the agents: their work so far is pushed to their branches, their tasks go back to the
inbox, and switched on again they go on from there.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator.cli.main import main
from orchestrator.store import rooms
from tests.e2e.conftest import ROOT, World

ISSUES = (1, 2, 3, 4)
RUNNING = ("app-1-g1-a1", "app-2-g1-a1", "app-3-g1-a1")


def _files(n: int) -> dict[str, str]:
    return {f"calc/f{n}.py": f"def f{n}():\n    return {n}\n"}


def _queue_four(world: World, sleep: float) -> None:
    """Four Ready issues, three worker slots: three agents run, the fourth task waits."""
    for n in ISSUES:
        world.issue("acme/app", f"Add f{n}")
    world.set_playbook(
        {
            str(n): [
                {
                    "early": {f"calc/wip{n}.py": "# started\n"},
                    "sleep": sleep,
                    "files": _files(n),
                    "summary": f"Added f{n}.",
                }
            ]
            for n in ISSUES
        }
    )
    assert world.run("dispatcher") == 0
    assert len(world.mailbox("inbox")) == 4
    data = world.config_path.read_text()  # then room for three at a time
    world.config_path.write_text(data.replace("max_parallel_workers: 4", "max_parallel_workers: 3"))


def _supervisor(world: World) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ROOT / "bin" / "agentos"), "--config", str(world.config_path), "run", "queue"],
        env=world.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(what: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _agents_running(world: World) -> bool:
    """True once each of the three running agents has begun its work (its first file)."""
    worktrees = world.root / "runtime" / "worktrees" / "app"
    return all(
        (worktrees / task / "calc" / f"wip{n}.py").exists() for n, task in enumerate(RUNNING, 1)
    )


def _agentos(world: World, capsys: object, *args: str) -> tuple[int, str]:
    code = main(["--config", str(world.config_path), *args], environ=world.env)
    out = capsys.readouterr().out.strip()  # type: ignore[attr-defined]
    return code, out


def test_off_drains_the_running_tick_starts_nothing_more_and_its_agents_finish(
    world: World, capsys: object
) -> None:
    _queue_four(world, sleep=12)  # long enough that no agent ends before the switch, on a busy CI
    supervisor = _supervisor(world)
    _wait_for(lambda: _agents_running(world))
    code, said = _agentos(world, capsys, "off")
    assert code == 0
    assert said == "Agent OS is off; 3 running agents will finish; nothing new starts."
    assert supervisor.wait(120) == 0  # it ends once its agents have, starting no fourth
    assert world.mailbox("delivered") == list(RUNNING)
    assert world.mailbox("inbox") == ["app-4-g1-a1"] and world.mailbox("processing") == []
    assert len(world.tracker.open_pulls("acme/app")) == 3
    started = [e["task_id"] for e in world.events("queue", "task.started")]
    assert sorted(started) == list(RUNNING)


def test_off_now_stops_the_agents_keeps_their_work_and_requeues_their_tasks(
    world: World, capsys: object
) -> None:
    _queue_four(world, sleep=120)
    supervisor = _supervisor(world)
    _wait_for(lambda: _agents_running(world))
    begun = time.monotonic()
    code, said = _agentos(world, capsys, "off", "--now")
    assert code == 0 and said == "Agent OS is off; 3 agents stopped, 3 tasks requeued."
    assert time.monotonic() - begun < 60  # not the agents' two minutes
    assert supervisor.wait(60) == 0
    assert world.mailbox("inbox") == ["app-1-g1-a1", "app-2-g1-a1", "app-3-g1-a1", "app-4-g1-a1"]
    assert world.mailbox("processing") == [] and world.mailbox("escalated") == []
    assert world.tracker.open_pulls("acme/app") == []
    heads = world.git_ls_remote("acme/app")
    assert {f"refs/heads/agent/{n}-add-f{n}" for n in (1, 2, 3)} <= heads  # the work so far
    assert len(world.events("queue", "task.stopped")) == 3
    assert not world.events("queue", "task.recovered")  # a stop is not a death
    # switched on, they go on from their branches and are delivered
    world.set_playbook({str(n): [{"files": _files(n), "summary": f"Added f{n}."}] for n in ISSUES})
    assert _agentos(world, capsys, "on")[0] == 0
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == [f"app-{n}-g1-a1" for n in ISSUES]
    prepared = [
        e
        for e in rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1").events
        if e["event"] == "worktree.prepared"
    ]
    assert [e["continued"] for e in prepared] == [False, True]
    [pr] = [p for p in world.tracker.open_pulls("acme/app") if p.head == "agent/1-add-f1"]
    assert "`calc/wip1.py`" in pr.body and "`calc/f1.py`" in pr.body


def test_repo_off_now_stops_only_that_repos_agents(world: World, capsys: object) -> None:
    _queue_four(world, sleep=120)
    supervisor = _supervisor(world)
    _wait_for(lambda: _agents_running(world))
    code, said = _agentos(world, capsys, "repo", "off", "app", "--now")
    assert code == 0 and said == "repo app is off; 3 agents stopped, 3 tasks requeued."
    assert supervisor.wait(60) == 0
    assert sorted(world.mailbox("inbox")) == [f"app-{n}-g1-a1" for n in ISSUES]
    assert Path(world.root / "runtime" / "state" / "repo_disabled" / "app").exists()

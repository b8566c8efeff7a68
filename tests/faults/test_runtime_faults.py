"""Nothing under runtime/ poisons the loop: a damaged file is set aside, said once; the rest runs.

Each case damages one file the way a full disk, a crash, an editor or an older version would,
ticks the jobs as cron does, and checks: every tick exits as it should, the file is in
runtime/quarantine/ with one event and one notification, the other task is still delivered, and
nothing is escalated (or said to GitHub) for the wrong reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import World

Damage = Callable[[Path], None]
FIRST, SECOND = "app-1-g1-a1", "app-2-g1-a1"


def _files(n: int) -> dict[str, str]:
    return {f"calc/f{n}.py": f"def f{n}():\n    return {n}\n"}


def _two_queued(world: World) -> None:
    for n in (1, 2):
        world.issue("acme/app", f"Add f{n}", "## Goal\nA function.\n")
    world.set_playbook({str(n): [{"files": _files(n), "summary": f"Added f{n}."}] for n in (1, 2)})
    assert world.run("dispatcher") == 0
    assert world.mailbox("inbox") == [FIRST, SECOND]


def _runtime(world: World) -> Path:
    return world.root / "runtime"


def _quarantined(world: World) -> list[str]:
    folder = _runtime(world) / "quarantine"
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith((".why", ".said")))


def _announced(world: World) -> list[str]:
    texts = []
    for job in ("dispatcher", "queue", "pr_monitor"):
        texts += [
            e["text"]
            for e in world.events(job)
            if e["event"] in ("notification.logged", "notification.queued")
            and e["text"].startswith("runtime file set aside")
        ]
    return texts


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40])


def _binary(path: Path) -> None:
    path.write_bytes(b"\x00\xff\xfe" + os.urandom(200))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _wrong_shape(path: Path) -> None:
    path.write_text("---\n- a list\n- not a task\n---\nbody\n")


def _directory(path: Path) -> None:
    path.unlink()
    (path / "inner").mkdir(parents=True)


@pytest.mark.parametrize(
    "damage", [_truncate, _binary, _empty, _wrong_shape, _directory], ids=lambda d: d.__name__[1:]
)
def test_a_damaged_task_file_is_set_aside_and_the_other_task_is_delivered(
    world: World, damage: Damage
) -> None:
    _two_queued(world)
    damage(_runtime(world) / "mailbox" / "inbox" / f"{FIRST}.md")
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == [SECOND]
    assert [pr.head for pr in world.tracker.open_pulls("acme/app")] == ["agent/2-add-f2"]
    assert _quarantined(world) == [n for n in _quarantined(world) if n.endswith(f"{FIRST}.md")]
    assert len(_quarantined(world)) == 1
    [event] = world.events("queue", "state.quarantined")
    assert event["file"] == f"mailbox/inbox/{FIRST}.md"
    assert world.run("dispatcher") == 0 and world.run("queue") == 0  # the next ticks: said once
    assert _announced(world) == [f"runtime file set aside: mailbox/inbox/{FIRST}.md"]
    assert world.mailbox("escalated") == [] and world.mailbox("inbox") == []


def test_a_task_whose_repo_key_left_the_config_is_set_aside_and_the_rest_delivered(
    world: World,
) -> None:
    _two_queued(world)
    inbox = _runtime(world) / "mailbox" / "inbox"
    text = (inbox / f"{FIRST}.md").read_text().replace("repo_key: app", "repo_key: gone")
    (inbox / f"{FIRST}.md").unlink()
    (inbox / "gone-1-g1-a1.md").write_text(text.replace(f"id: {FIRST}", "id: gone-1-g1-a1"))
    assert world.run("queue") == 0 and world.run("dispatcher") == 0
    assert world.mailbox("delivered") == [SECOND]
    [event] = world.events("queue", "state.quarantined")
    assert "repo key 'gone' is not in the config" in event["reason"]
    assert world.mailbox("escalated") == []


def _write(relative: str, content: bytes) -> Callable[[World], None]:
    def damage(world: World) -> None:
        path = _runtime(world) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    damage.__name__ = f"{relative} = {content[:12]!r}"
    return damage


def _dir(relative: str) -> Callable[[World], None]:
    def damage(world: World) -> None:
        (_runtime(world) / relative / "inner").mkdir(parents=True, exist_ok=True)

    damage.__name__ = f"{relative} a directory"
    return damage


STATE_DAMAGE = [
    _write("state/cooldowns.json", b"\xff\xfe garbage"),
    _write("state/cooldowns.json", b"[]"),
    _dir("state/cooldowns.json"),
    _write("state/dispatcher.memo.json", b"[]"),
    _write("state/pr_monitor.memo.json", b'{"comments": [1]}'),
    _dir("state/dispatcher.memo.json"),
]


@pytest.mark.parametrize("damage", STATE_DAMAGE, ids=lambda d: d.__name__)
def test_a_damaged_state_file_is_set_aside_and_every_task_is_delivered(
    world: World, damage: Callable[[World], None]
) -> None:
    _two_queued(world)
    damage(world)
    for job in ("queue", "pr_monitor", "dispatcher"):
        assert world.run(job) == 0, job
    assert world.mailbox("delivered") == [FIRST, SECOND]
    assert world.mailbox("escalated") == []
    assert len(_quarantined(world)) == 1
    assert world.run("dispatcher") == 0
    assert len(_announced(world)) == 1


def test_a_garbled_lifecycle_of_a_delivered_task_does_not_stop_its_merge(world: World) -> None:
    from tests.e2e.conftest import TEST_COMMAND

    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    _two_queued(world)
    assert world.run("queue") == 0 and world.sandbox.wait_ci_idle(60)
    lifecycle = _runtime(world) / "rooms" / FIRST / "lifecycle.json"
    lifecycle.write_text('{"task_id": "x", "history": [{"state": "lost"')
    assert world.run("pr_monitor") == 0
    assert world.tracker.open_pulls("acme/app") == []  # both merged
    assert world.mailbox("escalated") == []
    [aside] = [n for n in _quarantined(world) if n.endswith(f"{FIRST}~lifecycle.json")]
    assert world.events("pr_monitor", "state.quarantined")[0]["file"].endswith("lifecycle.json")


def test_a_directory_in_place_of_the_global_switch_means_off_and_on_says_what_to_do(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli.main import main

    (_runtime(world) / "state" / "disabled").mkdir(parents=True)
    assert world.run("dispatcher") == 0 and world.mailbox("inbox") == []  # off: fails safe
    argv = ["--config", str(world.config_path)]
    assert main([*argv, "status"], environ=world.env) == 0
    assert "off" in capsys.readouterr().out.lower()
    assert main([*argv, "on"], environ=world.env) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "state/disabled is a directory" in err[0] and "rmdir" in err[0]


def test_a_full_disk_fails_the_tick_in_one_line_and_leaves_no_half_written_task(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli.main import main

    world.issue("acme/app", "Add f1")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code = main(["--config", str(world.config_path), "run", "dispatcher"], environ=world.env)
    monkeypatch.setattr(os, "fsync", real_fsync)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("agentos:")]
    assert code == 1 and len(err) == 1 and "No space left on device" in err[0]
    inbox = _runtime(world) / "mailbox" / "inbox"
    assert not inbox.exists() or list(inbox.iterdir()) == []  # no task, no temp file
    assert world.run("dispatcher") == 0 and world.mailbox("inbox") == [FIRST]  # space again


def test_the_cooldowns_being_unreadable_never_kill_a_worker(world: World) -> None:
    """The issue's own case: a corrupt cooldowns.json made every task crash three times."""
    _two_queued(world)
    _write("state/cooldowns.json", b'{"claude": {"until": "soon"}}')(world)
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == [FIRST, SECOND]
    assert not any(e["event"] == "task.recovered" for e in world.events("queue"))
    assert len(_quarantined(world)) == 1

"""runtime/state/cooldowns.json: shared by workers, written atomically.

It never grows past one entry per backend.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.core.routing import Cooldown
from orchestrator.store.cooldowns import CooldownStore

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]


def test_a_cooldown_is_in_force_until_its_end(tmp_path: Path) -> None:
    store = CooldownStore(tmp_path)
    assert store.active(NOW) == {}
    store.start(Cooldown("claude", NOW + HOUR, "usage limit"), NOW)
    assert CooldownStore(tmp_path).active(NOW) == {
        "claude": Cooldown("claude", NOW + HOUR, "usage limit")
    }
    assert store.active(NOW + HOUR) == {}


def test_a_shorter_cooldown_never_cuts_a_longer_one_short(tmp_path: Path) -> None:
    store = CooldownStore(tmp_path)
    store.start(Cooldown("claude", NOW + 3 * HOUR, "weekly limit"), NOW)
    store.start(Cooldown("claude", NOW + HOUR, "rate limit"), NOW)
    assert store.active(NOW)["claude"].until == NOW + 3 * HOUR
    store.start(Cooldown("claude", NOW + 4 * HOUR, "again"), NOW)
    assert store.active(NOW)["claude"] == Cooldown("claude", NOW + 4 * HOUR, "again")


def test_rests_that_are_over_are_dropped_from_the_file(tmp_path: Path) -> None:
    store = CooldownStore(tmp_path)
    store.start(Cooldown("codex", NOW + HOUR, "quota"), NOW)
    store.start(Cooldown("claude", NOW + 3 * HOUR, "quota"), NOW + 2 * HOUR)
    assert "codex" not in (tmp_path / "cooldowns.json").read_text()
    assert store.clear("claude") and not store.clear("claude") and store.active(NOW) == {}


def test_writes_leave_no_temporary_files_behind(tmp_path: Path) -> None:
    store = CooldownStore(tmp_path)
    for n in range(5):
        store.start(Cooldown(f"b{n}", NOW + HOUR, "quota"), NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cooldowns.json.lock", "cooldowns.json"]


@pytest.mark.parametrize(
    "content",
    [
        b'{"claude": {"until": "tomorrow"}}',
        b'{"claude": {"until": "2026-11-22T10:00:00"}}',  # no time zone: not comparable
        b"[]",
        b'{"claude": 3}',
        b"\xff\xfe\x00garbage",
        b'{"claude": {"until": "2026-11-22T1',
    ],
)
def test_a_damaged_file_means_no_cooldowns_and_is_set_aside(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "cooldowns.json").write_bytes(content)
    store = CooldownStore(state)
    assert store.active(NOW) == {}
    assert not (state / "cooldowns.json").exists()
    [aside] = [p for p in (tmp_path / "quarantine").iterdir() if not p.name.endswith(".why")]
    assert aside.read_bytes() == content and aside.name.endswith("state~cooldowns.json")
    store.start(Cooldown("claude", NOW + HOUR, "quota"), NOW)  # and the next write starts afresh
    assert set(store.active(NOW)) == {"claude"}


def test_workers_starting_cooldowns_at_once_lose_none(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom datetime import datetime, timedelta, timezone\nfrom pathlib import Path\n"
        "from orchestrator.store.cooldowns import CooldownStore\n"
        "from orchestrator.core.routing import Cooldown\n"
        "now = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)\n"
        "store = CooldownStore(Path(sys.argv[1]))\n"
        "for n in range(20):\n"
        "    store.start(Cooldown(f'{sys.argv[2]}-{n}', now + timedelta(hours=1), 'quota'), now)\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"w{i}"], cwd=ROOT)
        for i in range(4)
    ]
    assert [worker.wait(60) for worker in workers] == [0, 0, 0, 0]
    assert len(CooldownStore(tmp_path).active(NOW)) == 80

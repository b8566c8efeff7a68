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
from orchestrator.errors import StateError
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


def test_a_malformed_file_is_a_state_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "cooldowns.json").write_text('{"claude": {"until": "tomorrow"}}')
    with pytest.raises(StateError, match="cooldowns.json: malformed"):
        CooldownStore(tmp_path).active(NOW)


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

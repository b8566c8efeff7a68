"""What a chat user changes is recorded in the audit log, signed with their name and id."""

from __future__ import annotations

import logging
from pathlib import Path

from orchestrator.adapters.memory_audit import MemoryAudit, memory_mac
from orchestrator.config.load import load_config
from orchestrator.control.plane import Control
from orchestrator.core import audit
from orchestrator.core.chat import RepoMode, Simple, Switch
from orchestrator.jobs import JOBS
from tests.helpers import ENV, write_config

ALICE = "alice (1001)"


def control(tmp_path: Path, trail: MemoryAudit | None) -> Control:
    config = load_config(write_config(tmp_path), ENV)
    return Control(config, JOBS, logging.getLogger("test.audit"), audit=trail)


def test_switches_and_settings_from_chat_are_recorded_by_who_changed_them(tmp_path: Path) -> None:
    trail = MemoryAudit()
    plane = control(tmp_path, trail)
    plane.command(Simple("off"), ALICE)
    plane.command(Simple("off"), ALICE)  # already off: nothing changed, nothing recorded
    plane.command(Switch("job", "dispatcher", False), "bob (1002)")
    plane.command(Switch("repo", "app", False), ALICE)
    plane.command(RepoMode("app", "dispatcher_only"), ALICE)
    plane.command(Simple("on"), ALICE)
    assert [(e.act, e.actor, dict(e.fields)) for e in trail.entries] == [
        ("switch.changed", "chat:alice (1001)", {"switch": "global", "state": "off"}),
        ("switch.changed", "chat:bob (1002)", {"switch": "job dispatcher", "state": "off"}),
        ("switch.changed", "chat:alice (1001)", {"switch": "repo app", "state": "off"}),
        (
            "setting.changed",
            "chat:alice (1001)",
            {"key": "repos.app.automation_mode", "value": "dispatcher_only"},
        ),
        ("switch.changed", "chat:alice (1001)", {"switch": "global", "state": "on"}),
    ]
    lines = [e.line().encode() for e in trail.entries]
    assert audit.check(lines, memory_mac, audit.head_of(trail.entries[-1], memory_mac)).intact


def test_a_control_plane_without_an_audit_log_still_switches(tmp_path: Path) -> None:
    plane = control(tmp_path, None)
    assert plane.command(Simple("off"), ALICE).startswith("Agent OS is off")
    assert not plane.switches.is_on()

"""Real processes: the offset survives a kill between two updates.

`agentos bot` runs under systemd's signals.

Both ways of running the control plane are killed with SIGKILL after the first of two updates
was handled and while the second one (a /why whose GitHub read the GitHub sandbox holds back)
is in progress. The next run must handle the second update, and must not handle the first again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.jobs import JOBS
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.telegram import TelegramSandbox
from orchestrator.store.switches import Switches
from tests.contract.worlds import github_tracker
from tests.control.conftest import ALICE, REPO, telegram_config, until
from tests.helpers import minimal_config, write_config
from tests.support.github_sandbox import running_sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.add_user("acme")
        sandbox.create_repo(REPO)
        tracker = github_tracker(sandbox.api_url, sandbox.token)
        tracker.create_issue(REPO, "Issue 1", "Say hello.")
        tracker.close()
        yield sandbox


@pytest.fixture
def config(tmp_path: Path, telegram_sandbox: TelegramSandbox, github: Sandbox) -> Path:
    data = minimal_config(
        telegram=telegram_config(telegram_sandbox),
        github={"token": "$GITHUB_TOKEN", "api_url": github.api_url},
    )
    return write_config(tmp_path, data)


def environment(telegram_sandbox: TelegramSandbox, github: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "GITHUB_TOKEN": github.token,
        "TELEGRAM_BOT_TOKEN": telegram_sandbox.token,
    }


def spawn(config: Path, env: dict[str, str], *words: str) -> subprocess.Popen[bytes]:
    """Start `agentos WORDS...`; its output goes to output.log beside the config."""
    with (config.parent / "output.log").open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli.main", "--config", str(config), *words],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )


def output(config: Path) -> str:
    return (config.parent / "output.log").read_text(errors="replace")


def offset(config: Path) -> int:
    try:
        return int(
            json.loads((config.parent / "runtime/state/telegram_offset.json").read_text())[
                "update_id"
            ]
        )
    except FileNotFoundError:
        return 0


def replies(sandbox: TelegramSandbox) -> list[str]:
    return [m["text"] for m in sandbox.screen(ALICE) if m["from"]["is_bot"]]


def commands(config: Path) -> list[str]:
    log = config.parent / "runtime/logs/telegram_control.jsonl"
    return [
        e["command"]
        for e in map(json.loads, log.read_text().splitlines())
        if e["event"] == "command.received"
    ]


@pytest.mark.parametrize("mode", ["run telegram_control", "bot"])
def test_the_offset_survives_a_kill_between_two_updates(
    mode: str, config: Path, telegram_sandbox: TelegramSandbox, github: Sandbox
) -> None:
    env = environment(telegram_sandbox, github)
    github.add_fault("slow", method="GET", path=f"/api/v3/repos/{REPO}/issues/1", delay=30, times=1)
    telegram_sandbox.inject_message("/off")
    telegram_sandbox.inject_message("/why 1")
    first = spawn(config, env, *mode.split())
    until(lambda: offset(config) == 1, timeout=60)  # /off handled; /why waits on GitHub
    first.kill()
    first.wait(10)
    assert replies(telegram_sandbox) == [
        "Agent OS is off: no job starts a new tick; no agent is running. "
        "This bot keeps listening; /on turns it back on."
    ]
    github.faults.clear()
    second = spawn(config, env, *mode.split())
    until(lambda: len(replies(telegram_sandbox)) == 2, timeout=60)
    if mode == "bot":
        second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0, output(config)
    off, why = replies(telegram_sandbox)
    assert why.startswith("app#1 Issue 1: not started: Agent OS off")
    # none handled twice, none lost
    assert commands(config).count("off") == 1 and offset(config) == 2
    assert not Switches(config.parent / "runtime/state").is_on()


def test_agentos_bot_runs_while_off_holds_the_jobs_lock_and_stops_on_sigterm(
    config: Path, telegram_sandbox: TelegramSandbox, github: Sandbox
) -> None:
    switches = Switches(config.parent / "runtime/state")
    switches.set_global(False, "2026-05-01T09:00:00+00:00")
    bot = spawn(config, environment(telegram_sandbox, github), "bot")
    try:
        telegram_sandbox.inject_message("/on")
        until(lambda: switches.is_on(), timeout=60)
        env = {"GITHUB_TOKEN": github.token, "TELEGRAM_BOT_TOKEN": telegram_sandbox.token}
        assert (
            main(["--config", str(config), "run", "telegram_control"], jobs=JOBS, environ=env) == 0
        )
        log = (config.parent / "runtime/logs/telegram_control.jsonl").read_text()
        assert '"event": "job.skipped"' in log  # the cron tick found the bot holding the lock
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(30) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    events = [json.loads(line)["event"] for line in log.splitlines()]
    assert "bot.started" in events and replies(telegram_sandbox) == ["Agent OS is on."]
    assert (
        '"event": "bot.stopped"'
        in (config.parent / "runtime/logs/telegram_control.jsonl").read_text()
    )

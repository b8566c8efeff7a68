"""`agentos run telegram_control`: one poll round per tick.

The offset is persisted after each update.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.config.load import load_config
from orchestrator.core import notify
from orchestrator.core.model import IssueRef
from orchestrator.core.notify import Kind, Notification
from orchestrator.deps import notifier_for
from orchestrator.jobs import JOBS
from orchestrator.sandbox.telegram import Fault, TelegramSandbox
from orchestrator.store.logs import setup as log_setup
from orchestrator.store.switches import Switches
from tests.control.conftest import ALICE, MALLORY, REPO, telegram_config
from tests.helpers import minimal_config, write_config
from tests.jobfixtures.registry import JOBS as TEST_JOBS


@pytest.fixture
def setup(tmp_path: Path, telegram_sandbox: TelegramSandbox) -> tuple[Path, dict[str, str]]:
    path = write_config(tmp_path, minimal_config(telegram=telegram_config(telegram_sandbox)))
    return path, {"GITHUB_TOKEN": "gh-test", "TELEGRAM_BOT_TOKEN": telegram_sandbox.token}


def tick(path: Path, env: dict[str, str], *extra: str, jobs: dict = JOBS) -> int:  # type: ignore[type-arg]
    return main(["--config", str(path), "run", "telegram_control", *extra], jobs=jobs, environ=env)


def events(path: Path, name: str) -> list[dict]:
    log = path.parent / "runtime" / "logs" / "telegram_control.jsonl"
    return [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == name]


def replies(sandbox: TelegramSandbox, chat_id: int = ALICE) -> list[str]:
    return [m["text"] for m in sandbox.screen(chat_id) if m["from"]["is_bot"]]


def offset(path: Path) -> int:
    return int(
        json.loads((path.parent / "runtime" / "state" / "telegram_offset.json").read_text())[
            "update_id"
        ]
    )


def test_a_tick_handles_what_waits_once_and_runs_while_agent_os_is_off(
    setup: tuple[Path, dict[str, str]], telegram_sandbox: TelegramSandbox
) -> None:
    path, env = setup
    telegram_sandbox.inject_message("/off")
    telegram_sandbox.inject_message("/jobs")
    telegram_sandbox.inject_message("/status", user_id=MALLORY, username="mallory")
    assert tick(path, env) == 0
    assert len(replies(telegram_sandbox)) == 2
    assert "Agent OS is off" in replies(telegram_sandbox)[0] and replies(telegram_sandbox)[
        1
    ].startswith("Jobs:")
    assert replies(telegram_sandbox, MALLORY) == [] and offset(path) == 3
    assert not Switches(path.parent / "runtime" / "state").is_on()
    telegram_sandbox.inject_message("/on")
    assert tick(path, env) == 0  # the global switch is off: the control plane runs anyway
    assert replies(telegram_sandbox)[2:] == ["Agent OS is on."] and offset(path) == 4
    assert tick(path, env) == 0
    assert len(replies(telegram_sandbox)) == 3  # nothing handled twice
    assert [e["updates"] for e in events(path, "run.finished")] == [3, 1, 0]
    assert events(path, "chat.refused")[0]["reason"] == "chat_not_allowed"


def test_a_tick_delivers_pending_notifications_as_one_message(
    setup: tuple[Path, dict[str, str]], telegram_sandbox: TelegramSandbox
) -> None:
    path, env = setup
    telegram_sandbox.inject_message("hi")  # a bot may write only to chats it has seen
    config = load_config(path, env)
    notifier = notifier_for(config, log_setup(config.paths.logs_dir, "queue", "r-q", stderr=False))
    for i in range(12):
        notifier.notify(
            notify.pr_opened(
                IssueRef(REPO, i), f"app-{i}-g1-a1", f"Issue {i}", 100 + i, "https://x/pr"
            )
        )
    assert tick(path, env) == 0
    [text] = replies(telegram_sandbox)
    assert text.startswith("Agent OS: 12 updates") and "PR #111 opened" in text
    assert tick(path, env) == 0 and len(replies(telegram_sandbox)) == 1
    assert [e["messages"] for e in events(path, "run.finished")] == [1, 0]


def test_a_dry_run_counts_what_waits_and_touches_nothing(
    setup: tuple[Path, dict[str, str]], telegram_sandbox: TelegramSandbox
) -> None:
    path, env = setup
    telegram_sandbox.inject_message("/off")
    assert tick(path, env, "--dry-run") == 0
    assert replies(telegram_sandbox) == [] and Switches(path.parent / "runtime" / "state").is_on()
    assert events(path, "run.finished")[0]["updates"] == 1
    assert tick(path, env) == 0 and "Agent OS is off" in replies(telegram_sandbox)[0]


def test_without_telegram_config_the_tick_says_so_and_exits_zero(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert tick(path, {"GITHUB_TOKEN": "gh-test"}) == 0
    assert (
        events(path, "telegram.not_configured") and events(path, "run.finished")[0]["updates"] == 0
    )


def test_a_crashed_job_is_announced_in_the_chat_at_the_next_tick(
    setup: tuple[Path, dict[str, str]], telegram_sandbox: TelegramSandbox
) -> None:
    from tests.jobfixtures.crashy import TOKEN

    path, env = setup
    telegram_sandbox.inject_message("hi")
    jobs = {**TEST_JOBS, "telegram_control": JOBS["telegram_control"]}
    assert main(["--config", str(path), "run", "crashy"], jobs=jobs, environ=env) == 1
    assert tick(path, env, jobs=jobs) == 0
    [text] = replies(telegram_sandbox)
    assert (
        text.startswith("💥 job crashy crashed")
        and "RuntimeError: GitHub said no to [REDACTED" in text
    )
    assert TOKEN not in text


def test_a_flush_cut_short_resumes_with_the_next_message_and_flood_control_is_honoured(
    setup: tuple[Path, dict[str, str]], telegram_sandbox: TelegramSandbox
) -> None:
    """Telegram fails the second of three messages.

    The next tick sends the second and third, not the first again.
    """
    path, env = setup
    telegram_sandbox.inject_message("hi")
    config = load_config(path, env)
    notifier = notifier_for(config, log_setup(config.paths.logs_dir, "queue", "r-q", stderr=False))
    for i in range(3):
        notifier.notify(
            notify.escalated(IssueRef(REPO, i), f"app-{i}-g1-a3", f"Issue {i}", "why " * 300)
        )
    for i in range(40):
        notifier.notify(Notification(Kind.INFO, f"note {i} " + "word " * 60))
    telegram_sandbox.inject_fault("sendMessage", Fault.too_many_requests(retry_after=5))
    assert tick(path, env) == 0  # flood control: nothing goes out, nothing is lost
    assert replies(telegram_sandbox) == [] and events(path, "chat.rate_limited")[0]["retry_after"]
    telegram_sandbox.inject_fault("sendMessage", Fault.server_error(502), after=1)
    assert tick(path, env) == 0
    [first] = replies(telegram_sandbox)
    assert tick(path, env) == 0
    everything = replies(telegram_sandbox)
    assert (
        len(everything) >= 3 and everything[0] == first and len(set(everything)) == len(everything)
    )
    # + the 429 and the 502
    assert telegram_sandbox.request_count("sendMessage") == len(everything) + 2
    assert events(path, "chat.unreachable")[0]["error"].startswith("NetworkError")
    assert tick(path, env) == 0 and replies(telegram_sandbox) == everything

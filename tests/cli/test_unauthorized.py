"""A refused credential ends the tick `unauthorized` (exit 3), notifies once, and shows in status.

The incident: with a revoked GitHub token every dispatcher tick logged `board.unreadable 401`,
ended `outcome=ok` and exited 0; `status` said ok and nobody was told.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from github import GithubException
from gql.transport.exceptions import TransportServerError

from orchestrator.adapters.github_errors import from_github
from orchestrator.adapters.github_graphql import from_transport
from orchestrator.cli.main import main
from orchestrator.core.model import BoardItem
from orchestrator.delivery.backlog import gather
from orchestrator.errors import (
    RateLimited,
    TrackerError,
    TrackerUnauthorized,
    Unauthorized,
)
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.telegram.sandbox import TelegramSandbox
from tests.support.github_sandbox import running_sandbox

WRONG = "ghp_" + "0" * 36
ALICE = 1001


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github", login="acme") as sandbox:
        sandbox.create_repo("acme/app")
        yield sandbox


def write(root: Path, github: Sandbox, **extra: Any) -> Path:
    data: dict[str, Any] = {
        "repos": [{"key": "app", "github": "acme/app", "test_command": "true"}],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": github.api_url,
            "graphql_url": github.graphql_url,
            "seconds_between_writes": 0,
        },
        "agents": {"backends": {"script": {"type": "command", "argv": ["true"]}}},
        "paths": {"runtime_dir": str(root / "runtime")},
        **extra,
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(config: Path, job: str, token: str, **env: str) -> int:
    environ = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": token, **env}
    return main(["--config", str(config), "run", job], environ=environ)


def events(config: Path, job: str, name: str) -> list[dict[str, Any]]:
    log = config.parent / "runtime" / "logs" / f"{job}.jsonl"
    found = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [e for e in found if e["event"] == name]


def status(config: Path, token: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    environ = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": token}
    assert main(["--config", str(config), "status"], environ=environ) == 0
    return capsys.readouterr().out


def refused(config: Path) -> dict[str, Any]:
    path = config.parent / "runtime" / "state" / "unauthorized.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_wrong_token_ends_the_tick_unauthorized_notifies_once_and_a_good_tick_clears_it(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github)
    assert run(config, "dispatcher", WRONG) == 3
    assert run(config, "dispatcher", WRONG) == 3
    ends = events(config, "dispatcher", "run.unauthorized")
    assert [(e["outcome"], e["service"], e["notified"]) for e in ends] == [
        ("unauthorized", "github", True),
        ("unauthorized", "github", False),
    ]
    assert "401 Bad credentials" in ends[0]["error"]
    assert not events(config, "dispatcher", "board.unreadable")  # not one repo's failure
    assert not events(config, "dispatcher", "run.finished")
    notes = events(config, "dispatcher", "notification.logged")  # no Telegram: the log
    assert [n["kind"] for n in notes] == ["credentials_refused"]
    assert "GitHub refused Agent OS's token (job dispatcher)" in notes[0]["text"]
    assert "stopped: GitHub rejected the token" in capsys.readouterr().err
    assert refused(config)["github"]["job"] == "dispatcher"

    shown = status(config, WRONG, capsys)
    assert "REFUSED:  GitHub refused the token since" in shown
    dispatcher = next(line for line in shown.splitlines() if line.strip().startswith("dispatcher"))
    assert "unauthorized" in dispatcher

    assert run(config, "dispatcher", github.token) == 0  # the token is fixed
    assert [e["service"] for e in events(config, "dispatcher", "credentials.accepted")] == [
        "github"
    ]
    assert refused(config) == {}
    shown = status(config, github.token, capsys)
    assert "REFUSED" not in shown

    assert run(config, "dispatcher", WRONG) == 3  # revoked again: told again
    assert [n["kind"] for n in events(config, "dispatcher", "notification.logged")] == [
        "credentials_refused"
    ] * 2
    assert WRONG not in (config.parent / "runtime" / "logs" / "dispatcher.jsonl").read_text()


def test_the_pr_monitor_does_not_swallow_a_refused_token_as_one_repos_failure(
    tmp_path: Path, github: Sandbox
) -> None:
    config = write(tmp_path, github)
    assert run(config, "pr_monitor", WRONG) == 3
    assert not events(config, "pr_monitor", "pulls.unreadable")
    assert events(config, "pr_monitor", "run.unauthorized")[0]["notified"] is True
    assert run(config, "dispatcher", WRONG) == 3  # the same refusal, another job: no new note
    assert events(config, "dispatcher", "run.unauthorized")[0]["notified"] is False


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with TelegramSandbox(strict=True) as sandbox:
        yield sandbox
    assert not sandbox.violations, sandbox.violations


def telegram_section(sandbox: TelegramSandbox) -> dict[str, Any]:
    return {
        "token": "$TELEGRAM_BOT_TOKEN",
        "api_url": sandbox.url,
        "allowed_chat_ids": [ALICE],
        "allowed_user_ids": [ALICE],
    }


def test_a_refused_bot_token_is_logged_and_shown_but_cannot_be_sent(
    tmp_path: Path, github: Sandbox, telegram: TelegramSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, telegram=telegram_section(telegram))
    wrong = "123456789:AAwrong-token_for-local-tests"
    assert run(config, "telegram_control", github.token, TELEGRAM_BOT_TOKEN=wrong) == 3
    end = events(config, "telegram_control", "run.unauthorized")[0]
    assert (end["service"], end["notified"]) == ("telegram", False)
    assert not (config.parent / "runtime" / "state" / "outbox.jsonl").exists()
    assert "Telegram refused the token" in status(config, github.token, capsys)
    assert wrong not in (config.parent / "runtime" / "logs" / "telegram_control.jsonl").read_text()

    assert run(config, "telegram_control", github.token, TELEGRAM_BOT_TOKEN=telegram.token) == 0
    assert refused(config) == {}


def test_a_command_that_meets_a_refused_github_token_answers_and_ends_the_round(
    tmp_path: Path, github: Sandbox, telegram: TelegramSandbox
) -> None:
    config = write(tmp_path, github, telegram=telegram_section(telegram))
    telegram.inject_message("/why 1", user_id=ALICE)
    assert run(config, "telegram_control", WRONG, TELEGRAM_BOT_TOKEN=telegram.token) == 3
    replies = [m["text"] for m in telegram.screen(ALICE) if m["from"]["is_bot"]]
    assert any("GitHub rejected the token" in text for text in replies), replies
    assert events(config, "telegram_control", "run.unauthorized")[0]["service"] == "github"
    # the update was handled: the next round does not answer it again
    assert run(config, "telegram_control", WRONG, TELEGRAM_BOT_TOKEN=telegram.token) == 0


@pytest.mark.parametrize(
    "status, body, headers, kind",
    [
        (401, {"message": "Bad credentials"}, {}, TrackerUnauthorized),
        (403, {"message": "Resource not accessible by personal access token"}, {}, Unauthorized),
        (403, {"message": "You have exceeded a secondary rate limit."}, {}, RateLimited),
        (403, {"message": "Forbidden"}, {"retry-after": "30"}, RateLimited),
        (403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}, RateLimited),
        (404, {"message": "Not Found"}, {}, TrackerError),
    ],
)
def test_rest_answers_map_to_refused_token_or_rate_limit(
    status: int, body: dict[str, str], headers: dict[str, str], kind: type[Exception]
) -> None:
    error = from_github(GithubException(status, body, headers), "acme/app", "read")
    assert isinstance(error, kind)
    if kind is RateLimited or status == 404:
        assert not isinstance(error, Unauthorized)


@pytest.mark.parametrize(
    "code, headers, kind",
    [
        (401, {}, TrackerUnauthorized),
        (403, {}, TrackerUnauthorized),
        (403, {"retry-after": "60"}, RateLimited),
        (429, {}, RateLimited),
    ],
)
def test_graphql_answers_map_to_refused_token_or_rate_limit(
    code: int, headers: dict[str, str], kind: type[Exception]
) -> None:
    error = from_transport(TransportServerError("refused", code), headers, "board acme/1", "read")
    assert type(error) is kind


class _Refusing:
    def __init__(self, error: TrackerError) -> None:
        self.error = error

    def items(self, detail: object = ()) -> list[BoardItem]:
        raise self.error


def test_gather_skips_an_unreadable_board_but_not_a_refused_token() -> None:
    from orchestrator.adapters.memory import MemoryTracker
    from orchestrator.config.model import AutomationMode, RepoConfig

    repo = RepoConfig("app", "acme/app", None, "main", None, None, AutomationMode.FULL, 1)
    skipped = gather(MemoryTracker(), lambda r: _Refusing(TrackerError("gone")), [repo], ())
    assert skipped.failed_repos == {"app": "gone"}
    with pytest.raises(TrackerUnauthorized):
        gather(MemoryTracker(), lambda r: _Refusing(TrackerUnauthorized("401")), [repo], ())

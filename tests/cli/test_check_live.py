"""`agentos check --live` and `doctor` against the GitHub and Telegram sandboxes, and `--bundle`."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.cli.main import build_parser, main
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import BoardStatus
from orchestrator.core.redact import encoded_forms
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.telegram.sandbox import TelegramSandbox
from tests.sandbox.github.helpers import client
from tests.support.github_sandbox import protect, running_sandbox

CHAT = 1001  # alice's private chat with the bot


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github", login="acme") as sandbox:
        sandbox.create_repo("acme/app")
        yield sandbox


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with TelegramSandbox(strict=True) as sandbox:
        sandbox.inject_message("/start")  # alice writes first: her chat is one the bot knows
        yield sandbox
    assert not sandbox.violations, sandbox.violations


def write(root: Path, github: Sandbox, telegram: TelegramSandbox | None, **extra: Any) -> Path:
    """Write a config for the sandboxes: one repo with `status:*` labels, a `command` agent."""
    data: dict[str, Any] = {
        "repos": [{"key": "app", "github": "acme/app", "test_command": "true"}],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": github.api_url,
            "graphql_url": github.graphql_url,
        },
        "agents": {
            "backends": {"script": {"type": "command", "argv": ["true"]}},
            "isolation": "none",
        },
        "paths": {"runtime_dir": str(root / "runtime")},
        **extra,
    }
    if telegram is not None:
        data["telegram"] = {
            "token": "$TELEGRAM_BOT_TOKEN",
            "api_url": telegram.url,
            "allowed_chat_ids": [CHAT],
        }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def environ(github: Sandbox, telegram: TelegramSandbox | None, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/nonexistent")}
    env["GITHUB_TOKEN"] = github.token
    if telegram is not None:
        env["TELEGRAM_BOT_TOKEN"] = telegram.token
    return env | extra


def agentos(config: Path, env: dict[str, str], *words: str) -> int:
    tab = config.parent / "crontab"
    return main(["--config", str(config), *words, "--crontab-file", str(tab)], environ=env)


def lines(out: str, level: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"{level} ")]


def test_live_check_passes_on_a_working_setup_one_line_per_check(
    tmp_path: Path,
    github: Sandbox,
    telegram: TelegramSandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = GitHubTracker(
        GitHubConfig(Secret("T", github.token), github.api_url, github.graphql_url, ()),
        throttle=False,
    )
    client.ensure_labels("acme/app", {s.label: "ededed" for s in BoardStatus})
    client.close()
    config = write(tmp_path, github, telegram)
    github.clear_requests()
    assert agentos(config, environ(github, telegram), "check", "--live") == 0
    out = capsys.readouterr().out
    assert not lines(out, "FAIL"), out
    ok = "\n".join(lines(out, "ok"))
    assert "github token: acme; scopes repo, project, read:org" in ok
    assert "repos.app: acme/app, the token can push" in ok
    assert "repos.app.board: status:* labels on acme/app" in ok
    assert "telegram: bot @agentos_sandbox_bot" in ok
    assert f"telegram notify chat {CHAT}: reachable" in ok
    assert "agents.backends.script: command" in ok
    warned = "\n".join(lines(out, "warn"))
    assert "agents run unconfined" in warned  # isolation: none
    assert "cron: not installed" in warned and "job dispatcher: never run" in warned
    assert out.rstrip().endswith("warning(s).")
    assert "repos.app.merging: main: one by one (merge_method squash" in ok, out
    # the token, each repo, its labels, its merge queue: no writes, a handful of reads
    reads = [r for r in github.requests if r.path != "/api/graphql"]
    assert {r.method for r in reads} == {"GET"} and len(github.requests) <= 5


def test_a_projects_board_needs_all_six_status_options(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = GitHubConfig(Secret("T", github.token), github.api_url, github.graphql_url, ())
    tracker, graphql = GitHubTracker(settings, throttle=False), GraphQL(settings)
    admin = GitHubBoardAdmin(graphql, tracker)
    project = admin.find_or_create("acme", "Agent OS")
    tracker.close()
    graphql.close()
    repo = {
        "key": "app",
        "github": "acme/app",
        "test_command": "true",
        "board": {"owner": "acme", "number": project.number},
    }
    config = write(tmp_path, github, None, repos=[repo])
    env = environ(github, None)
    assert agentos(config, env, "doctor") == 1  # a new board's Status has GitHub's three options
    failed = "\n".join(lines(capsys.readouterr().out, "FAIL"))
    assert f"board acme/{project.number}'s Status lacks the options" in failed
    assert "Backlog" in failed and "Blocked" in failed and "Ready" in failed

    tracker, graphql = GitHubTracker(settings, throttle=False), GraphQL(settings)
    GitHubBoardAdmin(graphql, tracker).ensure_statuses(project)
    tracker.close()
    graphql.close()
    assert agentos(config, env, "doctor") == 0
    assert "Status has all 6 options" in capsys.readouterr().out


def test_a_wrong_token_fails_github_in_one_line_and_exits_one(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, None)
    env = environ(github, None, GITHUB_TOKEN="ghp_" + "0" * 36)
    assert agentos(config, env, "check", "--live") == 1
    out = capsys.readouterr().out
    failed = lines(out, "FAIL")
    assert failed == [
        "FAIL github token: GitHub rejected the token (401 Bad credentials): check github.token"
    ]
    assert "0" * 36 not in out


def test_a_token_without_the_project_scope_or_push_access_is_named(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = github.add_user("reader", scopes=("repo",))
    repo = {
        "key": "app",
        "github": "acme/app",
        "test_command": "true",
        "board": {"owner": "reader", "number": 1},
    }
    config = write(tmp_path, github, None, repos=[repo])
    assert agentos(config, environ(github, None, GITHUB_TOKEN=reader), "doctor") == 1
    failed = "\n".join(lines(capsys.readouterr().out, "FAIL"))
    assert "the token lacks the 'project' scope" in failed
    assert "the token cannot push to acme/app" in failed or "not found" in failed


def test_a_refused_bot_token_and_an_unknown_chat_are_failures(
    tmp_path: Path,
    github: Sandbox,
    telegram: TelegramSandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write(tmp_path, github, telegram)
    wrong = environ(github, telegram, TELEGRAM_BOT_TOKEN="123456789:AAwrong-token_for-local-tests")
    assert agentos(config, wrong, "doctor") == 1
    failed = lines(capsys.readouterr().out, "FAIL")
    assert [f for f in failed if "telegram" in f] == [
        "FAIL telegram: Telegram refused the bot token (401 Unauthorized): check telegram.token"
    ]

    data = yaml.safe_load(config.read_text())
    data["telegram"]["allowed_chat_ids"] = [CHAT, 4242]
    config.write_text(yaml.safe_dump(data))
    assert agentos(config, environ(github, telegram), "doctor") == 1
    failed = lines(capsys.readouterr().out, "FAIL")
    assert failed == [
        "FAIL telegram allowed chat 4242: Chat not found (write to the bot from that chat first)"
    ]


def test_agent_clis_must_run_and_be_logged_in(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    said = {  # what each says to its login status: claude is logged out, codex in
        "claude": """echo '{"loggedIn": false, "authMethod": "none"}'""",
        "codex": "echo 'Logged in using ChatGPT'",
    }
    for name, status in said.items():
        script = bin_dir / name
        script.write_text(
            f"#!/bin/sh\n[ \"$1\" = --version ] && echo '{name} 9.9.9' && exit 0\n{status}\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    backends = {"claude": {"type": "claude"}, "codex": {"type": "codex"}}
    agents = {"backends": backends, "isolation": "none"}
    config = write(tmp_path, github, None, agents=agents)
    path = f"{bin_dir}:{os.environ['PATH']}"
    env = environ(github, None, PATH=path, HOME=str(home))
    assert agentos(config, env, "doctor") == 1
    out = capsys.readouterr().out
    assert "FAIL agents.backends.claude: claude 9.9.9, not logged in" in out
    assert "ok agents.backends.codex: codex 9.9.9, logged in" in out

    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text("{}")
    assert agentos(config, env, "doctor") == 0
    assert "ok agents.backends.claude: claude 9.9.9, logged in" in capsys.readouterr().out


def test_check_without_live_stays_offline(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, None)
    github.clear_requests()
    assert agentos(config, environ(github, None), "check") == 0
    assert github.requests == []
    assert capsys.readouterr().out.startswith("ok: ")


def test_a_config_problem_is_exit_two_and_skips_the_live_checks(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, None)
    env = environ(github, None)
    del env["GITHUB_TOKEN"]
    github.clear_requests()
    assert agentos(config, env, "doctor") == 2
    out = capsys.readouterr().out
    assert "FAIL config.yaml" in out or "$GITHUB_TOKEN is not set" in out
    assert "live checks skipped" in out and github.requests == []


def test_the_last_runs_show_and_a_crashed_one_is_a_warning(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, None)
    logs = tmp_path / "runtime" / "logs"
    logs.mkdir(parents=True)
    (logs / "dispatcher.jsonl").write_text(
        '{"ts":"2026-05-01T10:00:03.412Z","event":"run.finished","outcome":"ok"}\n'
    )
    (logs / "queue.jsonl").write_text(
        '{"ts":"2026-05-01T10:00:04.000Z","event":"run.crashed","outcome":"crashed",'
        '"error":"KeyError: x"}\n'
    )
    agentos(config, environ(github, None), "doctor")
    out = capsys.readouterr().out
    assert "ok job dispatcher: last run 2026-05-01 10:00:03Z ok" in out
    assert "warn job queue: last run 2026-05-01 10:00:04Z crashed: KeyError: x" in out


@pytest.mark.parametrize("name", ["help.tar.gz", "help.zip"])
def test_the_bundle_holds_the_report_config_versions_logs_and_status_but_no_secret(
    tmp_path: Path,
    github: Sandbox,
    telegram: TelegramSandbox,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The tokens are planted where a careless bundle would pick them up: a log line written
    before redaction existed, the env file, and base64 in a log."""
    config = write(tmp_path, github, telegram, env_file=".env")
    (tmp_path / ".env").write_text(
        f"GITHUB_TOKEN={github.token}\nTELEGRAM_BOT_TOKEN={telegram.token}\n"
    )
    logs = tmp_path / "runtime" / "logs"
    logs.mkdir(parents=True)
    leaked = encoded_forms(github.token)[1]  # one of its base64 forms
    (logs / "dispatcher.jsonl").write_text(
        "".join(f'{{"event":"old.line","n":{i}}}\n' for i in range(300))
        + f'{{"event":"run.finished","outcome":"ok","token":"{github.token}","b":"{leaked}"}}\n'
    )
    (logs / "cron-telegram_control.log").write_text(f"bot {telegram.token} said hello\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # the tokens come from .env
    bundle = tmp_path / "out" / name
    assert agentos(config, env, "doctor", "--bundle", str(bundle)) in (0, 1)
    assert f"bundle written to {bundle}" in capsys.readouterr().out
    members = unpack(bundle.read_bytes(), name)
    assert set(members) >= {
        "check.txt",
        "config.yaml",
        "versions.txt",
        "status.txt",
        "logs/dispatcher.jsonl",
        "logs/cron-telegram_control.log",
    }
    assert "ok github token: acme" in members["check.txt"].decode()
    assert "python: 3." in members["versions.txt"].decode()
    assert "git: git version" in members["versions.txt"].decode()
    assert "$GITHUB_TOKEN" in members["config.yaml"].decode()
    assert "repos:" in members["status.txt"].decode()
    assert len(members["logs/dispatcher.jsonl"].decode().splitlines()) == 200
    everything = bundle.read_bytes() + b"".join(members.values())
    for secret in (github.token, telegram.token):
        for form in encoded_forms(secret):
            assert form.encode() not in everything, form


def test_a_literal_secret_in_the_config_is_replaced_in_the_bundle(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github, None)
    config.write_text(config.read_text() + "# note\nextra:\n  api_key: sk-very-secret-value\n")
    bundle = tmp_path / "b.tar.gz"
    agentos(config, environ(github, None), "check", "--bundle", str(bundle))
    text = unpack(bundle.read_bytes(), "b.tar.gz")["config.yaml"].decode()
    assert "sk-very-secret-value" not in text and "api_key: <redacted>" in text


def unpack(data: bytes, name: str) -> dict[str, bytes]:
    prefix = "agentos-bundle/"
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n.removeprefix(prefix): archive.read(n) for n in archive.namelist()}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        found = {}
        for member in archive.getmembers():
            extracted = archive.extractfile(member)
            assert extracted is not None
            found[member.name.removeprefix(prefix)] = extracted.read()
        return found


def test_doctor_takes_the_options_of_check_live() -> None:
    parser = build_parser()
    args = parser.parse_args(["doctor", "--bundle", "x.zip"])
    assert args.command == "doctor" and args.bundle == "x.zip"
    assert parser.parse_args(["check", "--live"]).live is True
    assert parser.parse_args(["check"]).live is False


def _judged(tmp_path: Path, github: Sandbox) -> Path:
    """A config whose repo has a verifier and `review.token`: a second identity for reviews."""
    agents = {
        "backends": {
            "script": {"type": "command", "argv": ["true"]},
            "judge": {"type": "anthropic", "api_key": "$MODEL_KEY", "model": "judge-model"},
        },
        "chains": {"default": ["script"]},
        "isolation": "none",
    }
    review = {"verifier": "judge", "token": "$REVIEW_TOKEN"}
    return write(tmp_path, github, None, agents=agents, review=review)


@pytest.mark.parametrize(
    "who, level, said",
    [
        ("writer", "ok", "review.token: carol, a second identity that can review"),
        ("reader", "warn", "review.token: dave cannot write to acme/app: its approvals count"),
        ("ours", "warn", "review.token: acme is Agent OS's own identity (github.token)"),
        ("bad", "FAIL", "review.token: GitHub rejected the token (401 Bad credentials)"),
    ],
)
def test_the_verifiers_second_identity_is_checked_without_a_write(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str], who: str, level: str,
    said: str,
) -> None:  # fmt: skip
    tokens = {
        "writer": github.add_user("carol"),
        "reader": github.add_user("dave"),
        "ours": github.token,
        "bad": "ghp_" + "1" * 36,
    }
    client(github, github.token).get_repo("acme/app").add_to_collaborators("carol", "push")
    config = _judged(tmp_path, github)
    github.clear_requests()
    env = environ(github, None, REVIEW_TOKEN=tokens[who], MODEL_KEY="test-model-key-1")
    agentos(config, env, "check", "--live")
    out = capsys.readouterr().out
    assert any(line.startswith(f"{level} {said}") for line in out.splitlines()), out
    assert "1" * 36 not in out
    assert {r.method for r in github.requests if r.path != "/api/graphql"} == {"GET"}


@pytest.mark.parametrize(
    "setup, level, said",
    [
        ("plain", "ok", "repos.app.merging: main: merge train (CI must run on pushes to"),
        ("reviews", "warn", "repos.app.merging: main: merge trains fall back to one by one: it "
         "requires pull request reviews"),
        ("queue", "ok", "repos.app.merging: main has a merge queue: green PRs are enqueued"),
    ],
)  # fmt: skip
def test_the_merge_path_of_each_repo_is_said(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str], setup: str, level: str,
    said: str,
) -> None:  # fmt: skip
    if setup == "reviews":
        protect(github, "acme/app", reviews=1)
    elif setup == "queue":
        protect(github, "acme/app", checks=["ci"])
        github.require_merge_queue("acme/app", "main")
    repo = {"key": "app", "github": "acme/app", "test_command": "true", "merge_method": "merge"}
    config = write(tmp_path, github, None, repos=[repo])
    agentos(config, environ(github, None), "check", "--live")
    out = capsys.readouterr().out
    assert any(line.startswith(f"{level} {said}") for line in out.splitlines()), out

"""Wiring builds GitHub's adapters on first use only, one tracker per run, one board per repo."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.label_board import LabelBoard
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import MemoryBoard
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.core.model import BoardStatus
from orchestrator.core.redact import redact
from orchestrator.deps import Deps
from orchestrator.sandbox.github import Sandbox
from orchestrator.wiring import RealAdapters, real_deps
from tests.helpers import ENV, minimal_config, write_config
from tests.support.github_sandbox import running_sandbox

ROOT = Path(__file__).resolve().parents[1]
LOG = logging.getLogger("test")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.create_repo("agentos/app")
        sandbox.create_repo("agentos/site")
        yield sandbox


def sandbox_config(tmp_path: Path, sandbox: Sandbox) -> Config:
    repos = [
        {
            "key": "app",
            "github": "agentos/app",
            "board": {"owner": "agentos", "number": 1, "status_names": {"ready": "Todo"}},
        },
        {"key": "site", "github": "agentos/site"},
    ]
    path = write_config(
        tmp_path,
        minimal_config(repos=repos, github={"token": "$GITHUB_TOKEN", "api_url": sandbox.api_url}),
    )
    return load_config(path, {**ENV, "GITHUB_TOKEN": sandbox.token})


def test_deps_make_no_connection_until_a_job_asks(tmp_path: Path, sandbox: Sandbox) -> None:
    config = sandbox_config(tmp_path, sandbox)
    sandbox.clear_requests()
    deps = real_deps(config, LOG)
    assert sandbox.requests == []
    assert isinstance(deps.tracker.inner, GitHubTracker) and deps.tracker is deps.tracker
    app, site = config.repo("app"), config.repo("site")
    assert isinstance(deps.board_for(site), LabelBoard) and deps.board_for(site) is deps.board_for(
        site
    )
    board = deps.board_for(app)
    assert isinstance(board, GitHubBoard) and board.names[BoardStatus.READY] == "Todo"
    assert sandbox.requests == []
    # GitHub's defaults: Todo, In Progress, Done
    deps.board_admin.find_or_create("agentos", "Agent OS")
    item = board.set_status(
        board.add(deps.tracker.create_issue("agentos/app", "wired", "")), BoardStatus.READY
    )
    assert [i.status_name for i in board.items()] == ["Todo"] and item.status is BoardStatus.READY


def test_building_deps_imports_neither_pygithub_nor_gql(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code = (
        "import logging, pathlib, sys; from orchestrator.config.load import load_config;"
        " from orchestrator.wiring import real_deps;"
        f" real_deps(load_config(pathlib.Path({str(path)!r}), {ENV!r}), logging.getLogger());"
        " print(sorted(m for m in ('github', 'gql', 'httpx2') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_run_registers_the_configs_secret_values_for_redaction(tmp_path: Path) -> None:
    key = "sk-ant-" + "api03-Kq8Wz2Lm5Xp9Rt4Vb"
    backends = {"api": {"type": "anthropic", "api_key": "$ANTHROPIC_API_KEY"}}
    config = load_config(
        write_config(tmp_path, minimal_config(agents={"backends": backends})),
        {**ENV, "ANTHROPIC_API_KEY": key},
    )
    token = ENV["GITHUB_TOKEN"]
    assert redact(f"token {token}") == f"token {token}"  # nothing registered yet
    real_deps(config, LOG)
    assert redact(f"token {token}") == "token [REDACTED:config-value]"
    assert redact(token.encode().hex()) == "[REDACTED:config-value]"
    assert redact(f"key={key}") == "key=[REDACTED:anthropic-key]"  # a shape keeps its own name
    assert redact(f"key={key.encode().hex()}") == "key=[REDACTED:config-value]"


def test_a_job_given_memory_twins_uses_them(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    tracker = MemoryTracker()
    deps = real_deps(config, LOG)
    deps.tracker = tracker
    deps.boards["app"] = MemoryBoard(tracker, "acme/app")
    assert deps.tracker is tracker and isinstance(deps.board_for(config.repos[0]), MemoryBoard)


def test_closing_closes_what_the_run_built_once_and_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(tmp_path), ENV)
    idle = real_deps(config, LOG)
    idle.close()
    assert "tracker" not in idle.__dict__
    adapters = RealAdapters(config)
    used = Deps(config, LOG, adapters)
    closed: list[str] = []
    monkeypatch.setattr(used.tracker, "close", lambda: closed.append("tracker"))
    used.close()
    assert closed == ["tracker"] and adapters.tracker() is used.tracker
    replaced = real_deps(config, LOG)
    replaced.tracker = MemoryTracker()  # a twin the test owns: the run built no tracker to close
    replaced.close()


def test_what_a_run_is_handed_records_to_one_audit_log_signed_by_the_run(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    deps = real_deps(config, LOG, actor="agentos:pr_monitor")
    assert deps.tracker.audit is deps.audit is deps.worktrees.audit is deps.control.audit_log
    assert deps.tracker.actor == deps.worktrees.actor == "agentos:pr_monitor"
    assert deps.audit.key_path == tmp_path / "audit.key"  # beside the config, not in runtime/
    assert not deps.audit.key_path.exists()  # made by the first act, not by building deps


def test_the_verifiers_second_identity_is_built_only_with_review_token(tmp_path: Path) -> None:
    agents = {"backends": {"api": {"type": "anthropic", "api_key": "$MODEL_KEY"}}}
    env = {**ENV, "MODEL_KEY": "test-model-key-0123456789", "REVIEW_TOKEN": "ghs_second_0123456789"}
    plain = load_config(write_config(tmp_path, minimal_config(agents=agents)), env)
    assert real_deps(plain, LOG).reviewer is None  # the verdict is a COMMENT as ourselves
    review = {"verifier": "api", "token": "$REVIEW_TOKEN"}
    config = load_config(write_config(tmp_path, minimal_config(agents=agents, review=review)), env)
    deps = real_deps(config, LOG, actor="agentos:pr_monitor")
    reviewer = deps.reviewer
    assert reviewer is not None and reviewer is not deps.tracker
    assert isinstance(reviewer.inner, GitHubTracker)  # type: ignore[attr-defined]
    assert reviewer.audit is deps.audit and reviewer.actor == "agentos:pr_monitor"  # type: ignore[attr-defined]
    assert redact("Bearer ghs_second_0123456789") != "Bearer ghs_second_0123456789"
    deps.close()

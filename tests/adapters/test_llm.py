"""The anthropic LLM adapter, and the dispatcher using it.

The adapter runs on the real SDK against the scripted Messages server.

A vague issue (no success criteria) is structured by the model into the task's brief; a model
that fails, or answers something unusable, leaves the issue's own brief, and dispatch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.llm import DEFAULT_MODEL, AnthropicLLM
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import MemoryBoard
from orchestrator.config.load import load_config
from orchestrator.config.model import AgentBackend, AgentType, Secret
from orchestrator.core.model import BoardStatus
from orchestrator.deps import Deps
from orchestrator.errors import AgentError, ConfigError
from orchestrator.jobs import dispatcher
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Turn
from orchestrator.store import logs
from orchestrator.wiring import real_deps
from tests.helpers import minimal_config, write_config
from tests.jobs.conftest import T0

KEY = "sandbox-llm-key-0123456789"
ENV = {"GITHUB_TOKEN": "test-token-value", "SANDBOX_KEY": KEY}
STRUCTURED = (
    "GOAL: Let users subtract numbers.\nCRITERIA:\n- `sub(5, 3)` returns 2\n"
    "- a unit test covers it\n"
    "CONSTRAINTS:\n- none\n"
)
VAGUE = "subtraction would be nice, like add"


def backend(base_url: str | None, **settings: object) -> AgentBackend:
    return AgentBackend(
        "api",
        AgentType.ANTHROPIC,
        5,
        api_key=Secret("SANDBOX_KEY", KEY),
        base_url=base_url,
        **settings,
    )  # type: ignore[arg-type]


def test_complete_sends_system_prompt_and_model_and_returns_the_text() -> None:
    with AnthropicSandbox([Turn(STRUCTURED)]) as model:
        reply = AnthropicLLM(backend(model.base_url), max_retries=0).complete(
            "Be brief.", "Issue: add sub", 300
        )
        [exchange] = model.requests
    assert reply == STRUCTURED.strip() and not model.problems
    body = exchange.request.body
    assert (body["model"], body["max_tokens"], body["system"]) == (DEFAULT_MODEL, 300, "Be brief.")  # type: ignore[index]
    assert body["messages"] == [{"role": "user", "content": "Issue: add sub"}]  # type: ignore[index]
    assert exchange.request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "step, said",
    [
        (Fail(400, "messages: bad request", kind="invalid_request_error"), "400"),
        (Fail(401, "invalid x-api-key"), "401"),
        (Turn(""), "no text"),
    ],
)
def test_a_failing_or_empty_answer_is_an_agent_error_in_one_line(
    step: Fail | Turn, said: str
) -> None:
    with AnthropicSandbox([step]) as model:
        with pytest.raises(AgentError, match=said) as caught:
            AnthropicLLM(backend(model.base_url), max_retries=0).complete("s", "p")
    assert "\n" not in str(caught.value) and KEY not in str(caught.value)


def test_an_unreachable_api_is_an_agent_error() -> None:
    with AnthropicSandbox([]) as model:
        url = model.base_url
    with pytest.raises(AgentError, match="backend api failed"):
        AnthropicLLM(backend(url), max_retries=0, timeout=5).complete("s", "p")


def test_building_the_adapter_imports_no_sdk_and_needs_a_key() -> None:
    with pytest.raises(ValueError, match="no api_key"):
        AnthropicLLM(AgentBackend("api", AgentType.ANTHROPIC, 5))
    assert AnthropicLLM(backend(None, model="claude-opus-4-1")).model == "claude-opus-4-1"


# -- the dispatcher with `dispatcher.structure_briefs_with` ----------------------------------------
def _config(tmp_path: Path, base_url: str, **dispatch: object) -> Path:
    agents = {
        "backends": {
            "script": {"type": "command", "argv": ["true"]},
            "api": {"type": "anthropic", "api_key": "$SANDBOX_KEY", "base_url": base_url},
        },
        "chains": {"default": ["script"]},
    }
    return write_config(tmp_path, minimal_config(agents=agents, dispatcher=dispatch or None))


@pytest.fixture
def deps_for(tmp_path: Path) -> Iterator[object]:
    made: list[logging.Logger] = []

    def build(base_url: str) -> Deps:
        config = load_config(_config(tmp_path, base_url, structure_briefs_with="api"), ENV)
        log = logs.setup(config.paths.logs_dir, "dispatcher", "r-test", stderr=False)
        made.append(log)
        tracker = MemoryTracker(login="acme", clock=lambda: T0)
        tracker.add_repo("acme/app")
        deps = real_deps(config, log)
        deps.tracker = tracker
        deps.boards["app"] = MemoryBoard(tracker, "acme/app")
        return deps

    yield build
    for log in made:
        for handler in list(log.handlers):
            handler.close()
            log.removeHandler(handler)


def _queue_vague_issue(deps: Deps) -> str:
    issue = deps.tracker.add_issue("acme/app", "Subtraction", VAGUE)  # type: ignore[attr-defined]
    deps.boards["app"].place(issue, BoardStatus.READY)  # type: ignore[attr-defined]
    assert dispatcher.run(deps, deps.config, T0)["queued"] == 1
    return next(deps.mailbox.tasks("inbox")).body


def test_the_dispatcher_has_a_vague_issue_structured_by_the_model(deps_for) -> None:
    with AnthropicSandbox([Turn(STRUCTURED)]) as model:
        deps = deps_for(model.base_url)
        assert isinstance(deps.llm, AnthropicLLM)
        body = _queue_vague_issue(deps)
        [exchange] = model.requests
    assert "## Goal\n\nLet users subtract numbers." in body
    assert "- `sub(5, 3)` returns 2\n- a unit test covers it" in body
    # the author's own words stay beside the model's
    assert f"The issue as written:\n\n{VAGUE}" in body
    assert VAGUE in exchange.request.body["messages"][0]["content"]  # type: ignore[index]


@pytest.mark.parametrize(
    "step", [Fail(500, "Internal server error", sticky=True), Turn("Sure! Here you go.")]
)
def test_a_model_that_fails_or_answers_unusably_leaves_the_issues_own_brief(
    deps_for, step: Fail | Turn
) -> None:
    with AnthropicSandbox([step]) as model:
        deps = deps_for(model.base_url)
        deps.llm.max_retries = 0  # the SDK's own retries would only make this test slower
        body = _queue_vague_issue(deps)
    assert body.startswith(f"## Goal\n\n{VAGUE}") and "infer them from the goal" in body
    events = (deps.config.paths.logs_dir / "dispatcher.jsonl").read_text()
    assert '"event": "brief.fallback"' in events and KEY not in events


def test_an_issue_with_its_own_criteria_is_not_sent_to_the_model(deps_for) -> None:
    with AnthropicSandbox([Turn(STRUCTURED)]) as model:
        deps = deps_for(model.base_url)
        issue = deps.tracker.add_issue(
            "acme/app", "Sub", "Add sub.\n\n## Acceptance criteria\n- sub(5, 3) == 2\n"
        )
        deps.boards["app"].place(issue, BoardStatus.READY)
        dispatcher.run(deps, deps.config, T0)
        assert model.requests == []


@pytest.mark.parametrize("name, says", [("nope", "got 'nope'"), ("script", "got 'script'")])
def test_structure_briefs_with_must_name_an_anthropic_backend(
    tmp_path: Path, name: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, "http://127.0.0.1:9", structure_briefs_with=name), ENV)
    [problem] = caught.value.problems
    assert problem.startswith(
        "dispatcher.structure_briefs_with: expected the name of an anthropic backend"
    )
    assert "(api)" in problem and says in problem

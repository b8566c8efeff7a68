"""The model's triage of unknown clusters, through the real anthropic SDK and `Deps.llm_for`.

The backend `improve.triage_with` names answers from the scripted Messages server: a good
answer gives findings, anything else (prose, another shape, a signature it was not shown, an
API error) gives none and a problem, so the rules decide; nothing unknown asks nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orchestrator.adapters.llm import AnthropicLLM
from orchestrator.config.load import load_config
from orchestrator.core.evidence import SignalGroup
from orchestrator.core.incidents import Severity
from orchestrator.deps import Deps
from orchestrator.improve.triage import UNUSABLE, triage
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Turn
from orchestrator.wiring import real_deps
from tests.helpers import minimal_config, write_config

KEY = "sandbox-triage-key-0123456789"
ENV = {"GITHUB_TOKEN": "test-token-value", "SANDBOX_KEY": KEY}
LOG = logging.getLogger("test")
DISK = SignalGroup(
    repo_key="app",
    kind="disk_pressure",
    signature="0123456789abcdef",
    count=4,
    first_ts="2026-12-01T08:00:00.000Z",
    last_ts="2026-12-01T09:00:00.000Z",
    details=("worker-2: disk 97% full on /var/lib/agentos",),
)
NOISE = SignalGroup(
    repo_key="",
    kind="cache_miss",
    signature="fedcba9876543210",
    count=2,
    first_ts="2026-12-01T08:30:00.000Z",
    last_ts="2026-12-01T08:40:00.000Z",
    details=("cache miss for key settings",),
)


def answer(*items: dict[str, str]) -> str:
    return json.dumps({"incidents": list(items)})


GOOD = answer(
    {
        "signature": DISK.signature,
        "severity": "high",
        "title": "Workers run out of disk",
        "summary": "The worker disk is nearly full; clean old worktrees.",
    }
)


def deps_for(tmp_path: Path, base_url: str, **dispatcher: object) -> Deps:
    agents = {
        "backends": {
            "script": {"type": "command", "argv": ["true"]},
            "triager": {"type": "anthropic", "api_key": "$SANDBOX_KEY", "base_url": base_url},
        },
        "chains": {"default": ["script"]},
    }
    settings = minimal_config(
        agents=agents, improve={"triage_with": "triager"}, dispatcher=dispatcher or None
    )
    return real_deps(load_config(write_config(tmp_path, settings), ENV), LOG)


def model_of(deps: Deps) -> AnthropicLLM:
    name = deps.config.improve.triage_with
    assert name is not None
    llm = deps.llm_for(name)
    assert isinstance(llm, AnthropicLLM) and deps.llm_for(name) is llm  # built once per run
    llm.max_retries = 0  # the SDK's own retries would only make the error tests slower
    return llm


def test_a_good_answer_gives_the_models_findings(tmp_path: Path) -> None:
    with AnthropicSandbox([Turn(f"```json\n{GOOD}\n```")]) as model:
        outcome = triage(model_of(deps_for(tmp_path, model.base_url)), [DISK, NOISE])
        [exchange] = model.requests
    assert outcome.triaged and outcome.problem is None and not model.problems
    [found] = outcome.findings
    assert (found.signature, found.severity, found.title) == (
        DISK.signature,
        Severity.HIGH,
        "Workers run out of disk",
    )
    prompt = exchange.request.body["messages"][0]["content"]  # type: ignore[index]
    assert DISK.signature in prompt and NOISE.signature in prompt
    assert exchange.request.headers["authorization"] == f"Bearer {KEY}"


def test_an_empty_list_is_a_verdict_too(tmp_path: Path) -> None:
    with AnthropicSandbox([Turn(answer())]) as model:
        outcome = triage(model_of(deps_for(tmp_path, model.base_url)), [NOISE])
    assert outcome.triaged and outcome.findings == []


@pytest.mark.parametrize(
    "text",
    [
        "Sure! The disk cluster looks serious, the cache one is noise.",
        json.dumps({"issues": []}),
        json.dumps([{"signature": DISK.signature, "severity": "high"}]),
        answer(
            {
                "signature": "aaaaaaaaaaaaaaaa",  # a cluster it was never shown
                "severity": "high",
                "title": "Made up",
                "summary": "",
            }
        ),
        answer({"signature": DISK.signature, "severity": "urgent", "title": "x", "summary": ""}),
    ],
    ids=["prose", "other-key", "a-list", "unknown-signature", "unknown-severity"],
)
def test_an_unusable_answer_gives_no_findings_and_a_problem(tmp_path: Path, text: str) -> None:
    with AnthropicSandbox([Turn(text)]) as model:
        outcome = triage(model_of(deps_for(tmp_path, model.base_url)), [DISK, NOISE])
        assert len(model.requests) == 1
    assert outcome.findings == [] and outcome.used_model and not outcome.triaged
    assert outcome.problem == UNUSABLE


@pytest.mark.parametrize(
    "fail, said",
    [
        (Fail(500, "Internal server error", sticky=True), "answered 500"),
        (Fail(529, "Overloaded", kind="overloaded_error", sticky=True), "answered 529"),
        (Fail(429, sticky=True), "answered 429"),
    ],
    ids=["500", "overloaded", "rate-limited"],
)
def test_an_api_error_gives_no_findings_and_a_problem(
    tmp_path: Path, fail: Fail, said: str
) -> None:
    with AnthropicSandbox([fail]) as model:
        outcome = triage(model_of(deps_for(tmp_path, model.base_url)), [DISK])
    assert outcome.findings == [] and outcome.used_model and not outcome.triaged
    assert outcome.problem is not None and said in outcome.problem
    assert "backend triager" in outcome.problem and KEY not in outcome.problem
    assert "\n" not in outcome.problem


def test_an_unreachable_api_gives_a_problem(tmp_path: Path) -> None:
    with AnthropicSandbox([]) as model:
        url = model.base_url
    llm = model_of(deps_for(tmp_path, url))
    llm.timeout = 5
    outcome = triage(llm, [DISK])
    assert outcome.findings == [] and "failed" in (outcome.problem or "")


def test_nothing_unknown_or_no_model_asks_nothing(tmp_path: Path) -> None:
    with AnthropicSandbox([Turn(GOOD)]) as model:
        llm = model_of(deps_for(tmp_path, model.base_url))
        quiet = triage(llm, [])
        assert model.requests == []
    assert quiet.findings == [] and not quiet.used_model and quiet.problem is None
    unset = triage(None, [DISK])
    assert unset.findings == [] and not unset.used_model and not unset.triaged


def test_llm_for_leaves_the_brief_model_as_it_was(tmp_path: Path) -> None:
    deps = deps_for(tmp_path, "http://127.0.0.1:9", structure_briefs_with="triager")
    assert isinstance(deps.llm, AnthropicLLM) and deps.llm.backend.name == "triager"
    assert deps.llm_for("triager") is not deps.llm  # each its own client settings
    assert deps_for(tmp_path, "http://127.0.0.1:9").llm is None
    with pytest.raises(KeyError):
        deps.llm_for("nope")

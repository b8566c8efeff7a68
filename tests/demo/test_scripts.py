"""The demo's scripts, played by our real `anthropic` backend on the sample.

The backend is the real thing: the SDK, its tool loop and tools.

Each issue runs in the order the dependencies allow, in one working copy of the sample, as the
merged main branch would hold it: the scripts' edits must make the sample's tests pass, and
median's scripted mistake must fail its tests before the fix.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.agents.anthropic_api import AnthropicApiAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.config.model import AgentType, Secret
from orchestrator.core import contract
from orchestrator.core.agent import RESULT_FILE, OutcomeKind, ToolCalled, ToolReturned
from orchestrator.demo import sample, scripts
from orchestrator.sandbox.models import AnthropicSandbox
from tests.adapters.agents.conftest import Events, backend, make_host_env, make_request

KEY = Secret("DEMO_KEY", "sandbox-model-key")
NUMBERS = {n: issue for n, issue in enumerate(sample.ISSUES, start=1)}


def prompt(number: int, kind: str = "Implementation") -> str:
    return f"# {kind} task for {sample.REPO}#{number}\n\nYou are a coding agent.\n"


@pytest.fixture(scope="module")
def played(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[int, Events], AnthropicSandbox]]:
    """Every issue's script played in dependency order (1..5 is one) in one copy of the sample."""
    folder = tmp_path_factory.mktemp("scripts")
    work = folder / "stats-demo"
    for path, text in sample.FILES.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text, encoding="utf-8")
    runs: dict[int, Events] = {}
    with AnthropicSandbox(scripts.book(NUMBERS, sample.REPO, sys.executable)) as model:
        config = backend(AgentType.ANTHROPIC, "demo", api_key=KEY, base_url=model.base_url)
        agent = AnthropicApiAgent(config, make_host_env(folder), policy_of([KEY]))
        for number in NUMBERS:
            (work / RESULT_FILE).unlink(missing_ok=True)
            events = runs[number] = Events()
            outcome = agent.run(
                make_request(folder, work, prompt(number), task_id=f"stats-{number}-g1-a1"), events
            )
            assert outcome.kind is OutcomeKind.FINISHED, outcome
            assert (
                contract.parse((work / RESULT_FILE).read_text()).status is contract.Status.COMPLETE
            )
        yield work, runs, model


def test_the_scripts_leave_a_package_whose_tests_pass(
    played: tuple[Path, dict[int, Events], AnthropicSandbox],
) -> None:
    work, _, model = played
    done = subprocess.run(
        [sys.executable, *sample.TESTS.split()], cwd=work, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Ran 10 tests" in done.stderr
    out = subprocess.run(
        [sys.executable, "-m", "stats", "2", "4", "4", "4", "5", "5", "7", "9"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "median 4.5" in out and " stdev 2" in out
    assert not model.problems


def test_each_issue_ran_its_own_tests_through_the_bash_tool(
    played: tuple[Path, dict[int, Events], AnthropicSandbox],
) -> None:
    _, runs, _ = played
    for number, events in runs.items():
        calls = {e.call_id: e.name for e in events.of(ToolCalled)}
        tests = [
            e for e in events.of(ToolReturned) if calls[e.call_id] == "bash" and "Ran " in e.output
        ]
        assert tests and not tests[-1].is_error, number
        assert set(calls.values()) <= {"bash", "write_file", "edit_file"}


def test_median_fails_its_tests_first_then_fixes_them(
    played: tuple[Path, dict[int, Events], AnthropicSandbox],
) -> None:
    _, runs, _ = played
    outputs = [e for e in runs[2].of(ToolReturned) if "Ran " in e.output]
    assert [e.is_error for e in outputs] == [True, False]
    assert "edit_file" in [e.name for e in runs[2].of(ToolCalled)]


def test_a_prompt_the_script_does_not_know_ends_blocked(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    with AnthropicSandbox(scripts.book(NUMBERS, sample.REPO, sys.executable)) as model:
        config = backend(AgentType.ANTHROPIC, "demo", api_key=KEY, base_url=model.base_url)
        agent = AnthropicApiAgent(config, make_host_env(tmp_path), policy_of([KEY]))
        outcome = agent.run(make_request(tmp_path, work, prompt(1, "Fixing")), Events())
    result = contract.parse((work / RESULT_FILE).read_text())
    assert outcome.kind is OutcomeKind.FINISHED and result.status is contract.Status.BLOCKED
    assert (
        result.blocker is contract.BlockerCode.MANUAL_INTERVENTION_REQUIRED
        and result.blocker.permanent
    )

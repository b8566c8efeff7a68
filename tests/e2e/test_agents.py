"""The real agent backends driven through the queue.

They are the pinned `claude` and `codex` CLIs, and our `anthropic` loop.

Each runs a whole task (worker process, worktree, prompt, chain, tests, commit, push, PR) against
a scripted model server from orchestrator/sandbox/models/, and what the model had it write ends
up in the pull request. The CLI tests skip, saying so, only when the pinned binaries are absent.
"""

from __future__ import annotations

import pytest

from orchestrator.core.agent import RESULT_FILE
from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.openai_server import OpenAISandbox
from orchestrator.sandbox.models.script import ToolCall, Turn
from tests.adapters.agents.conftest import CODEX_QUIET
from tests.e2e.conftest import TEST_COMMAND, World, repo_entry
from tests.e2e.test_delivery import SUB
from tests.e2e.test_failures import _events
from tests.support.clis import cli

KEY = "sandbox-model-key-0123456789"
RESULT = (
    "STATUS: complete\nBLOCKER_CODE: none\nSUMMARY: Added calc.sub with a test.\n"
    "DONE:\n- calc.sub\n"
    "BLOCKERS:\n- None\nNEXT_STEP: None\nFILES_CHANGED:\n- calc/sub.py\n- tests/test_sub.py\n"
    f"TESTS_RUN:\n- {TEST_COMMAND}\nDECISIONS:\n- None\nRISKS:\n- None\n"
    "ATTEMPTED_APPROACHES:\n- None\nMANUAL_STEPS:\n- None\n"
)
CHECK = "python3 -m unittest discover -q -s tests -t ."


def _use(world: World, monkeypatch: pytest.MonkeyPatch, backend: dict[str, object]) -> None:
    """Make `backend` the only agent.

    Its key is a $VAR in the environment, as a real one would be.
    """
    for env in (world.env, None):
        if env is None:
            # the workers inherit the process environment
            monkeypatch.setenv("SANDBOX_MODEL_KEY", KEY)
        else:
            env["SANDBOX_MODEL_KEY"] = KEY
    home = world.root / "home"
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    (home / ".codex" / "config.toml").write_text(CODEX_QUIET)
    world.configure(
        [repo_entry("app", "acme/app")],
        agents={
            "backends": {
                "agent": {"api_key": "$SANDBOX_MODEL_KEY", "timeout_minutes": 3, **backend}
            }
        },
    )


def _delivered(world: World) -> None:
    """Dispatch and run the issue.

    The PR holds the files the model wrote, and the room what it did.
    """
    world.issue("acme/app", "Add subtraction", "## Goal\nA `sub` function with a test.\n")
    assert world.run("dispatcher") == 0
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"], world.mailbox("escalated")
    [pr] = world.tracker.open_pulls("acme/app")
    assert pr.body.startswith("Closes #1\n\nAdded calc.sub with a test.")
    assert (
        "`calc/sub.py`" in pr.body
        and "`tests/test_sub.py`" in pr.body
        and f"{TEST_COMMAND}: passed" in pr.body
    )
    assert RESULT_FILE not in pr.body
    [chain] = _events(world, "app-1-g1-a1", "chain.finished")
    assert (chain["end"], chain["backend"]) == ("finished", "agent") and chain["input_tokens"] > 0
    assert _events(world, "app-1-g1-a1", "tool.called") and _events(
        world, "app-1-g1-a1", "tool.returned"
    )
    assert (
        KEY not in (world.root / "runtime" / "rooms" / "app-1-g1-a1" / "channel.jsonl").read_text()
    )
    clone = world.root / "pr-clone"
    world.git(
        "clone",
        "-q",
        "-b",
        pr.head,
        world.sandbox.clone_url("acme/app"),
        str(clone),
        cwd=world.root,
    )
    assert (clone / "calc" / "sub.py").read_text() == SUB["calc/sub.py"] and not (
        clone / RESULT_FILE
    ).exists()


def test_the_claude_cli_run_by_the_queue_writes_the_change_that_becomes_the_pr(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = cli("claude")
    script = [
        Turn(
            "Adding sub.",
            (
                tools.write("calc/sub.py", SUB["calc/sub.py"]),
                tools.write("tests/test_sub.py", SUB["tests/test_sub.py"]),
            ),
        ),
        Turn("Running the tests.", (tools.bash(CHECK, "Run the tests"),)),
        Turn("", (tools.write(RESULT_FILE, RESULT),)),
        Turn("Done: calc.sub exists and is tested."),
    ]
    with AnthropicSandbox(script) as model:
        _use(
            world,
            monkeypatch,
            {
                "type": "claude",
                "binary": str(binary),
                "base_url": model.base_url,
                "model": "claude-sonnet-4-5",
                "allowed_tools": ["Bash", "Write", "Edit", "Read"],
            },
        )
        _delivered(world)
        assert not model.problems and model.requests


def test_the_codex_cli_run_by_the_queue_writes_the_change_that_becomes_the_pr(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = cli("codex")
    script = [
        Turn("Adding sub.", (tools.exec_write("calc/sub.py", SUB["calc/sub.py"]),)),
        Turn("", (tools.exec_write("tests/test_sub.py", SUB["tests/test_sub.py"]),)),
        Turn("", (tools.exec_command(CHECK),)),
        Turn("", (tools.exec_write(RESULT_FILE, RESULT),)),
        Turn("Done: calc.sub exists and is tested."),
    ]
    with OpenAISandbox(script) as model:
        _use(
            world,
            monkeypatch,
            {
                "type": "codex",
                "binary": str(binary),
                "base_url": model.base_url,
                "model": "fake-model",
            },
        )
        _delivered(world)
        assert not model.problems and model.requests


def test_the_anthropic_loop_run_by_the_queue_writes_the_change_that_becomes_the_pr(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = [
        Turn(
            "Adding sub.",
            (
                ToolCall("write_file", {"path": "calc/sub.py", "content": SUB["calc/sub.py"]}),
                ToolCall(
                    "write_file", {"path": "tests/test_sub.py", "content": SUB["tests/test_sub.py"]}
                ),
            ),
        ),
        Turn("Running the tests.", (ToolCall("bash", {"command": CHECK}),)),
        Turn("", (ToolCall("write_file", {"path": RESULT_FILE, "content": RESULT}),)),
        Turn("Done: calc.sub exists and is tested."),
    ]
    with AnthropicSandbox(script) as model:
        _use(world, monkeypatch, {"type": "anthropic", "base_url": model.base_url, "max_turns": 10})
        _delivered(world)
        assert not model.problems and len(model.requests) == len(script)

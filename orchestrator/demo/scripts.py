"""What the demo's scripted model answers: per issue, the `anthropic` tool calls that do its work.

The model is scripted, the rest is real: these turns go over the Anthropic Messages wire to the
backend's own tool loop, whose tools (bash, read_file, write_file, edit_file) change the worktree.
A prompt is matched to its issue by its heading (`# Implementation task for OWNER/NAME#N`); any
other prompt gets a script that says it has none and stops, blocked, so the task is escalated.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from orchestrator.core import contract
from orchestrator.core.workspace import RESULT_FILE
from orchestrator.demo.sample import TESTS, Change, DemoIssue, Edit
from orchestrator.sandbox.models.script import (
    ScriptBook,
    Step,
    ToolCall,
    Turn,
    failed,
    output_contains,
)

SHOWN_TESTS = f"python {TESTS}"  # how results and turns name the test command


def test_command(python: str) -> str:
    """Return the sample's test command for this interpreter."""
    return f"{shlex.quote(python)} {TESTS}"


def book(issues: Mapping[int, DemoIssue], repo: str, python: str) -> ScriptBook:
    """Return the script book for the demo issues, by issue number."""
    scripts = [
        (rf"(?m)^# Implementation task for {re.escape(repo)}#{number}$", steps(issue, python))
        for number, issue in issues.items()
    ]
    return ScriptBook(scripts, default=UNSCRIPTED)


def steps(issue: DemoIssue, python: str) -> list[Step]:
    """Return the turns that do one issue's work, test it, and write the result contract."""
    tests = test_command(python)
    turns: list[Step] = [
        Turn(f"Working on: {issue.title}. First, what the package has.", (bash("ls stats tests"),))
    ]
    turns += [Turn(change.say, (call(change),)) for change in issue.changes]
    turns.append(Turn("Running the tests.", (bash(tests),)))
    if issue.fix is not None:
        turns += [
            Turn(issue.fix.say, (call(issue.fix),), when=failed),
            Turn("Running the tests again.", (bash(tests),), when=output_contains("replaced")),
        ]
    turns += [
        Turn(
            "The tests pass. Writing the result file.",
            (write_file(RESULT_FILE, result_text(issue)),),
        ),
        Turn(f"Done. {issue.summary}"),
    ]
    return turns


def result_text(issue: DemoIssue) -> str:
    """Return the `.agent_result.md` the script writes for a finished issue."""
    files = tuple(
        dict.fromkeys(
            change.path for change in (*issue.changes, *([issue.fix] if issue.fix else ()))
        )
    )
    done = tuple(change.say.rstrip(".") for change in issue.changes)
    return contract.render(
        contract.AgentResult(
            contract.Status.COMPLETE,
            None,
            issue.summary,
            lists={
                "DONE": done,
                "FILES_CHANGED": files,
                "TESTS_RUN": (f"{SHOWN_TESTS}: passed",),
                "DECISIONS": ("Kept to the standard library, as the package does.",),
            },
        )
    )


def call(change: Change) -> ToolCall:
    """Return the tool call that makes a change."""
    if isinstance(change, Edit):
        return ToolCall(
            "edit_file", {"path": change.path, "old_string": change.old, "new_string": change.new}
        )
    return write_file(change.path, change.content)


def bash(command: str) -> ToolCall:
    """Run a command in the worktree."""
    return ToolCall("bash", {"command": command})


def write_file(path: str, content: str) -> ToolCall:
    """Write a whole file of the worktree."""
    return ToolCall("write_file", {"path": path, "content": content})


_BLOCKED = contract.render(
    contract.AgentResult(
        contract.Status.BLOCKED,
        contract.BlockerCode.MANUAL_INTERVENTION_REQUIRED,
        "The demo's scripted model has no script for this task; "
        "only the sample issues' first tasks are scripted.",
        "Run the demo with a real agent (--agent claude or --agent codex) to see other tasks done.",
        lists={"BLOCKERS": ("no script for this prompt",)},
    )
)
UNSCRIPTED: tuple[Step, ...] = (
    Turn(
        "This task is not one the demo's script covers, so I stop here.",
        (write_file(RESULT_FILE, _BLOCKED),),
    ),
    Turn("Stopped: no script for this task."),
)

"""A scripted stand-in for the `claude` CLI that prints real-shaped stream-json, turn by turn.

The lines are the ones Claude Code 2.1.330 printed for a real run (tests/data/agent-cli/, see its
README for provenance), with each turn's text, tool call, usage and ids filled in: `system/init`,
then per turn one `assistant` event per content block (a text, a Bash tool_use; both carrying the
message's usage, as the real CLI repeats it), the work the turn does (files written in the
worktree), the `user` event with the tool_result, a pause; at the end a closing `assistant` text,
`.agent_result.md`, and `result/success` with the run's usage and cost. The program is written
with its script inside, so it needs nothing but itself (confined, the test's folders are hidden).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORDED = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "agent-cli"
    / "claude-code-2.1.330.print-stream-json.jsonl"
)
MODEL = "claude-sonnet-4-5"  # what the recording's session named; priced as claude-sonnet-4
RESULT = "STATUS: complete\nBLOCKER_CODE: none\nSUMMARY: Did the scripted turns.\n"


@dataclass(frozen=True)
class ClaudeTurn:
    """One assistant turn: what it says, the files it writes, the tokens its message shows."""

    say: str
    files: dict[str, str] = field(default_factory=dict)
    input_tokens: int = 1000
    output_tokens: int = 10
    pause: float = 0.3  # seconds after the turn's tool result, before the next turn


def recorded() -> list[dict[str, Any]]:
    """Return the recorded run's lines: init, text, tool_use, tool_result, text, result."""
    return [json.loads(line) for line in RECORDED.read_text().splitlines()]


def lines_for(turns: list[ClaudeTurn], cost_usd: float) -> list[tuple[str, Any]]:
    """Return the program's steps: ("print", line), ("files", {...}), ("pause", s), ("result",)."""
    init, text, tool, user, closing, result = recorded()
    session = init["session_id"]
    steps: list[tuple[str, Any]] = [("print", init)]
    for n, turn in enumerate(turns, 1):
        usage = {
            "input_tokens": turn.input_tokens,
            "output_tokens": turn.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        said = _message(text, f"msg_turn{n}", usage, [{"type": "text", "text": turn.say}])
        call = {**tool["message"]["content"][0], "id": f"toolu_turn{n}"}
        call["input"] = {"command": f"echo turn {n}", "description": f"Turn {n}"}
        steps += [("print", said), ("print", _message(tool, f"msg_turn{n}", usage, [call]))]
        steps.append(("files", turn.files))
        back = json.loads(json.dumps(user))
        back["message"]["content"][0].update(tool_use_id=f"toolu_turn{n}", content=f"turn {n}")
        steps += [("print", back), ("pause", turn.pause)]
    steps.append(("print", _message(closing, "msg_final", closing["message"]["usage"], None)))
    total = {
        **result["usage"],
        "input_tokens": sum(t.input_tokens for t in turns),
        "output_tokens": sum(t.output_tokens for t in turns),
    }
    done = {**result, "usage": total, "total_cost_usd": cost_usd, "session_id": session}
    steps += [("files", {".agent_result.md": RESULT}), ("print", done)]
    return steps


def _message(
    line: dict[str, Any], msg_id: str, usage: dict[str, Any], content: list[Any] | None
) -> dict[str, Any]:
    copy = json.loads(json.dumps(line))
    copy["message"].update(id=msg_id, usage=usage, model=MODEL)
    if content is not None:
        copy["message"]["content"] = content
    return copy


PROGRAM = """\
import json, sys, time
from pathlib import Path

sys.stdin.read()
for kind, value in json.loads({steps!r}):
    if kind == "print":
        print(json.dumps(value), flush=True)
    elif kind == "files":
        for path, text in value.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text)
    elif kind == "pause":
        time.sleep(value)
"""


def write_claude(folder: Path, turns: list[ClaudeTurn], cost_usd: float = 0.01) -> Path:
    """Write the scripted `claude` program into `folder` and return its path."""
    program = folder / "claude"
    steps = json.dumps(lines_for(turns, cost_usd))
    program.write_text(f"#!{sys.executable}\n" + PROGRAM.format(steps=steps))
    program.chmod(0o755)
    return program

"""A `command` agent that does what a prompt-injected model would: it runs the test's attack.

argv: hostile_agent.py ATTACK_FILE WORKTREE PROMPT_FILE. ATTACK_FILE is Python source, run with
`worktree` (a Path), `prompt` (the prompt's text), `say(text)` (a line on stdout, which the room's
channel keeps) and `attempt(what, fn)` (runs fn, says what came of it, never raises). Unless the
attack wrote `.agent_result.md` itself, a `complete` result is written after it, its summary
taken from the attack's `SUMMARY` variable when it sets one.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def say(text: str) -> None:
    print(text, flush=True)


def attempt(what: str, fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 (an attacker tries and carries on)
        say(f"{what}: failed: {type(exc).__name__}: {exc}")
        return None
    say(f"{what}: ok")
    return value


def main(attack_file: str, worktree: str, prompt_file: str) -> int:
    root = Path(worktree)
    scope: dict[str, Any] = {
        "Path": Path,
        "worktree": root,
        "prompt": Path(prompt_file).read_text(),
        "say": say,
        "attempt": attempt,
        "SUMMARY": "Did the work.",
    }
    try:
        exec(compile(Path(attack_file).read_text(), attack_file, "exec"), scope)  # noqa: S102
    except Exception:  # noqa: BLE001
        say(traceback.format_exc())
    result = root / ".agent_result.md"
    if not result.exists():
        result.write_text(
            "STATUS: complete\nBLOCKER_CODE: none\n"
            f"SUMMARY: {scope['SUMMARY']}\n"
            "DONE:\n- the attack\nBLOCKERS:\n- None\nNEXT_STEP: None\n"
            "FILES_CHANGED:\n- None\nTESTS_RUN:\n- None\nDECISIONS:\n- None\nRISKS:\n- None\n"
            "ATTEMPTED_APPROACHES:\n- None\nMANUAL_STEPS:\n- None\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

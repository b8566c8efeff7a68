"""A `command` agent for end-to-end tests: it does what a playbook (JSON) says for the issue in its prompt.

argv: playbook_agent.py PLAYBOOK WORKTREE PROMPT_FILE. The playbook maps an issue number (as a
string, or "*"; the issue comes from $AGENTOS_TASK_ID) to a list of steps, one per attempt at that issue (the last repeats):
  {"files": {"path": "content"}, "status": "complete", "blocker": "none", "summary": "...",
   "sleep": 0.0, "exit": 0, "no_result": false, "append": {"path": "text"}}
It keeps its own count of attempts per issue beside the playbook, so a retry gets the next step.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path


def main(playbook_path: str, worktree: str, prompt_file: str) -> int:
    playbook = json.loads(Path(playbook_path).read_text())
    Path(prompt_file).read_text()   # a real agent would read it; its being there is part of the contract
    found = re.fullmatch(r"(?P<key>.+)-(?P<issue>\d+)-g\d+-a\d+", os.environ.get("AGENTOS_TASK_ID", ""))
    issue = found.group("issue") if found else "*"
    steps = playbook.get(issue) or playbook.get("*") or [{}]
    counter = Path(playbook_path + f".{issue}.count")
    seen = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(seen + 1))
    step = steps[min(seen, len(steps) - 1)]
    root = Path(worktree)
    print(f"playbook: issue {issue}, attempt {seen + 1}", flush=True)
    time.sleep(float(step.get("sleep", 0)))
    for path, content in step.get("files", {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    for path, content in step.get("append", {}).items():
        with (root / path).open("a") as f:
            f.write(content)
    if step.get("exit", 0):
        print(step.get("error", "agent crashed"), file=sys.stderr, flush=True)
        return int(step["exit"])
    if not step.get("no_result"):
        status = step.get("status", "complete")
        blocker = step.get("blocker", "none" if status == "complete" else "test_failure")
        files = "\n".join(f"- {p}" for p in (*step.get("files", {}), *step.get("append", {}))) or "- None"
        (root / ".agent_result.md").write_text(
            f"STATUS: {status}\nBLOCKER_CODE: {blocker}\nSUMMARY: {step.get('summary', 'Did the work.')}\n"
            f"DONE:\n- the step\nBLOCKERS:\n- {step.get('why', 'None')}\nNEXT_STEP: None\n"
            f"FILES_CHANGED:\n{files}\nTESTS_RUN:\n- None\nDECISIONS:\n- None\nRISKS:\n- None\n"
            "ATTEMPTED_APPROACHES:\n- None\nMANUAL_STEPS:\n- None\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

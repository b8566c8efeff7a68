"""A `command` agent for end-to-end tests: it does what a playbook says for its issue.

The playbook is JSON; the issue is the one in the agent's prompt.

argv: playbook_agent.py PLAYBOOK WORKTREE PROMPT_FILE. The playbook maps an issue (its number as a
string, "REPOKEY#N" where two repos share numbers, or "*"; the issue comes from $AGENTOS_TASK_ID)
to a list of steps, one per attempt at that issue (the last repeats):
  {"files": {"path": "content"}, "early": {"path": "written before the sleep"},
   "status": "complete", "blocker": "none", "summary": "...",
   "sleep": 0.0, "exit": 0, "no_result": false, "append": {"path": "text"},
   "pidfile": "path: write this process's pid there first",
   "spawn": "path: start a `sleep 300` in this process group, write its pid there",
   "side_push": {"url": "clone URL with a token", "path": "...", "content": "..."}:
                someone else pushes a commit to this worktree's branch on origin while the
                agent works,
   "result_text": "the .agent_result.md to write, verbatim"}
It keeps its own count of attempts per issue beside the playbook, so a retry gets the next step.
Confined (agents.isolation: bwrap, the default) what it writes outside its worktree and private
home lands in a tmpfs that ends with the run: the count is lost, so the attempt number in its task
id picks the step, and a "pidfile" or "spawn" file never reaches the test (such tests run
unconfined).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main(playbook_path: str, worktree: str, prompt_file: str) -> int:
    playbook = json.loads(Path(playbook_path).read_text())
    # a real agent would read it; its being there is part of the contract
    Path(prompt_file).read_text()
    found = re.fullmatch(
        r"(?P<key>.+)-(?P<issue>\d+)-g\d+-a(?P<attempt>\d+)", os.environ.get("AGENTOS_TASK_ID", "")
    )
    key, issue = (found.group("key"), found.group("issue")) if found else ("", "*")
    steps = playbook.get(f"{key}#{issue}") or playbook.get(issue) or playbook.get("*") or [{}]
    counter = Path(playbook_path + f".{key}-{issue}.count")
    seen = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(seen + 1))  # confined, into a tmpfs that goes with the run
    # the count is lost between confined runs: the attempt in the task id (-a2: one before)
    seen = max(seen, int(found.group("attempt")) - 1 if found else 0)
    step = steps[min(seen, len(steps) - 1)]
    root = Path(worktree)
    print(f"playbook: issue {issue}, attempt {seen + 1}", flush=True)
    if step.get("pidfile"):
        Path(step["pidfile"]).write_text(str(os.getpid()))
    if step.get("spawn"):
        child = subprocess.Popen(["sleep", "300"])
        Path(step["spawn"]).write_text(str(child.pid))
    if step.get("side_push"):
        _side_push(root, step["side_push"])
    for path, content in step.get("early", {}).items():  # work in progress, before the sleep
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
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
    if "result_text" in step:
        (root / ".agent_result.md").write_text(step["result_text"])
    elif not step.get("no_result"):
        (root / ".agent_result.md").write_text(_result(step))
    return 0


def _result(step: dict[str, Any]) -> str:
    status = step.get("status", "complete")
    blocker = step.get("blocker", "none" if status == "complete" else "test_failure")
    files = (
        "\n".join(f"- {p}" for p in (*step.get("files", {}), *step.get("append", {}))) or "- None"
    )
    return (
        f"STATUS: {status}\nBLOCKER_CODE: {blocker}\n"
        f"SUMMARY: {step.get('summary', 'Did the work.')}\n"
        f"DONE:\n- the step\nBLOCKERS:\n- {step.get('why', 'None')}\nNEXT_STEP: None\n"
        f"FILES_CHANGED:\n{files}\nTESTS_RUN:\n- None\nDECISIONS:\n- None\nRISKS:\n- None\n"
        "ATTEMPTED_APPROACHES:\n- None\nMANUAL_STEPS:\n- None\n"
    )


def _side_push(worktree: Path, push: dict[str, str]) -> None:
    """Push someone else's commit to the branch this worktree is on, from their own clone."""

    def git(*args: str, cwd: Path) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=Someone", "-c", "user.email=someone@example.com", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=worktree)
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "clone"
        git("clone", "-q", push["url"], str(clone), cwd=Path(scratch))
        (clone / push["path"]).write_text(push["content"])
        git("add", "-A", cwd=clone)
        git("commit", "-q", "-m", "Someone else's change", cwd=clone)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=clone)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

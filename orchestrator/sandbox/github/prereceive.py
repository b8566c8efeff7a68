"""The pre-receive hook of the sandbox's bare repositories: refuse what branch protection refuses.

`git receive-pack` (under `git http-backend`) runs it before any ref moves, with the pushed
objects in quarantine, one `OLD NEW REF` line per update on stdin. The sandbox computed, per
protected ref, what it can know without the objects (pushes.policy) and passes it in
SANDBOX_PUSH_POLICY; this adds what needs them: a force push, merge commits under linear history.
A refusal prints GitHub's two lines, which git shows as `remote: error: GH006: ...`, and exits 1,
so no ref of the push moves. It runs in its own process and imports nothing of the package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

ZERO = "0" * 40
POLICY = "SANDBOX_PUSH_POLICY"


def _git(git_dir: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    where = [f"--git-dir={git_dir}"] if git_dir else []
    return subprocess.run(["git", *where, *args], capture_output=True, text=True, check=False)


def reasons(rule: dict[str, Any], old: str, new: str, git_dir: str | None = None) -> list[str]:
    """Return why `rule` refuses moving a ref from `old` to `new`, in GitHub's words."""
    found = []
    if old != ZERO and new != ZERO:
        if not rule["force"] and _git(git_dir, "merge-base", "--is-ancestor", old, new).returncode:
            found.append("Cannot force-push to this protected branch")
        elif rule["linear"] and _git(git_dir, "rev-list", "--merges", f"{old}..{new}").stdout:
            found.append("This branch must not contain merge commits.")
    return found + list(rule["reasons"])


def main() -> int:
    """Check each update on stdin; print GitHub's refusal and return 1 if any is refused."""
    rules = json.loads(os.environ.get(POLICY) or "{}")
    refused = False
    for line in sys.stdin:
        old, new, ref = line.split()
        found = reasons(rules[ref], old, new) if ref in rules else []
        if found:
            refused = True
            sys.stderr.write(f"error: GH006: Protected branch update failed for {ref}.\n")
            sys.stderr.write(f"error: {' '.join(found)}\n")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())

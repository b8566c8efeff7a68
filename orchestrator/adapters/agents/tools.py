"""The tools our Anthropic loop offers: bash, and file read / write / edit confined to the worktree.

They run in the tool host (`toolhost.py`), a process apart from the worker, confined with the rest
of the agent when isolation is on; this module must therefore need nothing but the standard library
and the package's process runner. A path is resolved (symlinks followed, `..` collapsed) before
use, and refused unless it stays inside the worktree, so neither `../x`, an absolute path
elsewhere, nor a symlink pointing out lets a file tool touch anything outside, even under
`agents.isolation: none`. `.git` is refused too: the orchestrator owns the repository's history.
`bash` cannot be confined that way; it runs in the worktree, in its own process group with the
host's environment (the scrubbed one: no credential at all) and a timeout, and whatever it starts,
`setsid` or not, dies when the call ends (`process.run`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.adapters.agents import process
from orchestrator.errors import ToolFailed, ToolRefused

MODEL_OUTPUT_LIMIT = 30_000  # characters of a tool's output sent back to the model
READ_LIMIT = 256 * 1024  # bytes of a file read_file returns
BASH_TIMEOUT = 120.0  # seconds, when the model does not ask for another
BASH_MAX_TIMEOUT = 600.0

TOOLS: list[dict[str, Any]] = [
    {
        "name": "bash",
        "description": "Run a shell command in the worktree (the current directory). "
        "Returns the exit code and the combined output. Long-running commands are killed after "
        "timeout_seconds.",
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command, run with bash -c."},
                "timeout_seconds": {
                    "type": "integer",
                    "description": "Limit (default 120, at most 600).",
                },
            },
            "required": ["command"],
        },
    },
    {
        "name": "read_file",
        "description": "Read a text file of the worktree, numbered by line.",
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Relative to the worktree."},
                "offset": {"type": "integer", "description": "First line to return, from 1."},
                "limit": {"type": "integer", "description": "How many lines to return."},
            },
            "required": ["path"],
        },
    },
    {
        "name": "write_file",
        "description": "Write a whole file of the worktree, creating folders as needed.",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
    {
        "name": "edit_file",
        "description": "Replace old_string by new_string in a file of the worktree. "
        "old_string must occur exactly once unless replace_all is true.",
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "old_string": {"type": "string"},
                "new_string": {"type": "string"},
                "replace_all": {"type": "boolean"},
            },
            "required": ["path", "old_string", "new_string"],
        },
    },
]


class ToolRunner:
    """Carries out tool calls inside one worktree until `deadline` (a time.monotonic value)."""

    def __init__(
        self, root: Path, env: Mapping[str, str], deadline: float, grace: float = 2.0
    ) -> None:
        self.root = root.resolve()
        self.env, self.deadline, self.grace = dict(env), deadline, grace

    def call(self, name: str, args: Mapping[str, Any]) -> tuple[str, bool]:
        """Run one tool call; return its output for the model and whether it failed."""
        handler = {
            "bash": self.bash,
            "read_file": self.read_file,
            "write_file": self.write_file,
            "edit_file": self.edit_file,
        }.get(name)
        try:
            if handler is None:
                raise ToolRefused(
                    f"unknown tool {name!r}; the tools are bash, read_file, write_file, edit_file"
                )
            return _cap(handler(args)), False
        except ToolFailed as exc:
            return _cap(str(exc)), True
        except (OSError, ValueError) as exc:  # ValueError: undecodable text, a bad number
            return _cap(f"{name} failed: {exc}"), True

    def resolve(self, raw: object) -> Path:
        """Return the path inside the worktree that `raw` names, or refuse it."""
        if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
            raise ToolRefused(f"expected a path, got {raw!r}")
        candidate = Path(raw).expanduser()
        resolved = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ToolRefused(
                f"{raw!r} is outside the worktree; every path must stay inside {self.root}"
            )
        parts = resolved.relative_to(self.root).parts
        if parts and parts[0] == ".git":
            raise ToolRefused(f"{raw!r} is inside .git, which the orchestrator manages")
        return resolved

    def read_file(self, args: Mapping[str, Any]) -> str:
        path = self.resolve(args.get("path"))
        if not path.is_file():
            raise ToolRefused(f"{args.get('path')!r} is not a file")
        with path.open("rb") as handle:
            data = handle.read(READ_LIMIT + 1)
        text = data[:READ_LIMIT].decode("utf-8", "replace")
        lines = text.splitlines()
        first = max(int(args.get("offset") or 1), 1)
        count = int(args.get("limit") or len(lines))
        shown = [
            f"{n:6d}\t{line}"
            for n, line in enumerate(lines[first - 1 : first - 1 + count], start=first)
        ]
        more = "\n[file truncated at 256 KiB]" if len(data) > READ_LIMIT else ""
        return "\n".join(shown) + more if shown else "(empty)"

    def write_file(self, args: Mapping[str, Any]) -> str:
        path, content = self.resolve(args.get("path")), args.get("content")
        if not isinstance(content, str):
            raise ToolRefused("content must be a string")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return f"wrote {len(content)} characters to {path.relative_to(self.root)}"

    def edit_file(self, args: Mapping[str, Any]) -> str:
        path = self.resolve(args.get("path"))
        old, new = args.get("old_string"), args.get("new_string")
        if not isinstance(old, str) or not old or not isinstance(new, str):
            raise ToolRefused("old_string (non-empty) and new_string must be strings")
        if not path.is_file():
            raise ToolRefused(f"{args.get('path')!r} is not a file")
        text = path.read_text(encoding="utf-8")
        found = text.count(old)
        if found == 0 or (found > 1 and not args.get("replace_all")):
            raise ToolRefused(
                f"old_string occurs {found} times in {path.relative_to(self.root)}; "
                "it must occur once (or pass replace_all)"
            )
        path.write_text(text.replace(old, new), encoding="utf-8")
        return f"replaced {found} occurrence(s) in {path.relative_to(self.root)}"

    def bash(self, args: Mapping[str, Any]) -> str:
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolRefused("command must be a non-empty string")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ToolRefused("the run's time is up")
        limit = min(float(args.get("timeout_seconds") or BASH_TIMEOUT), BASH_MAX_TIMEOUT, remaining)
        shell = shutil.which("bash", path=self.env.get("PATH")) or "/bin/sh"
        lines: list[str] = []
        size = 0

        def keep(stream: str, line: str) -> None:
            nonlocal size
            if size <= MODEL_OUTPUT_LIMIT:
                lines.append(line)
            size += len(line) + 1

        ended = process.run(
            process.Spec((shell, "-c", command), self.root, self.env, None, limit, self.grace), keep
        )
        if ended.timed_out:
            status = f"killed after {limit:.0f} s (timeout)"
        else:
            status = (
                f"exit code {ended.returncode}" if ended.returncode is not None else ended.error
            )
        if ended.returncode not in (0, None) or ended.timed_out:
            raise ToolFailed(f"{status}\n" + "\n".join(lines))
        return f"{status}\n" + "\n".join(lines)


def _cap(text: str) -> str:
    if len(text) <= MODEL_OUTPUT_LIMIT:
        return text
    return text[:MODEL_OUTPUT_LIMIT] + f"\n[{len(text) - MODEL_OUTPUT_LIMIT} more characters cut]"

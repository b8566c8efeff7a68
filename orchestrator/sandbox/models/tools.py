"""Tool calls the real CLIs carry out: Claude Code's Bash, Read, Write, Edit; Codex's exec_command.

Claude Code 2.1.330 resolves a relative `file_path` against its cwd (the worktree), so scripts need
not know where the worktree is; it refuses to Edit or overwrite a file it has neither read nor
written itself.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from orchestrator.sandbox.models.script import ToolCall


def bash(command: str, description: str = "Run a command") -> ToolCall:
    """Have Claude Code run `command` in its shell (cwd: the worktree)."""
    return ToolCall("Bash", {"command": command, "description": description})


def read(path: Path | str) -> ToolCall:
    """Have Claude Code read a file.

    It must do so before it may Edit or overwrite one it did not write.
    """
    return ToolCall("Read", {"file_path": str(path)})


def write(path: Path | str, content: str) -> ToolCall:
    """Have Claude Code write a whole file, creating missing directories."""
    return ToolCall("Write", {"file_path": str(path), "content": content})


def edit(path: Path | str, old: str, new: str) -> ToolCall:
    """Have Claude Code replace the one occurrence of `old` in a file it has read or written."""
    return ToolCall("Edit", {"file_path": str(path), "old_string": old, "new_string": new})


def exec_command(cmd: str) -> ToolCall:
    """Have Codex run `cmd` with its shell in the workspace."""
    return ToolCall("exec_command", {"cmd": cmd})


def exec_write(path: str, content: str) -> ToolCall:
    """Have Codex write a whole file through its shell.

    Codex offers no file-writing tool to unknown models.
    """
    return exec_command(f"printf %s {shlex.quote(content)} > {shlex.quote(path)}")

"""Agent backends behind the Agent port.

The Claude Code and Codex CLIs, our Anthropic tool loop, and any command.
"""

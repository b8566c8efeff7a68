"""Agent backends behind the Agent port: the Claude Code and Codex CLIs, our Anthropic tool loop, any command."""

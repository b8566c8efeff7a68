"""Agent OS: run a GitHub backlog with coding agents."""

"""The improvement loops: what Agent OS learns from its own runs and files back into the backlog."""

"""Adapters: the only code that talks to GitHub, git, agents and chat."""

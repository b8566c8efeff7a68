"""Review: what the PR monitor gathers about an agent PR (facts) and what it does (actions)."""

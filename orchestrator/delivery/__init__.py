"""Delivery: from a Ready issue to a pull request (backlog, dispatch comments, briefs, the worker,
one attempt, the agent chain, the agent's prompt, the hand-off to GitHub, escalation, cards)."""

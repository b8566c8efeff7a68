"""Read `review`: the independent verifier that judges an agent's PR before it merges.

review:
  verifier: api            # an anthropic backend of agents.backends, or a list of them: the
                           # first that did not write the change judges it; absent: no verifier
  token: $REVIEW_TOKEN     # optional: a second GitHub identity, whose reviews approve for real
repos:
  - key: app
    review: {verifier: [opus, api]}   # this repo's own; `verifier: []` turns it off here

The section is read twice with the same reader, as every per-repo section is: at the top level,
then under each repo over the top's values. The token is one identity for every repo: it is
read at the top level only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrator.config.improve import anthropic_backend
from orchestrator.config.model import AgentsConfig, RepoConfig, ReviewConfig
from orchestrator.config.reader import Reader, join, show

KEYS = ("verifier", "token")


def read(r: Reader, value: Any, agents: AgentsConfig) -> ReviewConfig:
    """Read the top-level `review` section (every key optional)."""
    node = r.mapping(value, "review", KEYS)
    token = r.secret(node, "token", "review") if node.get("token") is not None else None
    return ReviewConfig(verifiers=_verifiers(r, node, "review", agents, ()), token=token)


def for_repos(
    r: Reader, raw: Any, repos: tuple[RepoConfig, ...], top: ReviewConfig, agents: AgentsConfig
) -> tuple[RepoConfig, ...]:
    """Return the repos, each with its `review`: its own `repos[].review` over the top's."""
    own: dict[str, ReviewConfig] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue  # the repo's own problem, reported by `sections.repos`
        path = f"repos[{i}].review"
        node = r.mapping(item.get("review"), path, KEYS)
        if "token" in node:
            r.fail(join(path, "token"), "is read at the top level only (`review.token`)")
        own[item["key"]] = replace(top, verifiers=_verifiers(r, node, path, agents, top.verifiers))
    return tuple(replace(repo, review=own.get(repo.key, top)) for repo in repos)


def _verifiers(
    r: Reader, node: dict[str, Any], path: str, agents: AgentsConfig, default: tuple[str, ...]
) -> tuple[str, ...]:
    if "verifier" not in node:
        return default
    value = node["verifier"]
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        r.fail(
            join(path, "verifier"),
            f"expected a backend name or a list of them, got {show(value)}",
        )
        return ()
    # each name is checked as `improve.triage_with` and `planner.with` are
    known = [anthropic_backend(r, {"verifier": n}, "verifier", path, agents) for n in names]
    return tuple(dict.fromkeys(n for n in known if n))

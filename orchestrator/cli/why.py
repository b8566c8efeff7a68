"""`agentos why ISSUE [--repo KEY]`: why an issue is or is not running, as `/why` says it.

ISSUE is `N` (with one repo, or with `--repo KEY`), `KEY#N`, `owner/name#N` or the issue's URL.
The answer is `control.explaining.why`'s, the chat's own function: it reads GitHub (the issue,
its card, its dependencies, its author's standing, the open PRs) and runtime/ (mailbox,
switches, cooldowns, memos), and writes nothing. A bad ISSUE or repo is a usage error (exit 2);
a token GitHub refuses ends it like any command (exit 3).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from orchestrator import wiring
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, RepoConfig
from orchestrator.control import explaining
from orchestrator.core.chat import parse_target
from orchestrator.core.model import IssueRef
from orchestrator.core.redact import redact
from orchestrator.errors import OverridesError, UsageError

_URL = re.compile(  # https://github.com/acme/app/issues/12, a comment's anchor or not
    r"^https?://[^/\s]+/(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)/issues/(?P<number>\d{1,9})"
    r"/?(?:[#?]\S*)?$"
)


def add_why_arguments(why: argparse.ArgumentParser) -> None:
    """Declare the arguments of `why` (main.py declares the command itself)."""
    why.add_argument(
        "issue", metavar="ISSUE", help="N, KEY#N, owner/name#N or the issue's URL on GitHub"
    )
    why.add_argument("--repo", metavar="KEY", help="the repo of a bare N (needed with several)")


def run(args: argparse.Namespace, path: Path, env: Mapping[str, str]) -> int:
    """Print why the issue is or is not running; return the exit code."""
    config = _config(path, env)
    repo, ref = target(config, args.issue, args.repo)
    deps = wiring.real_deps(config, logging.getLogger("agentos.why"), actor="cli:why")
    try:
        text = explaining.why(
            config,
            repo,
            ref,
            deps.mailbox,
            deps.switches,
            deps.tracker,
            deps.board_for(repo),
            now=datetime.now(UTC),
            cooldowns=deps.cooldowns,
        )
    finally:
        deps.close()
    print(redact(text))
    return 0


def target(config: Config, word: str, repo_key: str | None) -> tuple[RepoConfig, IssueRef]:
    """Return the configured repo and the issue ISSUE names; UsageError naming what is wrong."""
    url = _URL.match(word.strip())
    found = parse_target(word) if url is None else None
    if url is not None:
        number, named = int(url["number"]), url["repo"]
    elif found is not None:
        number, named = found.number, found.repo
    else:
        raise UsageError(f"why: {word!r} is not an issue (N, KEY#N, owner/name#N or its URL)")
    if number < 1:
        raise UsageError(f"why: {word!r} is not an issue number")
    name = named or repo_key
    if name is None:
        if len(config.repos) != 1:
            keys = " or ".join(f"{r.key}#{number}" for r in config.repos)
            raise UsageError(f"why: which repo is {word!r} in? name it: {keys} (or --repo KEY)")
        return config.repos[0], IssueRef(config.repos[0].github, number)
    repo = _repo(config, name)
    if repo is None:
        known = ", ".join(r.key for r in config.repos)
        raise UsageError(f"why: unknown repo {name!r} (known: {known})")
    if named is not None and repo_key is not None and _repo(config, repo_key) is not repo:
        raise UsageError(f"why: {word!r} is not in repo {repo_key!r} (--repo)")
    return repo, IssueRef(repo.github, number)


def _repo(config: Config, name: str) -> RepoConfig | None:
    """Return the repo a key or `owner/name` (any case) names."""
    return next(
        (r for r in config.repos if name == r.key or name.lower() == r.github.lower()), None
    )


def _config(path: Path, env: Mapping[str, str]) -> Config:
    """Load the config; a bad overrides.yaml is left out, as the chat leaves it out, and said."""
    try:
        return load_config(path, env)
    except OverridesError as exc:
        first = exc.problems[0] if exc.problems else str(exc)
        print(f"agentos: {exc.source} is invalid and left out: {first}", file=sys.stderr)
        return load_config(path, env, overrides={})

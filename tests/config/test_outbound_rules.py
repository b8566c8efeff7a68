"""The `outbound` section: defaults, a top level every repo inherits, a repo's keys over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.load import load_config
from orchestrator.core.outbound import MIB, OutboundRules
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

REPOS = [{"key": "app", "github": "acme/app"}, {"key": "site", "github": "acme/site"}]


def load(tmp_path: Path, **sections: Any) -> Any:
    return load_config(write_config(tmp_path, minimal_config(repos=REPOS, **sections)), ENV)


def test_without_the_section_every_repo_gets_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.outbound == OutboundRules()
    assert config.outbound_for("app") == config.outbound_for(config.repos[1]) == OutboundRules()
    assert (OutboundRules().max_file_bytes, OutboundRules().max_change_bytes) == (5 * MIB, 20 * MIB)
    with pytest.raises(KeyError, match="unknown repo 'web'"):
        config.outbound_for("web")


def test_a_repo_overrides_the_top_level_key_by_key(tmp_path: Path) -> None:
    repos = [
        {**REPOS[0], "outbound": {"allow_workflows": True, "deny": ["*.sqlite"]}},
        REPOS[1],
    ]
    top = {"max_file_bytes": 1_000_000, "deny": ["dumps/**"]}
    config = load_config(write_config(tmp_path, minimal_config(repos=repos, outbound=top)), ENV)
    assert config.outbound_for("app") == OutboundRules(
        max_file_bytes=1_000_000, allow_workflows=True, deny=("*.sqlite",)
    )
    assert config.outbound_for("site") == OutboundRules(
        max_file_bytes=1_000_000, deny=("dumps/**",)
    )
    assert config.outbound == config.outbound_for("site")


def test_sizes_may_be_written_with_underscores(tmp_path: Path) -> None:
    text = (
        "repos: [{key: app, github: acme/app}]\n"
        "github: {token: $GITHUB_TOKEN}\n"
        "agents: {backends: {script: {type: command, argv: ['true']}}}\n"
        "outbound: {max_file_bytes: 10_485_760, max_change_bytes: 52_428_800}\n"
    )
    config = load_config(write_config(tmp_path, text), ENV)
    assert config.outbound_for("app").max_file_bytes == 10 * MIB
    assert config.outbound_for("app").max_change_bytes == 50 * MIB


INVALID = [
    ({"max_file_bytes": 0}, "outbound.max_file_bytes: expected a positive integer, got 0"),
    (
        {"max_change_bytes": "20MB"},
        "outbound.max_change_bytes: expected a positive integer, got '20MB'",
    ),
    ({"allow_workflows": "yes"}, "outbound.allow_workflows: expected true or false, got 'yes'"),
    ({"deny": ".env"}, "outbound.deny: expected a list of strings, got '.env'"),
    ({"deny": ["*.db", "/"]}, "outbound.deny[1]: expected a path glob, got '/'"),
    ({"deny": ["a\\b"]}, "outbound.deny[0]: expected a path glob, got 'a\\\\b'"),
    ({"max_bytes": 1}, "outbound.max_bytes: unknown key (did you mean 'max_file_bytes'?)"),
]


@pytest.mark.parametrize("section, expected", INVALID, ids=[e.split(":")[0] for _, e in INVALID])
def test_each_bad_value_gives_its_one_line_error(
    tmp_path: Path, section: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, outbound=section)
    assert caught.value.problems == (expected,)


def test_a_repos_section_is_checked_the_same_way_under_its_own_key(tmp_path: Path) -> None:
    repos = [REPOS[0], {**REPOS[1], "outbound": {"allow_workflows": 1, "deny": [""]}}]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, minimal_config(repos=repos)), ENV)
    assert caught.value.problems == (
        "repos[1].outbound.allow_workflows: expected true or false, got 1",
        "repos[1].outbound.deny[0]: expected a non-empty string, got ''",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(
            write_config(tmp_path, minimal_config(repos=[{**REPOS[0], "outbound": 5}])), ENV
        )
    assert caught.value.problems == ("repos[0].outbound: expected a mapping, got 5",)

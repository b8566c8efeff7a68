"""The `review` section: the verifier's backends (top level, each repo's over them), the second
identity's token, and one line per bad value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.backend_keys import secret_values
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, ReviewConfig
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

AGENTS = {
    "backends": {
        "script": {"type": "command", "argv": ["true"]},
        "api": {"type": "anthropic", "api_key": "$MODEL_KEY"},
        "opus": {"type": "anthropic", "api_key": "$MODEL_KEY", "model": "claude-opus-4"},
        "claude": {"type": "claude"},
    },
    "chains": {"default": ["script"]},
}
KEYS = {
    **ENV,
    "MODEL_KEY": "test-model-key-0123456789",
    "REVIEW_TOKEN": "ghs_review_token_0123456789",
}


def load(tmp_path: Path, top: Any = None, **repo: Any) -> Config:
    repos = [{"key": "app", "github": "acme/app", **repo}, {"key": "lib", "github": "acme/lib"}]
    data = minimal_config(agents=AGENTS, repos=repos, review=top)
    return load_config(write_config(tmp_path, data), KEYS)


def test_absent_means_no_verifier(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.review == ReviewConfig() and not config.review.enabled
    assert all(r.review == ReviewConfig() for r in config.repos)


def test_one_backend_or_a_list_and_each_repo_over_the_top(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {"verifier": "api", "token": "$REVIEW_TOKEN"},
        review={"verifier": ["opus", "api"]},
    )
    assert config.review.verifiers == ("api",)
    app, lib = config.repos
    assert app.review.verifiers == ("opus", "api") and lib.review.verifiers == ("api",)
    assert app.review.token == lib.review.token == config.review.token
    assert config.review.token is not None and config.review.token.reveal() == KEYS["REVIEW_TOKEN"]


def test_an_empty_list_turns_the_verifier_off_for_one_repo(tmp_path: Path) -> None:
    config = load(tmp_path, {"verifier": "api"}, review={"verifier": []})
    assert not config.repos[0].review.enabled and config.repos[1].review.enabled


def test_the_review_token_is_a_secret_redacted_like_the_others(tmp_path: Path) -> None:
    config = load(tmp_path, {"verifier": "api", "token": "$REVIEW_TOKEN"})
    assert KEYS["REVIEW_TOKEN"] in secret_values(config)
    assert KEYS["REVIEW_TOKEN"] not in repr(config.review)


BAD = [
    ({"verifier": "claude"}, {}, "review.verifier: expected the name of an anthropic backend"),
    ({"verifier": "nobody"}, {}, "review.verifier: expected the name of an anthropic backend"),
    ({"verifier": 3}, {}, "review.verifier: expected a backend name or a list of them, got 3"),
    ({"verifier": ["api", ""]}, {}, "review.verifier: expected a backend name or a list of them"),
    ({"token": "ghp_literal"}, {}, "review.token: expected a $VAR reference"),
    ({"token": "$UNSET_TOKEN"}, {}, "review.token: $UNSET_TOKEN is not set"),
    ({"verifiers": "api"}, {}, "review.verifiers: unknown key"),
    ({}, {"review": {"token": "$REVIEW_TOKEN"}}, "repos[0].review.token: is read at the top level"),
    ({}, {"review": {"verifier": "claude"}}, "repos[0].review.verifier: expected the name of an"),
    ({}, {"review": "api"}, "repos[0].review: expected a mapping"),
]  # fmt: skip


@pytest.mark.parametrize("review, repo, expected", BAD, ids=[e.split(":")[0] for *_, e in BAD])
def test_each_bad_value_is_one_line_naming_it(
    tmp_path: Path, review: dict, repo: dict, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, review, **repo)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems

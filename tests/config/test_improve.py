"""The `improve` section: defaults, each source kind, and one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.config.model import ImproveConfig, SourceKind
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config


def _load(tmp_path: Path, improve: object) -> ImproveConfig:
    return load_config(write_config(tmp_path, minimal_config(improve=improve)), ENV).improve


def test_absent_means_the_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    assert config.improve == ImproveConfig()
    assert (config.improve.daily_cap, config.improve.sources) == (5, ())
    assert config.improve.stale_days == 7


def test_each_source_kind_is_read(tmp_path: Path) -> None:
    improve = _load(
        tmp_path,
        {
            "incidents_repo": "app",
            "ready_severities": ["critical"],
            "sources": [
                {"name": "errors", "repo": "app", "jsonl": "logs/app.jsonl"},
                {
                    "name": "smoke",
                    "repo": "app",
                    "command": "./smoke.sh --quick",
                    "severity": "low",
                },
                {
                    "name": "health",
                    "repo": "app",
                    "url": "http://127.0.0.1:9/h",
                    "timeout_seconds": 2,
                },
            ],
        },
    )
    jsonl, command, url = improve.sources
    assert (jsonl.kind, jsonl.path) == (SourceKind.JSONL, tmp_path / "logs" / "app.jsonl")
    assert (command.kind, command.argv, command.severity) == (
        SourceKind.COMMAND,
        ("./smoke.sh", "--quick"),
        "low",
    )
    assert (url.kind, url.url, url.timeout_seconds) == (SourceKind.URL, "http://127.0.0.1:9/h", 2.0)
    assert (improve.incidents_repo, improve.ready_severities) == ("app", ("critical",))


BAD = [
    ({"incidents_repo": "web"}, "improve.incidents_repo: expected a key of repos (app), got 'web'"),
    ({"daily_cap": 0}, "improve.daily_cap: expected a positive integer, got 0"),
    ({"daily_cap": 1000}, "improve.daily_cap: expected at most 100, got 1000"),
    (
        {"ready_severities": ["urgent"]},
        "improve.ready_severities[0]: expected one of critical | high | medium | low, got 'urgent'",
    ),
    ({"chronic_share": 1.5}, "improve.chronic_share: expected at most 1, got 1.5"),
    ({"stale_days": 0}, "improve.stale_days: expected a positive integer, got 0"),
    ({"stale_days": "a week"}, "improve.stale_days: expected a positive integer, got 'a week'"),
    (
        {"triage_with": "claude"},
        "improve.triage_with: expected the name of an anthropic backend in agents.backends "
        "(none configured), got 'claude'",
    ),
    (
        {"sources": "errors.jsonl"},
        "improve.sources: expected a list of signal sources, got 'errors.jsonl'",
    ),
    (
        {"sources": [{"name": "a", "repo": "app"}]},
        "improve.sources[0]: expected exactly one of jsonl | command | url, got none",
    ),
    (
        {"sources": [{"name": "a", "repo": "app", "jsonl": "x", "url": "http://h"}]},
        "improve.sources[0]: expected exactly one of jsonl | command | url, got jsonl, url",
    ),
    (
        {"sources": [{"name": "a", "repo": "web", "jsonl": "x"}]},
        "improve.sources[0].repo: expected a key of repos (app), got 'web'",
    ),
    (
        {"sources": [{"name": "a", "repo": "app", "url": "file:///etc/passwd"}]},
        "improve.sources[0].url: expected an http(s) URL, got 'file:///etc/passwd'",
    ),
    (
        {"sources": [{"name": "a", "repo": "app", "command": "echo 'unclosed"}]},
        'improve.sources[0].command: expected a command line, got "echo \'unclosed" '
        "(No closing quotation)",
    ),
    (
        {"sources": [{"name": "a", "repo": "app", "command": [1, 2]}]},
        "improve.sources[0].command: expected a command (text or a list of words), got a list "
        "of 2 integers",
    ),
    (
        {"sources": [{"name": "a b", "repo": "app", "jsonl": "x"}]},
        "improve.sources[0].name: expected letters, digits, '-' or '_' (≤ 64), got 'a b'",
    ),
    (
        {"sources": [{"name": "a", "repo": "app", "jsonl": "x", "severity": "bad"}]},
        "improve.sources[0].severity: expected one of critical | high | medium | low, got 'bad'",
    ),
    (
        {
            "sources": [
                {"name": "a", "repo": "app", "jsonl": "x"},
                {"name": "a", "repo": "app", "jsonl": "y"},
            ]
        },
        "improve.sources: duplicate source name 'a'",
    ),
    ({"thresholds": {}}, "improve.thresholds: unknown key"),
]


@pytest.mark.parametrize("improve, expected", BAD, ids=[e.split(":")[0] for _, e in BAD])
def test_each_bad_value_is_one_line_naming_it(
    tmp_path: Path, improve: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, improve)
    problems = caught.value.problems
    assert any(p.startswith(expected) for p in problems), problems
    assert all("\n" not in p for p in problems)

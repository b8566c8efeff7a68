"""The `risk` section: defaults, lists that replace them, one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.core.risk import DEFAULT_HIGH, RiskRules
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config


def _load(tmp_path: Path, risk: object) -> RiskRules:
    return load_config(write_config(tmp_path, minimal_config(risk=risk)), ENV).risk


def test_absent_means_the_defaults(tmp_path: Path) -> None:
    rules = load_config(write_config(tmp_path), ENV).risk
    assert rules == RiskRules() and rules.high == DEFAULT_HIGH


def test_a_list_replaces_its_default_and_an_empty_one_means_none(tmp_path: Path) -> None:
    rules = _load(tmp_path, {"high": ["billing/**"], "medium": [], "min_merged_rate": 0})
    assert (rules.high, rules.medium, rules.min_merged_rate) == (("billing/**",), (), 0)


def test_medium_needs_a_verifier_only_when_asked(tmp_path: Path) -> None:
    assert RiskRules().medium_requires_verifier is False  # an upgraded repo goes on merging
    assert _load(tmp_path, {"medium_requires_verifier": True}).medium_requires_verifier is True


BAD = [
    ({"high": "auth/**"}, "risk.high: expected a list"),
    ({"high": ["../etc/**"]}, "risk.high[0]: expected a path glob inside the repo"),
    ({"medium_lines": 0}, "risk.medium_lines: expected a positive integer, got 0"),
    ({"medium_lines": 500, "high_lines": 100}, "risk.high_lines: expected at least medium_lines"),
    ({"min_merged_rate": 2}, "risk.min_merged_rate: expected at most 1, got 2"),
    ({"medium_requires_verifier": "yes"}, "risk.medium_requires_verifier: expected true or false"),
    ({"tiers": {}}, "risk.tiers: unknown key"),
]  # fmt: skip


@pytest.mark.parametrize("risk, expected", BAD, ids=[e.split(":")[0] for _, e in BAD])
def test_each_bad_value_is_one_line_naming_it(tmp_path: Path, risk: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, risk)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems

"""The `prices` and `logs` sections: defaults, overrides, and one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.config.model import Config, LogsConfig
from orchestrator.core.evidence import DEFAULT_PRICES, Price, price_for
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config


def _load(tmp_path: Path, **sections: object) -> Config:
    return load_config(write_config(tmp_path, minimal_config(**sections)), ENV)


def test_absent_means_the_default_prices_and_log_limits(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert dict(config.prices) == dict(DEFAULT_PRICES)
    assert config.logs == LogsConfig() and config.logs.max_bytes == 20 * 1024 * 1024
    assert (config.logs.keep_days, config.logs.keep_files) == (30, 5)


def test_configured_prices_lay_over_the_defaults(tmp_path: Path) -> None:
    prices = {
        "gpt-5": {"input_per_mtok": 1.0, "output_per_mtok": 8},  # changed
        "my-local-model": {"input_per_mtok": 0, "output_per_mtok": 0},  # added: free
        "claude-haiku-4": {"input_per_mtok": 1, "output_per_mtok": 5, "cached_input_per_mtok": 0},
    }
    config = _load(tmp_path, prices=prices, logs={"max_mb": 0.5, "keep_days": 7, "keep_files": 2})
    assert config.prices["gpt-5"] == Price(1.0, 8.0)
    assert config.prices["my-local-model"] == Price(0.0, 0.0)
    assert config.prices["claude-haiku-4"] == Price(1.0, 5.0, 0.0)
    assert config.prices["claude-sonnet-4"] == DEFAULT_PRICES["claude-sonnet-4"]  # kept
    assert config.logs == LogsConfig(max_mb=0.5, keep_days=7, keep_files=2)


def test_a_model_is_priced_by_its_name_else_the_longest_prefix() -> None:
    prices = {"gpt-5": Price(1.25, 10), "gpt-5-mini": Price(0.25, 2), "gpt-5-mini-x": Price(9, 9)}
    assert price_for(prices, "gpt-5-mini-x") == Price(9, 9)
    assert price_for(prices, "gpt-5-mini-2025-08-07") == Price(0.25, 2)
    assert price_for(prices, "gpt-5.1") == Price(1.25, 10)
    assert price_for(prices, "o3") is None and price_for(prices, None) is None
    assert price_for(DEFAULT_PRICES, "claude-sonnet-4-6") == Price(3.0, 15.0, 0.3)
    assert Price(3.0, 15.0, 0.3).cost(1_000_000, 100_000, 400_000) == pytest.approx(
        (600_000 * 3.0 + 400_000 * 0.3 + 100_000 * 15.0) / 1e6
    )


BAD = [
    ({"prices": ["gpt-5"]}, "prices: expected a mapping of model name to prices, got a list of 1"),
    (
        {"prices": {"gpt-5": {"input_per_mtok": "cheap", "output_per_mtok": 10}}},
        "prices.gpt-5.input_per_mtok: expected a number >= 0, got 'cheap'",
    ),
    (
        {"prices": {"gpt-5": {"input_per_mtok": -1, "output_per_mtok": 10}}},
        "prices.gpt-5.input_per_mtok: expected a number >= 0, got -1",
    ),
    (
        {"prices": {"gpt-5": {"input_per_mtok": 1, "output_per_mtok": 10**6}}},
        "prices.gpt-5.output_per_mtok: expected at most 10000, got 1000000",
    ),
    (
        {"prices": {"gpt-5": {"input_per_mtok": 1}}},
        "prices.gpt-5.output_per_mtok: is required (USD per million tokens)",
    ),
    (
        {"prices": {"gpt-5": {"input_per_mtok": 1, "output_per_mtok": 2, "cache": 1}}},
        "prices.gpt-5.cache: unknown key (known: cached_input_per_mtok, input_per_mtok, ",
    ),
    (
        {"prices": {"gpt-5": 1.25}},
        "prices.gpt-5: expected a mapping with input_per_mtok and output_per_mtok, got 1.25",
    ),
    (
        {"prices": {7: {"input_per_mtok": 1, "output_per_mtok": 2}}},
        "prices.7: expected a model name, got 7",
    ),
    ({"logs": {"max_mb": 0}}, "logs.max_mb: expected a positive number, got 0"),
    ({"logs": {"keep_files": 0}}, "logs.keep_files: expected a positive integer, got 0"),
    ({"logs": {"keep_days": "a month"}}, "logs.keep_days: expected a positive integer"),
    (
        {"logs": {"max_size": 3}},
        "logs.max_size: unknown key (known: keep_days, keep_files, max_mb)",
    ),
    ({"logs": "20MB"}, "logs: expected a mapping, got '20MB'"),
]


@pytest.mark.parametrize(("sections", "problem"), BAD)
def test_a_bad_value_is_one_line_naming_it(
    tmp_path: Path, sections: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, **sections)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith(problem), caught.value.problems
    assert "\n" not in caught.value.problems[0]

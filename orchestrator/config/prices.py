"""Read `prices` (what a model's tokens cost) and `logs` (job log rotation and retention).

`prices` maps a model name, or the start of one, to USD per million tokens; its entries are laid
over the defaults (`core.evidence.DEFAULT_PRICES`, list prices as of 2026), so a config names
only what it adds or changes. The outcome ledger prices the tokens of backends that report no
cost with it (docs/ledger.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from orchestrator.config.model import LogsConfig
from orchestrator.config.reader import Reader, join, show
from orchestrator.core.evidence import DEFAULT_PRICES, Price

PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok")
MAX_PRICE = 10_000.0  # USD per million tokens: past this a value is a slip of the keyboard
MAX_PRICES = 200  # models priced; more is a pasted list, not a price table
LOG_KEYS = ("max_mb", "keep_days", "keep_files")


def read(r: Reader, value: Any) -> Mapping[str, Price]:
    """Read `prices`: model name -> {input_per_mtok, output_per_mtok, cached_input_per_mtok}."""
    if value is None:
        return DEFAULT_PRICES
    if not isinstance(value, dict):
        r.fail("prices", f"expected a mapping of model name to prices, got {show(value)}")
        return DEFAULT_PRICES
    if len(value) > MAX_PRICES:
        r.fail("prices", f"expected at most {MAX_PRICES} models, got {len(value)}")
        return DEFAULT_PRICES
    table = dict(DEFAULT_PRICES)
    for model, entry in value.items():
        path = join("prices", model if isinstance(model, str) else show(model))
        if not isinstance(model, str) or not model.strip() or model != model.strip():
            r.fail(path, f"expected a model name, got {show(model)}")
            continue
        price = _price(r, entry, path)
        if price is not None:
            table[model] = price
    return MappingProxyType(table)


def _price(r: Reader, value: Any, path: str) -> Price | None:
    if not isinstance(value, dict):
        r.fail(
            path, f"expected a mapping with input_per_mtok and output_per_mtok, got {show(value)}"
        )
        return None
    before = len(r.problems) + r.unlisted
    node = r.mapping(value, path, PRICE_KEYS)
    for key in PRICE_KEYS[:2]:
        if key not in node:
            r.fail(join(path, key), "is required (USD per million tokens)")
    numbers = {
        key: r.number(node, key, path, 0.0, maximum=MAX_PRICE, zero=True)
        for key in PRICE_KEYS
        if key in node
    }
    if len(r.problems) + r.unlisted > before:
        return None
    return Price(
        input_per_mtok=numbers["input_per_mtok"],
        output_per_mtok=numbers["output_per_mtok"],
        cached_input_per_mtok=numbers.get("cached_input_per_mtok"),
    )


def log_retention(r: Reader, value: Any) -> LogsConfig:
    """Read `logs`: rotate a job log past `max_mb`; keep rotated ones `keep_days`, `keep_files`."""
    d = LogsConfig()
    node = r.mapping(value, "logs", LOG_KEYS)
    return LogsConfig(
        max_mb=r.number(node, "max_mb", "logs", d.max_mb, maximum=10_240),
        keep_days=r.integer(node, "keep_days", "logs", default=d.keep_days, maximum=3650),
        keep_files=r.integer(node, "keep_files", "logs", default=d.keep_files, maximum=1000),
    )

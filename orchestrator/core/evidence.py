"""What the outcome ledger hands core: signal groups, signals from elsewhere, and model prices.

Plain values (the ledger in store/ builds them from SQL; the incident scanner and the log
analyzer decide with them), and the price arithmetic that turns a backend's tokens into dollars
where the backend reports none: a price per million tokens per model, matched by the exact model
name or else by the longest configured prefix (`claude-sonnet-4` prices `claude-sonnet-4-6`).
Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DETAIL_MAX = 300  # characters of a signal's detail
MTOK = 1_000_000


@dataclass(frozen=True, slots=True)
class SignalGroup:
    """The signals of one (repo, kind, signature) over an id range or a time window."""

    repo_key: str  # '' when no repo is known (a job's crash)
    kind: str  # job_crashed, escalated, task_failed, worker_recovered, quota, github_error, ...
    signature: str
    count: int
    first_ts: str
    last_ts: str
    task_ids: tuple[str, ...] = ()  # up to 5 distinct, the earliest first
    details: tuple[str, ...] = ()  # up to 3 distinct, each at most DETAIL_MAX characters


@dataclass(frozen=True, slots=True)
class SignalRow:
    """A signal from outside our own logs (a user's app, read by the incident scanner)."""

    ts: str  # UTC ISO, as the logs write it: 2026-12-01T09:00:00.000Z
    repo_key: str
    signature: str
    detail: str
    source: str  # the source's name (improve.sources[].name)
    kind: str = "source"
    key: str = ""  # the reading it came from: the ledger counts a key once


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens; cached input tokens (part of the input) at their own price."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None  # None: cached tokens cost what input costs

    def cost(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """Return what the tokens cost; `cached_input_tokens` are counted in `input_tokens`."""
        cached = max(0, min(cached_input_tokens, input_tokens))
        cached_price = (
            self.input_per_mtok
            if self.cached_input_per_mtok is None
            else self.cached_input_per_mtok
        )
        return (
            (input_tokens - cached) * self.input_per_mtok
            + cached * cached_price
            + output_tokens * self.output_per_mtok
        ) / MTOK


# List prices as of 2026, USD per million tokens; `prices:` in the config adds or overrides.
DEFAULT_PRICES: Mapping[str, Price] = {
    "claude-opus-4": Price(15.0, 75.0, 1.5),
    "claude-opus-4-5": Price(5.0, 25.0, 0.5),
    "claude-sonnet-4": Price(3.0, 15.0, 0.3),
    "claude-haiku-4": Price(1.0, 5.0, 0.1),
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "o4-mini": Price(1.1, 4.4, 0.275),
}


def price_for(prices: Mapping[str, Price], model: str | None) -> Price | None:
    """Return the price of a model: its exact name, else the longest name it starts with."""
    if not model:
        return None
    exact = prices.get(model)
    if exact is not None:
        return exact
    best = max((name for name in prices if model.startswith(name)), key=len, default=None)
    return None if best is None else prices[best]


def clip_detail(text: str) -> str:
    """Return a signal's detail: the text's first DETAIL_MAX characters, outer blanks removed."""
    return text.strip()[:DETAIL_MAX].rstrip()


def as_int(value: object) -> int | None:
    """A log field as an integer: an int, or a string of digits; None otherwise (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None

"""Find secret-shaped text and swap in labelled placeholders before it leaves the process."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SecretShape:
    """A named pattern; its `secret` group is the part to hide, the rest is context kept as is."""

    label: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Finding:
    """Where a secret sits in a text, and what kind it is; never the secret itself."""

    label: str
    start: int
    end: int


# Characters a URL's userinfo allows (RFC 3986): not brackets, so placeholders never re-match.
_USERINFO = r"[A-Za-z0-9._~%!$&'()*+,;=-]"
# An HTTP credential (RFC 7235 token68, plus the '-' and '.' that real tokens carry).
_CREDENTIAL = r"[A-Za-z0-9._~+/=-]"


def _key(prefix: str, body: str) -> re.Pattern[str]:
    """Compile a key that starts with `prefix` and does not begin inside a longer identifier."""
    # The boundary is checked after the prefix, not before it: a pattern that opens with a literal
    # lets the regex engine skip ahead, which keeps a megabyte of text in a few milliseconds.
    return re.compile(rf"(?P<secret>{prefix}(?<![A-Za-z0-9_-]{prefix}){body})")


SECRET_SHAPES: tuple[SecretShape, ...] = (
    SecretShape(
        "private-key",
        re.compile(
            r"(?P<secret>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            # unterminated: hide everything after it
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*))",
            re.DOTALL,
        ),
    ),
    SecretShape(
        "url-credentials",
        # user:password@host always; a lone user@host only when it is long enough to be a token,
        # so ssh://git@github.com and https://alice@example.com stay readable.
        re.compile(rf"://(?P<secret>{_USERINFO}+:{_USERINFO}+|{_USERINFO}{{16,}})@"),
    ),
    SecretShape(
        "authorization",
        # With a scheme word the value may be short; without one it must look like a token,
        # so "Authorization: required" in prose is left alone.
        re.compile(
            r"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"
            rf"(?:(?i:bearer|token|basic|bot|digest)[ \t]+(?={_CREDENTIAL}{{8}})"
            rf"|(?={_CREDENTIAL}{{16}}))"
            rf"(?P<secret>{_CREDENTIAL}+)"
        ),
    ),
    SecretShape("github-token", _key("gh[pousr]_", "[A-Za-z0-9]{36,}")),
    SecretShape("github-token", _key("github_pat_", "[A-Za-z0-9_]{40,}")),
    # Bot tokens are often glued to "bot" in API URLs (/bot123456789:AA...), so only a digit may not
    # precede the bot id; that check follows the first digit for the same speed reason as in _key.
    SecretShape(
        "telegram-bot-token",
        re.compile(r"(?P<secret>[0-9](?<![0-9]{2})[0-9]{7,9}:[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])"),
    ),
    SecretShape("anthropic-key", _key("sk-ant-", "[A-Za-z0-9_-]{20,}")),
    # Real keys are random and always carry a digit; that keeps names like
    # sk-learn-style-guides out.
    SecretShape(
        "openai-key", _key("sk-", r"(?!ant-)(?=[A-Za-z0-9_-]{0,200}[0-9])[A-Za-z0-9_-]{20,}")
    ),
    SecretShape("aws-access-key", _key("A[KS]IA", "[A-Z0-9]{16}(?![A-Za-z0-9])")),
)


def find_secrets(text: str) -> list[Finding]:
    """Return the secrets in `text` in order.

    Where shapes overlap, the earliest and longest one names the span.
    """
    candidates = sorted(
        (match.start("secret"), -match.end("secret"), rank, shape.label)
        for rank, shape in enumerate(SECRET_SHAPES)
        for match in shape.pattern.finditer(text)
    )
    findings: list[Finding] = []
    for start, negative_end, _, label in candidates:
        end = -negative_end
        if findings and start < findings[-1].end:
            last = findings[-1]  # an overlap widens the span, so no tail of a secret is left behind
            findings[-1] = Finding(last.label, last.start, max(last.end, end))
        else:
            findings.append(Finding(label, start, end))
    return findings


def redact(text: str) -> str:
    """Return `text` with each secret replaced by `[REDACTED:<label>]`."""
    pieces: list[str] = []
    cursor = 0
    for finding in find_secrets(text):
        pieces += [text[cursor : finding.start], f"[REDACTED:{finding.label}]"]
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_all(value: Any, limit: int) -> Any:
    """Return `value` ready for a JSON record: every string redacted and cut to `limit` characters,
    also inside lists and mappings; tuples become lists, keys strings, anything else its `str`."""
    if isinstance(value, str):
        value = redact(value)
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, Mapping):
        return {str(k): redact_all(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v, limit) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_all(str(value), limit)

"""Find secrets in text and swap in labelled placeholders before it leaves the process.

Two kinds are found: secret *shapes* (`SECRET_SHAPES`: a GitHub token, a private key, ...), and
the *values* this process knows to be secret (the config's `$VAR` secrets, the attempt's canary)
in every encoding `encoded_forms` lists: raw, base64 at each byte alignment, percent-encoded, hex.

The values are a process-wide registry (`register_values`), filled once where the config is
loaded for a run (`wiring.real_deps`) and by whoever plants a canary, not an argument of
`redact`: every outbound path (logs, war-room records, PR bodies and comments, chat, escalation
texts, error lines) already calls `redact`, some deep inside code that never sees the config (a
logging formatter, `redact_all`, core's own texts), so a registry covers every path there is and
every path added later, where threading the values through each call would leave the first one
forgotten as a leak. The registry only grows: a process serves one config and one attempt.

Each form is looked for with `str.find`, not one alternation: CPython's substring search runs
at memory speed, and for 32 forms (4 secrets) over 1 MB it took 10 ms where the combined regex
took 45 ms (a factored trie 39 ms), the engine trying every branch at each position.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONFIG_VALUE = "config-value"  # the label of a registered config secret
CANARY = "canary"  # the label of a registered canary: a planted fake credential
MIN_SECRET = 8  # shorter values would match by accident (and are no secret worth the name)


@dataclass(frozen=True, slots=True)
class SecretShape:
    """A named pattern; its `secret` group is the part to hide, the rest is context kept as is.

    Each match implies a cheaper test: the text's UTF-8, `fold`ed, holds one of the `anchors`
    (literals, found at memory speed), or else `hint` finds something in the UTF-8 as it is (a
    pattern opening with a rare literal, which the engine skips to). Where it fails the shape's
    slower scan is skipped; the outbound gate runs them over a whole change at once to pick the
    files worth scanning.
    """

    label: str
    pattern: re.Pattern[str]
    anchors: tuple[bytes, ...] = ()
    hint: re.Pattern[bytes] | None = None


_FOLD = bytes.maketrans(
    string.ascii_uppercase.encode() + b"+/", string.ascii_lowercase.encode() + b"-_"
)


def fold(data: bytes) -> bytes:
    """Return `data` as anchors read it: ASCII letters lower-cased, and '+' and '/' made '-' and
    '_', so both base64 alphabets read alike (the outbound gate searches secrets' base64 forms
    in the same folded bytes); one byte for one, so positions hold."""
    return data.translate(_FOLD)


def _folded(*texts: str) -> tuple[bytes, ...]:
    return tuple(fold(text.encode()) for text in texts)


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


# Hints two shapes share, so the outbound gate runs each once.
_GITHUB = re.compile(b"g(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_)")
_SK = re.compile(b"k-(?<=sk-)[A-Za-z0-9_-]{20}")  # 'k' is rarer than 's'

SECRET_SHAPES: tuple[SecretShape, ...] = (
    SecretShape(
        "private-key",
        re.compile(
            r"(?P<secret>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            # unterminated: hide everything after it
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*))",
            re.DOTALL,
        ),
        _folded("PRIVATE KEY-----"),
    ),
    SecretShape(
        "url-credentials",
        # user:password@host always; a lone user@host only when it is long enough to be a token,
        # so ssh://git@github.com and https://alice@example.com stay readable.
        re.compile(rf"://(?P<secret>{_USERINFO}+:{_USERINFO}+|{_USERINFO}{{16,}})@"),
        hint=re.compile(b"://[A-Za-z0-9._~%!$&'()*+,;=:-]+@"),
    ),
    SecretShape(
        "authorization",
        # With a scheme word the value may be short; without one it must look like a token,
        # so "Authorization: required" in prose is left alone. The header name is ASCII: its
        # case is ignored for ASCII letters only, which is what lets the hint skip the scan.
        re.compile(
            r"(?ai:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"
            rf"(?:(?i:bearer|token|basic|bot|digest)[ \t]+(?={_CREDENTIAL}{{8}})"
            rf"|(?={_CREDENTIAL}{{16}}))"
            rf"(?P<secret>{_CREDENTIAL}+)"
        ),
        _folded("authorization"),
    ),
    SecretShape(
        "github-token",
        _key("gh[pousr]_", "[A-Za-z0-9]{36,}"),
        hint=_GITHUB,
    ),
    SecretShape("github-token", _key("github_pat_", "[A-Za-z0-9_]{40,}"), hint=_GITHUB),
    # Bot tokens are often glued to "bot" in API URLs (/bot123456789:AA...), so only a digit may not
    # precede the bot id; that check follows the first digit for the same speed reason as in _key.
    # No literal to anchor on: the hint opens with the ':', which the engine finds far faster
    # than the digit the pattern opens with.
    SecretShape(
        "telegram-bot-token",
        re.compile(r"(?P<secret>[0-9](?<![0-9]{2})[0-9]{7,9}:[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])"),
        hint=re.compile(rb":(?<=[0-9]{8}:)[A-Za-z0-9_-]{35}"),
    ),
    SecretShape("anthropic-key", _key("sk-ant-", "[A-Za-z0-9_-]{20,}"), hint=_SK),
    # Real keys are random and always carry a digit; that keeps names like
    # sk-learn-style-guides out.
    SecretShape(
        "openai-key",
        _key("sk-", r"(?!ant-)(?=[A-Za-z0-9_-]{0,200}[0-9])[A-Za-z0-9_-]{20,}"),
        hint=_SK,
    ),
    SecretShape(
        "aws-access-key",
        _key("A[KS]IA", "[A-Z0-9]{16}(?![A-Za-z0-9])"),
        hint=re.compile(b"IA(?<=A[KS]IA)[A-Z0-9]{16}"),
    ),
)


def find_secrets(text: str) -> list[Finding]:
    """Return the secrets in `text` in order: the shapes and the registered values.

    Where they overlap, the earliest and longest one names the span; at a tie a canary wins,
    then a shape, then a config value.
    """
    spans = _shape_spans(text)
    if _FORMS:
        spans += _value_spans(text)
    return _merge(spans) if spans else []


def find_shapes(text: str) -> list[Finding]:
    """Return the secret shapes in `text` in order, ignoring the registry (a pure function)."""
    return _merge(_shape_spans(text))


_Span = tuple[int, int, int, str]  # start, -end, rank, label: sorted, the winner comes first


def _shape_spans(text: str) -> list[_Span]:
    raw = text.encode("utf-8", "surrogatepass") if len(text) >= _HINTED else None
    folded = fold(raw) if raw is not None else None
    spans: list[_Span] = []
    for rank, shape in enumerate(SECRET_SHAPES):
        if raw is not None and folded is not None and not may_hold(shape, raw, folded):
            continue
        for m in shape.pattern.finditer(text):
            spans.append((m.start("secret"), -m.end("secret"), rank, shape.label))
    return spans


# Below this length a shape's own scan costs no more than its hints.
_HINTED = 512


def may_hold(shape: SecretShape, raw: bytes, folded: bytes) -> bool:
    """Tell whether a text (its UTF-8, and that `fold`ed) passes the shape's cheap test."""
    for anchor in shape.anchors:
        if anchor in folded:
            return True
    if shape.hint is None:
        return not shape.anchors  # a shape with no cheap test is always scanned
    return shape.hint.search(raw) is not None


def _value_spans(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for form, label in _FORMS:
        start = text.find(form)
        while start >= 0:
            rank = -1 if label == CANARY else len(SECRET_SHAPES)
            spans.append((start, -(start + len(form)), rank, label))
            start = text.find(form, start + 1)
    return spans


def _merge(spans: list[_Span]) -> list[Finding]:
    findings: list[Finding] = []
    for start, negative_end, _, label in sorted(spans):
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


# Every encoded form of every registered value, with the value's label; longest first.
_FORMS: list[tuple[str, str]] = []


def register_values(values: Iterable[str], label: str = CONFIG_VALUE) -> None:
    """Make `redact` hide these values, in every encoding, as `[REDACTED:<label>]`, from now on
    in this process; values shorter than `MIN_SECRET` are skipped. Registering again adds."""
    known = dict(_FORMS)
    for value in values:
        if len(value) >= MIN_SECRET:
            for form in encoded_forms(value):
                known[form] = CANARY if CANARY in (label, known.get(form)) else label
    _FORMS[:] = sorted(known.items(), key=lambda item: -len(item[0]))


def forget_values() -> None:
    """Empty the registry (for tests, which share one process)."""
    _FORMS.clear()


def holds_canary(text: str) -> bool:
    """Tell whether a registered canary shows in `text`, in any encoding."""
    return any(label == CANARY and form in text for form, label in _FORMS)


_BASE64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
_URLSAFE = str.maketrans("+/", "-_")
_UNRESERVED = frozenset((string.ascii_letters + string.digits + "-._~").encode())


def encoded_forms(secret: str) -> tuple[str, ...]:
    """Return the texts that betray `secret` however it was encoded: the value itself, its base64
    (standard and URL-safe alphabets) at each of the three byte alignments, its percent-encoding
    (upper- and lower-case escapes) and its hex (lower and upper case); no duplicates, raw first.

    A secret inside a longer base64 stream is encoded with whatever bytes precede it, so its first
    and last characters vary; what stays the same is the run of characters whose six bits all come
    from the secret. For each offset (0, 1 or 2 bytes into a three-byte group) that run is what is
    returned, without padding, so it is found in any stream that carries the secret (unwrapped: a
    line break inside the run hides it). An empty secret has no forms.
    """
    if not secret:
        return ()
    raw = secret.encode()
    forms = [secret]
    for offset in range(3):
        inner = _base64_run(raw, offset)
        forms += [inner, inner.translate(_URLSAFE)]
    escaped = "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in raw)
    forms += [escaped, re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), escaped)]
    if " " in secret:  # a form body writes a space as "+"
        forms += [form.replace("%20", "+") for form in forms[-2:]]
    forms += [raw.hex(), raw.hex().upper()]
    return tuple(dict.fromkeys(forms))


def _base64_run(raw: bytes, offset: int) -> str:
    """Return the base64 characters that depend only on `raw` when it starts `offset` bytes
    into a three-byte group: character j covers bits [6j, 6j + 6) of the stream."""
    bits = 8 * (offset + len(raw))
    value = int.from_bytes(raw, "big")
    first = -(-8 * offset // 6)  # the first character with no bit of what comes before
    return "".join(_BASE64[(value >> (bits - 6 * (j + 1))) & 63] for j in range(first, bits // 6))


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

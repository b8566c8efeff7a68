"""Tests for orchestrator.core.redact: every secret shape is caught, ordinary text left alone.

Fake secrets are assembled from parts, so this file holds no token-shaped literal for the
pre-commit hook to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
import uuid
from typing import NamedTuple

import pytest

from orchestrator.core.redact import (
    CANARY,
    SECRET_SHAPES,
    Finding,
    SecretShape,
    encoded_forms,
    find_secrets,
    find_shapes,
    fold,
    forget_values,
    holds_canary,
    may_hold,
    redact,
    redact_all,
    register_values,
)


class Sample(NamedTuple):
    """A secret in context: redaction keeps `before` and `after` and hides `secret`."""

    label: str
    before: str
    secret: str
    after: str = ""

    @property
    def text(self) -> str:
        return self.before + self.secret + self.after

    @property
    def redacted(self) -> str:
        return f"{self.before}[REDACTED:{self.label}]{self.after}"


ALNUM36 = "a1B2c3D4e5F6" * 3
TELEGRAM_SECRET = "AAH" + "x9Y_k2-Lm4" * 3 + "Qz"  # 35 characters
PEM_BODY = "MIIEowIBAAKCAQEA" + "x7Kq/9Lm+2Zp" * 5 + "\nQ2Fu=\n"
BASIC_CREDENTIALS = base64.b64encode(b"deploy:hunter2-hunter2").decode()


def _pem(kind: str, terminated: bool = True) -> str:
    begin = f"-----BEGIN {kind}PRIVATE " + "KEY-----\n"
    end = f"-----END {kind}PRIVATE " + "KEY-----" if terminated else ""
    return begin + PEM_BODY + end


SAMPLES: dict[str, Sample] = {
    "github-classic-pat": Sample("github-token", "GITHUB_TOKEN=", "ghp_" + ALNUM36, "\n"),
    "github-oauth": Sample("github-token", "token ", "gho_" + ALNUM36, " expired"),
    "github-app-installation": Sample("github-token", '"token": "', "ghs_" + ALNUM36, '"'),
    "github-user-to-server": Sample("github-token", "(", "ghu_" + ALNUM36, ")"),
    "github-refresh": Sample("github-token", "refresh=", "ghr_" + ALNUM36 + "Xy", "&x=1"),
    "github-fine-grained": Sample(
        "github-token", "pat: ", "github_pat_" + "11ABCDEFG0" * 2 + "ab_" + "Zq9" * 20, ""
    ),
    "telegram": Sample("telegram-bot-token", "bot token ", "123456789:" + TELEGRAM_SECRET, "."),
    "telegram-8-digit-id": Sample("telegram-bot-token", "id ", "12345678:" + TELEGRAM_SECRET, ""),
    "telegram-in-api-url": Sample(
        "telegram-bot-token",
        "POST https://api.telegram.org/bot",
        "7012345678:" + TELEGRAM_SECRET,
        "/sendMessage",
    ),
    "anthropic": Sample(
        "anthropic-key", "ANTHROPIC_API_KEY=", "sk-ant-api03-" + "Qx7_pL2-Zr9k" * 8 + "AA", ""
    ),
    "openai-legacy": Sample("openai-key", "key ", "sk-" + "T3BlbkFJ" + "a1B2c3D4" * 5, " ok"),
    "openai-project": Sample("openai-key", "OPENAI_API_KEY=", "sk-proj-" + "Ab3_dE6-Gh9k" * 13, ""),
    "aws-access-key": Sample(
        "aws-access-key", "aws_access_key_id = ", "AKIA" + "Q3J7Z2XW5N8R4T6Y", "\n"
    ),
    "aws-session-key": Sample("aws-access-key", "id=", "ASIA" + "Z9Y8X7W6V5U4T3S2", ";"),
    "pem-rsa": Sample("private-key", "key:\n", _pem("RSA "), "\nafter the key"),
    "pem-openssh": Sample("private-key", "", _pem("OPENSSH "), "\n"),
    "pem-pkcs8": Sample("private-key", "'", _pem(""), "'"),
    "pem-unterminated": Sample(
        "private-key", "pasted half a key: ", _pem("EC ", terminated=False), ""
    ),
    "url-user-password": Sample(
        "url-credentials", "https://", "deploy:s3cr3t-pa55", "@example.com/repo.git"
    ),
    "url-access-token": Sample(
        "url-credentials",
        "git push https://",
        "x-access-token:ghs_" + ALNUM36,
        "@github.com/o/r.git",
    ),
    "url-bare-token": Sample(
        "url-credentials",
        "clone https://",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4",
        "@github.com/o/r",
    ),
    "url-database": Sample(
        "url-credentials",
        "DATABASE_URL=postgres://",
        "agentos:Pg-pass_42",
        "@db.internal:5432/agentos",
    ),
    "authorization-bearer": Sample(
        "authorization", "Authorization: Bearer ", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln", ""
    ),
    "authorization-token": Sample(
        "authorization", "authorization: token ", "ghp_" + ALNUM36, "\r\n"
    ),
    "authorization-basic": Sample(
        "authorization", "AUTHORIZATION: Basic ", BASIC_CREDENTIALS, "\n"
    ),
    "authorization-python-dict": Sample(
        "authorization", "{'Authorization': 'Bearer ", "abcd1234efgh5678", "'}"
    ),
    "authorization-curl": Sample(
        "authorization", 'curl -H "Authorization: token ', "ijkl9012mnop", '" https://x'
    ),
    "authorization-no-scheme": Sample(
        "authorization", "Authorization: ", "0123456789abcdefXYZ", ""
    ),
}

SAFE_TEXTS: dict[str, str] = {
    "commit-sha": f"merged {hashlib.sha1(b'agent-os').hexdigest()} into main",
    "sha256": f"sha256:{hashlib.sha256(b'agent-os').hexdigest()}",
    "uuid": f"run {uuid.UUID(int=0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0)} finished",
    "png-data-uri": "data:image/png;base64,"
    + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode(),
    "base64-44": base64.b64encode(hashlib.sha256(b"blob").digest()).decode(),
    "git-index-line": "index 83db48f..bf269f4 100644",
    "sk-inside-a-word": "task-sk-1 and risk-assessment-2024-report-final-v2 and desk-9",
    "sk-as-a-name": "we use sk-learn-style-guides-for-everyone here",
    "plain-url": "https://github.com/owner/repo/pull/12?tab=files#diff-3f2a",
    "url-with-port-and-at-in-path": "https://example.com:8443/users/@alice/profile",
    "ssh-url": "ssh://git@github.com/owner/repo.git and git@github.com:owner/repo.git",
    "short-url-user": "https://alice@example.com/dav/",
    "mailto": "mailto:someone@example.com",
    "authorization-prose": (
        "The Authorization header carries the token; see docs/adapters/github.md."
    ),
    "authorization-colon-prose": "Authorization: required for private repositories",
    "authorization-placeholder": (
        "Authorization: Bearer <token> or Authorization: token $GITHUB_TOKEN"
    ),
    "authorization-in-code": 'headers = {"Authorization": f"Bearer {token}"}',
    "authorization-short-scheme-value": "Authorization: Basic auth is off",
    "token-prefix-prose": "classic tokens start with ghp_ and fine-grained ones with github_pat_",
    "public-key": (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    ),
    "certificate": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
    "timestamps": "2026-05-01T10:00:03Z chat 123456789: hello at 10:00:03",
    "json-log": (
        '{"ts":"2026-05-01T10:00:03Z","event":"task.queued","issue":412,"reason":"blockers_done"}'
    ),
    "aws-word": "AKIA is the prefix of an access key id; AKIAJUSTAWORD is too short",
}


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_each_secret_shape_is_replaced_by_its_labelled_placeholder(sample: Sample) -> None:
    assert redact(sample.text) == sample.redacted


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_find_secrets_locates_the_secret_by_label_and_span(sample: Sample) -> None:
    start = len(sample.before)
    assert find_secrets(sample.text) == [Finding(sample.label, start, start + len(sample.secret))]


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_redacting_twice_changes_nothing_more(sample: Sample) -> None:
    once = redact(sample.text)
    assert redact(once) == once
    assert find_secrets(once) == []


def test_every_shape_label_has_a_sample() -> None:
    assert {shape.label for shape in SECRET_SHAPES} == {sample.label for sample in SAMPLES.values()}


@pytest.mark.parametrize("text", SAFE_TEXTS.values(), ids=SAFE_TEXTS.keys())
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text


def test_findings_never_carry_the_secret_text() -> None:
    sample = SAMPLES["github-classic-pat"]
    assert sample.secret not in repr(find_secrets(sample.text))


def test_several_secrets_in_one_text_are_all_replaced_in_order() -> None:
    samples = [
        SAMPLES["telegram"],
        SAMPLES["url-access-token"],
        SAMPLES["aws-access-key"],
        SAMPLES["pem-rsa"],
    ]
    text = " | ".join(sample.text for sample in samples)
    assert redact(text) == " | ".join(sample.redacted for sample in samples)
    assert [finding.label for finding in find_secrets(text)] == [sample.label for sample in samples]


def test_a_token_inside_a_url_is_named_after_the_url_and_hidden_whole() -> None:
    token = "ghs_" + ALNUM36
    assert redact(f"https://x-access-token:{token}@github.com/o/r.git") == (
        "https://[REDACTED:url-credentials]@github.com/o/r.git"
    )


def test_an_unterminated_private_key_is_hidden_to_the_end_of_the_text() -> None:
    text = "log line\n" + _pem("RSA ", terminated=False) + "more log lines\nAuthorization header"
    assert redact(text) == "log line\n[REDACTED:private-key]"


# Lengths 8, 9 and 10 cover the three remainders mod 3; the last ones carry reserved and non-ASCII
# characters, so percent-encoding and multi-byte UTF-8 are exercised too.
ENCODED_SECRETS = ("s3cr3t-8", "s3cr3t-99", "s3cr3t-10x", "p@ss w/rd:é+?&=%", "ghp_" + ALNUM36)
ENCODINGS = {
    "base64": lambda data: base64.b64encode(data).decode(),
    "base64-urlsafe": lambda data: base64.urlsafe_b64encode(data).decode(),
    "url": lambda data: urllib.parse.quote(data, safe=""),
    "url-lower": lambda data: re.sub(
        "%..", lambda m: m.group().lower(), urllib.parse.quote(data, safe="")
    ),
    "form": lambda data: urllib.parse.quote_plus(data, safe=""),
    "hex": lambda data: data.hex(),
    "hex-upper": lambda data: data.hex().upper(),
}


@pytest.mark.parametrize("encoding", ENCODINGS, ids=ENCODINGS.keys())
@pytest.mark.parametrize("secret", ENCODED_SECRETS)
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 5])
def test_a_secret_encoded_inside_longer_text_shows_one_of_its_forms(
    secret: str, offset: int, encoding: str
) -> None:
    for before in ("", "x" * offset, "é" * offset, "\x00\xff" * offset):
        data = (before + "-" * offset).encode()[:offset] + secret.encode() + b" and after it"
        encoded = ENCODINGS[encoding](data)
        assert any(form in encoded for form in encoded_forms(secret)), (before, encoded)


@pytest.mark.parametrize("secret", ENCODED_SECRETS)
def test_each_base64_alignment_has_a_form_of_its_own(secret: str) -> None:
    forms = encoded_forms(secret)
    for offset in range(3):
        aligned = [
            form
            for form in forms
            if form in base64.b64encode(b"\xff" * offset + secret.encode() + b"\xff").decode()
            and form in base64.b64encode(b"\x00" * offset + secret.encode() + b"\x00").decode()
        ]
        assert aligned, offset


def test_forms_start_with_the_value_hold_no_duplicates_nor_padding() -> None:
    forms = encoded_forms("p@ss w/rd:é+?&=%")
    assert forms[0] == "p@ss w/rd:é+?&=%"
    assert len(forms) == len(set(forms))
    assert not any(form.endswith("=") for form in forms[1:])
    assert "p%40ss%20w%2Frd%3A%C3%A9%2B%3F%26%3D%25" in forms
    assert "p%40ss+w%2frd%3a%c3%a9%2b%3f%26%3d%25" in forms
    assert b"s3cr3t-8".hex().upper() in encoded_forms("s3cr3t-8")


def test_an_unreserved_value_is_its_own_url_form_and_an_empty_one_has_no_forms() -> None:
    forms = encoded_forms("s3cr3t-8")  # no "+" nor "/" in its base64: one alphabet serves
    assert forms == (
        "s3cr3t-8",
        "czNjcjN0LT",
        "MzY3IzdC04",
        "zM2NyM3QtO",
        "7333637233742d38",
        "7333637233742D38",
    )
    assert encoded_forms("") == ()


# Long enough that find_secrets tries the shapes' anchors and hints before their patterns.
FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; " * 12


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_a_shape_in_a_long_text_passes_its_anchors_and_hint(sample: Sample) -> None:
    text = FILLER + sample.text
    start = len(FILLER) + len(sample.before)
    assert find_secrets(text) == [Finding(sample.label, start, start + len(sample.secret))]


@pytest.mark.parametrize("text", SAFE_TEXTS.values(), ids=SAFE_TEXTS.keys())
def test_ordinary_long_text_is_left_alone(text: str) -> None:
    assert redact(FILLER + text + FILLER) == FILLER + text + FILLER


def test_fold_lowers_ascii_letters_and_merges_the_base64_alphabets_byte_for_byte() -> None:
    assert fold("AbZ+/_-é".encode()) == "abz-_ _-é".replace(" ", "").encode()
    assert fold(b"Authorization") == b"authorization"


def test_a_shape_without_a_cheap_test_is_always_scanned() -> None:
    plain = SecretShape("plain", re.compile("(?P<secret>zz)"))
    assert may_hold(plain, b"", b"")
    anchored = SecretShape("anchored", plain.pattern, (b"zz",))
    assert may_hold(anchored, b"ZZ", b"zz") and not may_hold(anchored, b"yy", b"yy")


CONFIG_SECRET = "Tk" + "9vQ2-xL7pZ4w"  # a value with no shape of its own


def test_a_registered_value_is_redacted_in_every_encoding_at_every_alignment() -> None:
    register_values([CONFIG_SECRET])
    for encoding, encode in ENCODINGS.items():
        for offset in range(3):
            data = b"k" * offset + CONFIG_SECRET.encode() + b" and after it"
            text = f"sent: {encode(data)} (done)"
            redacted = redact(text)
            assert "[REDACTED:config-value]" in redacted, (encoding, offset)
            assert not any(form in redacted for form in encoded_forms(CONFIG_SECRET)), encoding
            assert redact(redacted) == redacted


def test_values_shorter_than_eight_characters_are_not_registered() -> None:
    register_values(["hunter2", ""])
    assert redact("the password hunter2") == "the password hunter2"


def test_forget_values_empties_the_registry_and_find_shapes_ignores_it() -> None:
    register_values([CONFIG_SECRET])
    assert find_shapes(f"x {CONFIG_SECRET} y") == []
    assert find_secrets(f"x {CONFIG_SECRET} y") == [Finding("config-value", 2, 2 + 14)]
    forget_values()
    assert redact(f"x {CONFIG_SECRET} y") == f"x {CONFIG_SECRET} y"


def test_redact_all_hides_registered_values_inside_records() -> None:
    register_values([CONFIG_SECRET])
    record = {
        "argv": ["curl", f"-u{CONFIG_SECRET}"],
        "nested": {"hex": CONFIG_SECRET.encode().hex()},
    }
    assert redact_all(record, 100) == {
        "argv": ["curl", "-u[REDACTED:config-value]"],
        "nested": {"hex": "[REDACTED:config-value]"},
    }


def test_a_value_that_is_also_a_shape_is_named_after_the_shape() -> None:
    token = SAMPLES["github-classic-pat"].secret
    register_values([token])
    assert redact(f"token {token}.") == "token [REDACTED:github-token]."


def test_a_canary_is_named_as_such_in_any_encoding_and_detected() -> None:
    canary = SAMPLES["github-classic-pat"].secret  # shaped like a token, to tempt
    register_values([CONFIG_SECRET])
    register_values([canary], label=CANARY)
    blob = base64.b64encode(b"ab" + canary.encode()).decode()
    assert redact(f"token {canary}.") == "token [REDACTED:canary]."
    assert "[REDACTED:canary]" in redact(f"dump {blob}")
    assert holds_canary(f"dump {blob}") and holds_canary(canary.encode().hex().upper())
    assert not holds_canary(f"x {CONFIG_SECRET} y")
    forget_values()
    assert not holds_canary(canary)

"""Tests for orchestrator.core.redact: every secret shape is caught, ordinary text left alone.

Fake secrets are assembled from parts, so this file holds no token-shaped literal for the
pre-commit hook to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import NamedTuple

import pytest

from orchestrator.core.redact import SECRET_SHAPES, Finding, find_secrets, redact


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


def test_a_megabyte_of_log_text_is_redacted_in_well_under_100_ms() -> None:
    line = (
        " ".join(
            [*SAFE_TEXTS.values(), SAMPLES["github-classic-pat"].text, SAMPLES["telegram"].text]
        )
        + "\n"
    )
    text = (line * (1_000_000 // len(line) + 1))[:1_000_000]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        redact(text)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.1, f"redact took {min(timings) * 1000:.0f} ms for 1 MB"

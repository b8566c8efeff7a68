"""The `webhooks` section: absent means polling only; one line per bad value; a secret reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.config.backend_keys import secrets_of
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, Secret, WebhooksConfig
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

HOOK_ENV = {**ENV, "WEBHOOK_SECRET": "hook-secret-value"}


def _load(tmp_path: Path, webhooks: object, environ: dict[str, str] = HOOK_ENV) -> Config:
    return load_config(write_config(tmp_path, minimal_config(webhooks=webhooks)), environ)


def test_absent_means_no_receiver(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path), ENV).webhooks is None


def test_a_secret_alone_takes_the_defaults(tmp_path: Path) -> None:
    hooks = _load(tmp_path, {"secret": "$WEBHOOK_SECRET"}).webhooks
    assert hooks == WebhooksConfig(secret=Secret("WEBHOOK_SECRET"))
    assert hooks is not None and hooks.secret.reveal() == "hook-secret-value"
    assert (hooks.port, hooks.bind, hooks.path, hooks.max_body_bytes) == (
        8787,
        "127.0.0.1",
        "/github",
        5 * 1024 * 1024,
    )


def test_every_key_is_read(tmp_path: Path) -> None:
    hooks = _load(
        tmp_path,
        {
            "secret": "${WEBHOOK_SECRET}",
            "port": 9000,
            "bind": "::1",
            "path": "/hooks/github",
            "max_body_bytes": 1048576,
        },
    ).webhooks
    assert hooks == WebhooksConfig(
        secret=Secret("WEBHOOK_SECRET"),
        port=9000,
        bind="::1",
        path="/hooks/github",
        max_body_bytes=1048576,
    )


def test_the_secret_is_one_of_the_configs_secrets_so_it_is_redacted(tmp_path: Path) -> None:
    config = _load(tmp_path, {"secret": "$WEBHOOK_SECRET"})
    assert "hook-secret-value" in [s.value for s in secrets_of(config)]
    assert "hook-secret-value" not in repr(config.webhooks)


BAD = [
    ({}, "webhooks.secret: is required (a $VAR reference, e.g. $GITHUB_TOKEN)"),
    (
        {"secret": "s3cret"},
        "webhooks.secret: expected a $VAR reference (secrets never go in the config file), "
        "got a literal value",
    ),
    ({"secret": "$UNSET_SECRET"}, "webhooks.secret: $UNSET_SECRET is not set"),
    ({"secret": "$WEBHOOK_SECRET", "port": 0}, "webhooks.port: expected a positive integer, got 0"),
    (
        {"secret": "$WEBHOOK_SECRET", "port": 70000},
        "webhooks.port: expected at most 65535, got 70000",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "port": "8787"},
        "webhooks.port: expected a positive integer, got '8787'",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "bind": "localhost"},
        "webhooks.bind: expected an IP address such as 127.0.0.1, got 'localhost'",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "path": "github"},
        "webhooks.path: expected a URL path such as /github (letters, digits, . _ ~ - /), "
        "got 'github'",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "max_body_bytes": 100},
        "webhooks.max_body_bytes: expected an integer >= 65536, got 100",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "max_body_bytes": 26 * 1024 * 1024},
        "webhooks.max_body_bytes: expected at most 26214400, got 27262976",
    ),
    (
        {"secret": "$WEBHOOK_SECRET", "ports": 1},
        "webhooks.ports: unknown key (did you mean 'port'?)",
    ),
    ("yes", "webhooks: expected a mapping, got 'yes'"),
]


@pytest.mark.parametrize("webhooks, expected", BAD, ids=[e.split(": ")[1][:30] for _, e in BAD])
def test_each_bad_value_is_one_line_naming_it(
    tmp_path: Path, webhooks: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, webhooks)
    assert [p for p in caught.value.problems if p.startswith("webhooks")] == [expected]


def test_a_literal_secret_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"secret": "hunter2-literal"})
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(caught.value.problems)


def test_the_switch_commands_load_it_without_the_secret(tmp_path: Path) -> None:
    path = write_config(tmp_path, minimal_config(webhooks={"secret": "$WEBHOOK_SECRET"}))
    hooks = load_config(path, ENV, need_secrets=False).webhooks
    assert hooks is not None and hooks.secret == Secret("WEBHOOK_SECRET")


def test_agentos_check_prints_the_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path, minimal_config(webhooks={"secret": "$WEBHOOK_SECRET", "bind": "0.0.0.0.0"})
    )
    assert main(["--config", str(path), "check"], environ=HOOK_ENV) == 2
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "webhooks.bind: expected an IP address such as 127.0.0.1, got '0.0.0.0.0'" in out

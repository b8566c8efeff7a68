"""Read `webhooks`: where `agentos serve` listens for GitHub's webhooks, and their secret.

webhooks:
  secret: $WEBHOOK_SECRET   # required: the secret the hooks on GitHub are given
  port: 8787                # the receiver's port
  bind: 127.0.0.1           # the address it listens on (a tunnel or proxy forwards to it)
  path: /github             # the one path it answers
  max_body_bytes: 5242880   # a bigger delivery is answered 413 (GitHub caps payloads at 25 MB)

Absent: no receiver; the jobs run on their schedules alone (polling).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from orchestrator.config.model import WebhooksConfig
from orchestrator.config.reader import Reader, join, show

KEYS = ("secret", "port", "bind", "path", "max_body_bytes")
GITHUB_MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub does not send a payload bigger than 25 MB
MIN_BODY = 64 * 1024  # GitHub's payloads run to tens of kilobytes: less would refuse real ones
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,99}$")


def read(r: Reader, value: Any) -> WebhooksConfig | None:
    """Read the `webhooks` section; None when it is absent."""
    if value is None:
        return None
    node = r.mapping(value, "webhooks", KEYS)
    if not isinstance(value, dict):
        return None  # reported by `mapping`
    default = WebhooksConfig(secret=r.secret(node, "secret", "webhooks"))
    return WebhooksConfig(
        secret=default.secret,
        port=r.integer(node, "port", "webhooks", default=default.port, maximum=65535),
        bind=_bind(r, node, default.bind),
        path=_path(r, node, default.path),
        max_body_bytes=r.integer(
            node,
            "max_body_bytes",
            "webhooks",
            default=default.max_body_bytes,
            minimum=MIN_BODY,
            maximum=GITHUB_MAX_PAYLOAD,
        ),
    )


def _bind(r: Reader, node: dict[str, Any], default: str) -> str:
    value = node.get("bind", default)
    try:
        if isinstance(value, str):
            return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    r.fail(join("webhooks", "bind"), f"expected an IP address such as 127.0.0.1, got {show(value)}")
    return default


def _path(r: Reader, node: dict[str, Any], default: str) -> str:
    value = node.get("path", default)
    if not isinstance(value, str) or not _PATH.match(value):
        r.fail(
            join("webhooks", "path"),
            f"expected a URL path such as /github (letters, digits, . _ ~ - /), got {show(value)}",
        )
        return default
    return value

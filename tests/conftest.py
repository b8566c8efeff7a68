"""Test-wide guards: no network but loopback, and a clean environment for every test."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Variables a developer's shell may carry that would change what the code under test does.
_LEAKY_PREFIXES = ("AGENTOS_", "GITHUB_", "GH_", "TELEGRAM_", "ANTHROPIC_", "OPENAI_", "CODEX_")


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkRefused(AssertionError):
    """A test tried to reach something other than 127.0.0.1."""


@pytest.fixture(autouse=True)
def _loopback_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("live"):
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(sock: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkRefused(f"network access to {address!r} refused in tests")
        return real_connect(sock, address)

    def guarded_ex(sock: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkRefused(f"network access to {address!r} refused in tests")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name)
    yield


@pytest.fixture(autouse=True)
def _no_registered_secrets() -> Iterator[None]:
    """Start and end each test with redaction's registry of secret values empty: a test that
    builds the real adapters registers its config's secrets for the whole process."""
    from orchestrator.core.redact import forget_values

    forget_values()
    yield
    forget_values()

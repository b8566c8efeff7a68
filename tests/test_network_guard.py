"""The suite itself refuses any connection that is not to loopback."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.conftest import NetworkRefused


def test_connect_to_a_public_address_is_refused() -> None:
    with socket.socket() as s, pytest.raises(NetworkRefused, match="203.0.113.7"):
        s.connect(("203.0.113.7", 443))


def test_connect_ex_to_a_private_address_is_refused() -> None:
    with socket.socket() as s, pytest.raises(NetworkRefused):
        s.connect_ex(("10.0.0.1", 80))


def test_loopback_connections_still_work() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close())
    accepted.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    accepted.join(5)
    server.close()

"""The dashboard's HTTP server: loopback or a token, GET only, no file outside its pages."""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.dashboard import collect
from orchestrator.dashboard.server import COOKIE, DashboardServer, is_loopback
from orchestrator.errors import UsageError
from tests.dashboard.world import HOSTILE, World, build

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TOKEN = "s3cret-dashboard-token-0123"

Answer = tuple[int, dict[str, str], str]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build(tmp_path, NOW)


@pytest.fixture
def served(world: World) -> Iterator[DashboardServer]:
    server = DashboardServer(world.config, token=TOKEN, clock=lambda: NOW)
    server.start()
    yield server
    server.stop()


def get(server: DashboardServer, path: str, method: str = "GET", **headers: str) -> Answer:
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request(method, path, headers=headers)
        answer = client.getresponse()
        body = answer.read().decode("utf-8")
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
    finally:
        client.close()


def authorized(server: DashboardServer, path: str, method: str = "GET") -> Answer:
    return get(server, path, method, Authorization=f"Bearer {TOKEN}")


def test_on_loopback_it_serves_without_a_token(world: World) -> None:
    server = DashboardServer(world.config, clock=lambda: NOW)
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        status, _, body = get(server, "/")
        assert status == 200 and '<span class="value" id="merged">2</span>' in body
    finally:
        server.stop()
    server.stop()  # twice is harmless


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.0.2.10", "", "::", "example.org"])
def test_any_other_address_needs_a_token(world: World, bind: str) -> None:
    with pytest.raises(UsageError) as refused:
        DashboardServer(world.config, bind=bind)
    assert "token" in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.exit_code == 2


def test_a_short_token_is_refused(world: World) -> None:
    with pytest.raises(UsageError, match="at least 16"):
        DashboardServer(world.config, bind="0.0.0.0", token="short")


def test_loopback_is_127_slash_8_and_ipv6s_own() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("::1")
    assert is_loopback("localhost") and not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")


def test_with_a_token_every_page_needs_it(served: DashboardServer) -> None:
    status, headers, body = get(served, "/")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert 'id="merged"' not in body
    assert get(served, "/tasks/app-1-g1-a1.html")[0] == 401
    assert get(served, "/", Authorization="Bearer wrong-token-of-some-length")[0] == 401
    assert get(served, "/", Authorization=f"Basic {TOKEN}")[0] == 401
    assert authorized(served, "/")[0] == 200
    assert authorized(served, "/tasks/app-1-g1-a1.html")[0] == 200


def test_the_token_in_the_url_sets_a_strict_cookie_and_leaves_the_url(
    served: DashboardServer,
) -> None:
    status, headers, _ = get(served, f"/?days=7&token={TOKEN}")
    assert status == 303 and headers["location"] == "/?days=7"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    assert session.startswith(f"{COOKIE}=")
    status, _, body = get(served, "/?days=7", Cookie=f"other=1; {session}")
    assert status == 200 and "the last 7 days" in body
    assert get(served, "/", Cookie=f"{COOKIE}=forged")[0] == 401
    assert get(served, "/?token=not-the-token-at-all")[0] == 401


@pytest.mark.parametrize(
    "path",
    [
        "/config.yaml",
        "/../config.yaml",
        "/tasks/../../config.yaml",
        "/tasks/..%2F..%2Fconfig.yaml.html",
        "/tasks/%2e%2e.html",
        "/tasks/app-1-g1-a1.html/../../../config.yaml",
        "/tasks/app-77-g1-a1.html",
        "/runtime/ledger.sqlite",
        "//etc/passwd",
        "/index.html/..",
    ],
)
def test_nothing_but_its_pages_is_served(served: DashboardServer, path: str) -> None:
    status, _, body = authorized(served, path)
    assert status == 404 and "Not found" in body
    assert "github:" not in body and "root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"])
def test_only_get_is_answered(served: DashboardServer, method: str) -> None:
    status, headers, _ = authorized(served, "/", method)
    assert status == 405 and headers["allow"] == "GET"


def test_every_answer_carries_the_security_headers(served: DashboardServer) -> None:
    for status, path in ((200, "/"), (404, "/nope"), (401, "")):
        answer = authorized(served, path) if path else get(served, "/")
        assert answer[0] == status
        headers = answer[1]
        policy = headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; style-src 'sha256-")
        assert "img-src data:" in policy and "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-type"] == "text/html; charset=utf-8"


def test_a_bad_window_is_a_400(served: DashboardServer) -> None:
    assert authorized(served, "/?days=0")[0] == 400
    assert authorized(served, "/?days=lots")[0] == 400
    assert authorized(served, "/?days=365")[0] == 200


def test_a_damaged_ledger_and_logs_are_shown_as_notes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = world.config.paths.runtime_dir
    (runtime / "logs" / "queue.jsonl").write_bytes(b"\xff\xfe torn {{{\n" * 5)
    (runtime / "mailbox" / "inbox" / "app-9-g1-a1.md").write_bytes(b"\x00\x01 not a task")
    (runtime / "ledger.sqlite").write_bytes(b"not a database " * 100)
    monkeypatch.setattr(collect, "refresh", lambda config: None)  # read it as it is
    server = DashboardServer(world.config, clock=lambda: NOW)
    server.start()
    try:
        status, _, body = get(server, "/")
        assert status == 200 and "Traceback" not in body
        assert "The outcome ledger could not be read: DatabaseError" in body
        assert "unreadable task file" in body and HOSTILE not in body
        assert get(server, "/tasks/app-1-g1-a1.html")[0] == 200
    finally:
        server.stop()


def test_the_refresh_rebuilds_a_damaged_ledger_from_the_logs(world: World) -> None:
    (world.config.paths.runtime_dir / "ledger.sqlite").write_bytes(b"not a database " * 100)
    server = DashboardServer(world.config, clock=lambda: NOW)
    server.start()
    try:
        status, _, body = get(server, "/")
        assert status == 200 and '<span class="value" id="merged">2</span>' in body
    finally:
        server.stop()


def test_a_page_that_cannot_be_built_is_a_500_without_a_traceback(
    served: DashboardServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom at /secret/path")

    monkeypatch.setattr(collect, "overview", broken)
    with caplog.at_level(logging.ERROR, logger="agentos.dashboard"):
        status, _, body = authorized(served, "/")
    assert status == 500 and "Traceback" not in body and "boom" not in body
    [failed] = [r for r in caplog.records if r.getMessage() == "dashboard.failed"]
    assert failed.error == "RuntimeError: boom at /secret/path"  # type: ignore[attr-defined]


def test_a_busy_port_is_a_usage_error(world: World) -> None:
    first = DashboardServer(world.config)
    first.start()
    try:
        port = int(first.url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}"):
            DashboardServer(world.config, port=port).start()
    finally:
        first.stop()

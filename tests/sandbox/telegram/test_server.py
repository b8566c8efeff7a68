"""The HTTP edge.

Telegram's URLs, tokens and body encodings, the control endpoint, strictness and faults.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orchestrator.sandbox.telegram import Fault, TelegramSandbox, Violation, methods

NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


@pytest.fixture
def sandbox(telegram_sandbox: TelegramSandbox) -> TelegramSandbox:
    return telegram_sandbox


@pytest.fixture
def client(sandbox: TelegramSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url) as client:
        yield client


@pytest.fixture
def lenient() -> Iterator[TelegramSandbox]:
    """A non-strict sandbox, for tests that break the Bot API on purpose."""
    with TelegramSandbox() as sandbox:
        yield sandbox


def method_url(sandbox: TelegramSandbox, method: str) -> str:
    return f"{sandbox.base_url}{sandbox.token}/{method}"


def test_a_wrong_token_is_unauthorized_and_a_malformed_one_not_found(client: httpx.Client) -> None:
    wrong = client.post("/bot42:not-the-token/getMe")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    malformed = client.post("/botnonsense/getMe")
    assert (malformed.status_code, malformed.json()) == (404, NOT_FOUND)
    assert client.get("/favicon.ico").status_code == 404


def test_unknown_methods_are_not_found_and_names_ignore_case(
    client: httpx.Client, sandbox: TelegramSandbox
) -> None:
    unknown = client.post(method_url(sandbox, "sendTelegram"))
    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)
    assert client.post(method_url(sandbox, "GETME")).json()["result"]["is_bot"] is True


def test_form_json_multipart_and_query_string_bodies_are_understood(
    client: httpx.Client, sandbox: TelegramSandbox
) -> None:
    sandbox.inject_message("hi")
    url = method_url(sandbox, "sendMessage")
    replies = [
        client.post(url, data={"chat_id": "1001", "text": "form"}),
        client.post(url, json={"chat_id": 1001, "text": "json"}),
        client.post(url, files={"chat_id": (None, "1001"), "text": (None, "multipart")}),
        client.get(url, params={"chat_id": "1001", "text": "query"}),
    ]
    assert [r.status_code for r in replies] == [200] * 4
    assert [m["text"] for m in sandbox.screen(1001)] == ["hi", "form", "json", "multipart", "query"]


def test_unreadable_bodies_are_bad_requests(client: httpx.Client, sandbox: TelegramSandbox) -> None:
    url = method_url(sandbox, "getMe")
    assert (
        client.post(url, content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert (
        client.post(url, content=b"[]", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.post(url, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 400


def test_strict_mode_answers_a_bad_request_with_500_and_records_it() -> None:
    with TelegramSandbox(strict=True) as sandbox:
        assert (
            httpx.post(method_url(sandbox, "sendMessage"), json={"chat_id": 1}).status_code == 500
        )
    missing_text = "sendMessage: missing required parameter 'text'"
    assert sandbox.violations == [Violation("sendMessage", "request", (missing_text,))]


def test_lenient_mode_answers_a_bad_request_with_400_and_records_it(
    lenient: TelegramSandbox,
) -> None:
    reply = httpx.post(
        method_url(lenient, "sendMessage"), json={"chat_id": 1, "text": "x", "colour": "red"}
    )
    assert (reply.status_code, reply.json()["description"]) == (
        400,
        "Bad Request: sendMessage: unknown parameter 'colour'",
    )
    assert [v.direction for v in lenient.violations] == ["request"]


def test_a_result_that_breaks_the_description_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def get_me_without_is_bot(ctx: methods.Context, params: dict) -> dict:
        return {k: v for k, v in ctx.me.items() if k != "is_bot"}

    monkeypatch.setitem(methods.METHODS, "getMe", get_me_without_is_bot)
    with TelegramSandbox(strict=True) as sandbox:
        assert httpx.post(method_url(sandbox, "getMe")).status_code == 500
    missing = "getMe.result.is_bot: missing required field of User"
    assert sandbox.violations == [Violation("getMe", "response", (missing,))]


def test_behaviour_the_sandbox_lacks_is_a_violation_not_a_silent_pass(
    lenient: TelegramSandbox,
) -> None:
    lenient.inject_message("hi")
    markdown = {"chat_id": 1001, "text": "*x*", "parse_mode": "MarkdownV2"}
    assert httpx.post(method_url(lenient, "sendMessage"), json=markdown).status_code == 501
    assert (
        httpx.post(
            method_url(lenient, "sendPhoto"), json={"chat_id": 1001, "photo": "id"}
        ).status_code
        == 501
    )
    assert [(v.method, v.direction) for v in lenient.violations] == [
        ("sendMessage", "unsupported"),
        ("sendPhoto", "unsupported"),
    ]


def test_faults_are_served_in_order_for_their_method_only(
    client: httpx.Client, sandbox: TelegramSandbox
) -> None:
    sandbox.inject_fault("getMe", Fault.too_many_requests(retry_after=7), times=2)
    sandbox.inject_fault("getMe", Fault.dropped_connection())
    assert client.post(method_url(sandbox, "getWebhookInfo")).status_code == 200
    for _ in range(2):
        flood = client.post(method_url(sandbox, "getMe"))
        assert (flood.status_code, flood.json()) == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(method_url(sandbox, "getMe"))
    assert client.post(method_url(sandbox, "getMe")).status_code == 200
    assert sandbox.request_count("getMe") == 4
    with pytest.raises(ValueError):
        sandbox.inject_fault("getme", Fault.server_error())
    with pytest.raises(ValueError):
        Fault.server_error(200)


def test_a_fault_can_wait_for_calls_that_succeed_first(
    client: httpx.Client, sandbox: TelegramSandbox
) -> None:
    sandbox.inject_fault("getMe", Fault.server_error(502), after=2)
    assert [client.post(method_url(sandbox, "getMe")).status_code for _ in range(4)] == [
        200,
        200,
        502,
        200,
    ]


def test_the_control_endpoint_drives_the_sandbox_from_another_process(
    client: httpx.Client, sandbox: TelegramSandbox
) -> None:
    def control(verb: str, action: str, **params: Any) -> Any:
        reply = client.request(verb, f"/_sandbox/{action}", **params)
        assert reply.status_code == 200, reply.text
        return reply.json()["result"]

    injected = control(
        "POST", "messages", json={"text": "/start", "user_id": 7, "username": "carol"}
    )
    assert injected["message"]["entities"][0]["type"] == "bot_command"
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    sent = client.post(
        method_url(sandbox, "sendMessage"),
        json={"chat_id": 7, "text": "Go?", "reply_markup": keyboard},
    )
    press = {
        "chat_id": 7,
        "message_id": sent.json()["result"]["message_id"],
        "data": "go",
        "user_id": 7,
    }
    query_id = control("POST", "callback_queries", json=press)["callback_query"]["id"]
    client.post(
        method_url(sandbox, "answerCallbackQuery"),
        json={"callback_query_id": query_id, "text": "ok"},
    )
    assert control("GET", "callback_answer", params={"callback_query_id": query_id}) == {
        "text": "ok"
    }
    assert [m["text"] for m in control("GET", "screen", params={"chat_id": 7})] == ["/start", "Go?"]
    assert control("POST", "faults", json={"method": "getMe", "status": 502}) is None
    assert client.post(method_url(sandbox, "getMe")).status_code == 502
    assert control("GET", "requests") == {"sendMessage": 1, "answerCallbackQuery": 1, "getMe": 1}
    assert control("GET", "bot")["username"] == sandbox.bot["username"]
    assert control("GET", "violations") == []


def test_the_control_endpoint_refuses_bad_actions(client: httpx.Client) -> None:
    assert client.post("/_sandbox/messages", json={"txt": "hi"}).status_code == 400
    assert (
        client.post("/_sandbox/faults", json={"method": "getMe", "status": 200}).status_code == 400
    )
    assert client.get("/_sandbox/nothing").status_code == 404


def test_stop_joins_every_connection_thread() -> None:
    before = threading.active_count()
    with httpx.Client() as client, TelegramSandbox() as sandbox:
        for _ in range(3):
            # keep-alive: the connection is still open at stop()
            client.post(method_url(sandbox, "getMe"))
    assert threading.active_count() == before

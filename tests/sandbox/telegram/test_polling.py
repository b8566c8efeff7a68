"""getUpdates has Telegram's semantics.

Offsets confirm, timeouts block, a newer poll replaces an older one.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from orchestrator.sandbox.telegram import TelegramSandbox
from orchestrator.sandbox.telegram.state import STATE_FILE

from .conftest import Api


def ids(reply: dict) -> list[int]:
    assert reply["ok"], reply
    return [u["update_id"] for u in reply["result"]]


def test_an_offset_confirms_every_update_below_it(
    api: Api, telegram_sandbox: TelegramSandbox
) -> None:
    for text in ("one", "two", "three"):
        telegram_sandbox.inject_message(text)
    assert ids(api("getUpdates")) == [1, 2, 3]
    assert ids(api("getUpdates")) == [1, 2, 3]  # nothing confirmed yet
    assert ids(api("getUpdates", offset=3)) == [3]
    assert ids(api("getUpdates", offset=1)) == [3]  # confirmed updates never come back
    assert ids(api("getUpdates", offset=4)) == []


def test_limit_and_negative_offset(api: Api, telegram_sandbox: TelegramSandbox) -> None:
    for text in ("one", "two", "three", "four"):
        telegram_sandbox.inject_message(text)
    assert ids(api("getUpdates", limit=2)) == [1, 2]
    # keeps only the last one; the rest is forgotten
    assert ids(api("getUpdates", offset=-1)) == [4]
    assert ids(api("getUpdates")) == [4]


def test_allowed_updates_sticks_until_changed(api: Api, telegram_sandbox: TelegramSandbox) -> None:
    assert ids(api("getUpdates", allowed_updates=["callback_query"])) == []
    assert telegram_sandbox.inject_message("ignored") is None
    assert ids(api("getUpdates")) == []
    assert ids(api("getUpdates", allowed_updates=[])) == []  # back to the default kinds
    assert telegram_sandbox.inject_message("seen") is not None
    assert len(ids(api("getUpdates"))) == 1


def test_delete_webhook_can_drop_pending_updates(
    api: Api, telegram_sandbox: TelegramSandbox
) -> None:
    telegram_sandbox.inject_message("old")
    assert api("getWebhookInfo")["result"] == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 1,
    }
    assert api("deleteWebhook", drop_pending_updates=True)["result"] is True
    assert ids(api("getUpdates")) == []


def test_a_newer_poll_ends_an_older_one_with_409(
    api: Api, telegram_sandbox: TelegramSandbox
) -> None:
    replies: list[dict] = []
    older = threading.Thread(target=lambda: replies.append(api("getUpdates", timeout=5)))
    older.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert ids(api("getUpdates")) == []
    older.join(timeout=2)
    assert time.monotonic() - started < 1
    assert [(r["error_code"], r["description"]) for r in replies] == [
        (
            409,
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        )
    ]


def test_stopping_releases_a_waiting_long_poll_at_once() -> None:
    sandbox = TelegramSandbox()
    sandbox.start()
    errors: list[Exception] = []

    def poll() -> None:
        try:
            httpx.post(
                f"{sandbox.base_url}{sandbox.token}/getUpdates", json={"timeout": 30}, timeout=10
            )
        except httpx.HTTPError as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    sandbox.stop()
    poller.join(timeout=5)
    assert time.monotonic() - started < 1 and not poller.is_alive()


def test_a_data_dir_keeps_the_queue_and_message_ids_across_restarts(tmp_path: Path) -> None:
    with TelegramSandbox(data_dir=tmp_path) as first:
        first.inject_message("one")
        first.inject_message("two")
        base = f"{first.base_url}{first.token}/"
        assert ids(httpx.post(base + "getUpdates", json={"offset": 2}).json()) == [2]
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert [u["update_id"] for u in saved["updates"]] == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]  # no temp file left behind
    with TelegramSandbox(data_dir=tmp_path) as second:
        base = f"{second.base_url}{second.token}/"
        assert ids(httpx.post(base + "getUpdates").json()) == [2]
        sent = httpx.post(base + "sendMessage", json={"chat_id": 1001, "text": "three"}).json()[
            "result"
        ]
        assert sent["message_id"] == 3
        update = second.inject_message("four")
        assert update is not None and update["update_id"] == 3
        assert [m["text"] for m in second.screen(1001)] == ["one", "two", "three", "four"]

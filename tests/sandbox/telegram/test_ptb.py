"""python-telegram-bot 22.8, long-polling the strict sandbox, is the judge of its wire behaviour."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from orchestrator.sandbox.telegram import Fault, TelegramSandbox
from tests.support.telegram_sandbox import build_application, polling, until

ALICE = 1001
GROUP = -4001


def bot_for(sandbox: TelegramSandbox) -> Bot:
    return Bot(sandbox.token, base_url=sandbox.base_url)


def texts(sandbox: TelegramSandbox, chat_id: int) -> list[str]:
    return [m["text"] for m in sandbox.screen(chat_id)]


def test_start_and_addressed_status_commands_get_replies(telegram_sandbox: TelegramSandbox) -> None:
    sandbox = telegram_sandbox

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Hello, I run your backlog.")

    async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("<b>2</b> running, <i>3</i> queued", parse_mode="HTML")

    async def scenario() -> None:
        app = build_application(sandbox)
        app.add_handlers([CommandHandler("start", start), CommandHandler("status", status)])
        async with polling(app):
            sandbox.inject_message("/start")
            sandbox.inject_message(
                f"/status@{sandbox.bot['username']}", chat_id=GROUP, chat_type="group"
            )
            sandbox.inject_message("/status@some_other_bot", chat_id=GROUP, chat_type="group")
            await until(lambda: len(sandbox.screen(ALICE)) == 2 and len(sandbox.screen(GROUP)) == 3)

    asyncio.run(scenario())
    assert sandbox.history[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert texts(sandbox, ALICE) == ["/start", "Hello, I run your backlog."]
    reply = sandbox.screen(GROUP)[-1]
    assert reply["text"] == "2 running, 3 queued"
    assert [e["type"] for e in reply["entities"]] == ["bold", "italic"]
    assert reply["reply_to_message"]["message_id"] == 1  # PTB quotes the command in groups
    assert reply["from"]["is_bot"] is True and isinstance(reply["date"], int)


def test_pressed_button_is_answered_and_its_keyboard_removed(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        row = [InlineKeyboardButton(t, callback_data=f"{t.lower()}:12") for t in ("Merge", "Skip")]
        await update.message.reply_text("Merge PR #12?", reply_markup=InlineKeyboardMarkup([row]))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"Done: {query.data}")
        await query.edit_message_reply_markup(reply_markup=None)

    async def scenario() -> dict[str, object]:
        app = build_application(sandbox)
        app.add_handlers([CommandHandler("ask", ask), CallbackQueryHandler(pressed)])
        async with polling(app):
            sandbox.inject_message("/ask")
            question = await until(
                lambda: [m for m in sandbox.screen(ALICE) if "reply_markup" in m]
            )
            update = sandbox.inject_callback(ALICE, question[0]["message_id"], "merge:12")
            assert update is not None
            query_id = update["callback_query"]["id"]
            await until(lambda: "edit_date" in sandbox.screen(ALICE)[-1])
            return {"query_id": query_id}

    query_id = asyncio.run(scenario())["query_id"]
    question = sandbox.screen(ALICE)[-1]
    assert question["text"] == "Merge PR #12?" and "reply_markup" not in question
    assert sandbox.callback_answer(str(query_id)) == {"text": "Done: merge:12"}
    assert sandbox.request_count("editMessageReplyMarkup") == 1


def test_confirmed_update_is_never_delivered_again_even_after_restart(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)

    async def run_once(text: str) -> None:
        app = build_application(sandbox)
        app.add_handler(MessageHandler(filters.TEXT, record))
        async with polling(app):
            sandbox.inject_message(text)
            await until(lambda: text in seen)

    asyncio.run(run_once("first"))
    asyncio.run(run_once("second"))
    assert seen == ["first", "second"]

    async def pending() -> int:
        async with bot_for(sandbox) as bot:
            return (await bot.get_webhook_info()).pending_update_count

    assert asyncio.run(pending()) == 0


def test_long_poll_blocks_for_its_timeout_and_wakes_on_a_new_update(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox

    async def scenario() -> tuple[float, float, int]:
        async with bot_for(sandbox) as bot:
            started = time.monotonic()
            assert await bot.get_updates(timeout=1) == ()
            idle = time.monotonic() - started
            asyncio.get_running_loop().call_later(0.2, sandbox.inject_message, "wake up")
            started = time.monotonic()
            updates = await bot.get_updates(timeout=5)
            return idle, time.monotonic() - started, len(updates)

    idle, woken, count = asyncio.run(scenario())
    assert 0.9 <= idle < 1.5
    assert 0.15 <= woken < 1.0 and count == 1


def test_html_parse_mode_is_accepted_when_valid_and_rejected_when_broken(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox
    sandbox.inject_message("hi")

    async def scenario() -> None:
        async with bot_for(sandbox) as bot:
            link = '<a href="https://example.org/pr/12">PR &amp; notes</a>'
            sent = await bot.send_message(ALICE, f"See {link}", parse_mode="HTML")
            assert sent.text == "See PR & notes"
            assert (
                sent.entities[0].type == "text_link"
                and sent.entities[0].url == "https://example.org/pr/12"
            )
            unclosed = "can't parse entities: can't find end tag corresponding to start tag \"b\""
            with pytest.raises(BadRequest, match=f"(?i){unclosed}"):
                await bot.send_message(ALICE, "<b>unclosed", parse_mode="HTML")
            with pytest.raises(BadRequest, match='(?i)unsupported start tag "br" at byte offset 3'):
                await bot.send_message(ALICE, "one<br>two", parse_mode="HTML")
            with pytest.raises(BadRequest, match="(?i)message is too long"):
                await bot.send_message(ALICE, "x" * 4097)

    asyncio.run(scenario())
    assert texts(sandbox, ALICE) == ["hi", "See PR & notes"]


def test_injected_faults_surface_as_ptb_errors_then_calls_succeed(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox
    sandbox.inject_message("hi")
    sandbox.inject_fault("sendMessage", Fault.too_many_requests(retry_after=3))
    sandbox.inject_fault("sendMessage", Fault.server_error(502))
    sandbox.inject_fault("sendMessage", Fault.dropped_connection())

    async def scenario() -> None:
        async with bot_for(sandbox) as bot:
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(ALICE, "one")
            assert flood.value.retry_after == dtm.timedelta(seconds=3)
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(ALICE, "two")
            with pytest.raises(NetworkError):
                await bot.send_message(ALICE, "three")
            await bot.send_message(ALICE, "four")

    asyncio.run(scenario())
    assert texts(sandbox, ALICE) == ["hi", "four"]
    assert sandbox.request_count("sendMessage") == 4


def test_edit_delete_and_commands_round_trip_through_ptb(telegram_sandbox: TelegramSandbox) -> None:
    sandbox = telegram_sandbox
    sandbox.inject_message("hi")

    async def scenario() -> None:
        async with bot_for(sandbox) as bot:
            await bot.set_my_commands(
                [BotCommand("status", "What runs and what waits"), BotCommand("start", "Hello")]
            )
            assert [c.command for c in await bot.get_my_commands()] == ["status", "start"]
            sent = await bot.send_message(ALICE, "Working on #12")
            edited = await bot.edit_message_text(
                "Done: <code>#12</code>", ALICE, sent.message_id, parse_mode="HTML"
            )
            assert isinstance(edited, type(sent)) and edited.edit_date is not None
            with pytest.raises(BadRequest, match="(?i)message is not modified"):
                await bot.edit_message_text(
                    "Done: <code>#12</code>", ALICE, sent.message_id, parse_mode="HTML"
                )
            assert await bot.delete_message(ALICE, sent.message_id) is True
            with pytest.raises(BadRequest, match="(?i)message to delete not found"):
                await bot.delete_message(ALICE, sent.message_id)

    asyncio.run(scenario())
    assert texts(sandbox, ALICE) == ["hi"]


def test_all_of_ptbs_traffic_is_valid_by_the_published_description(
    telegram_sandbox: TelegramSandbox,
) -> None:
    """The fixture fails any test with violations.

    This one also proves the methods were exercised.
    """
    sandbox = telegram_sandbox

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper())

    async def scenario() -> None:
        app = build_application(sandbox)
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with polling(app):
            for word in ("one", "two", "three"):
                sandbox.inject_message(word)
            await until(lambda: len(sandbox.screen(ALICE)) == 6)

    asyncio.run(scenario())
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= set(sandbox.requests)
    assert sandbox.violations == []


def test_polling_resumes_when_telegram_comes_back_after_an_outage(
    telegram_sandbox: TelegramSandbox,
) -> None:
    sandbox = telegram_sandbox
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)

    async def scenario() -> None:
        app = build_application(sandbox)
        app.add_handler(MessageHandler(filters.TEXT, record))
        async with polling(app):
            sandbox.inject_message("before")
            await until(lambda: seen)
            port = sandbox.port
            sandbox.stop()  # the open long poll is cut; PTB logs a NetworkError and backs off
            await asyncio.sleep(0.2)
            sandbox.start()
            assert sandbox.port == port
            sandbox.inject_message("after")
            await until(lambda: len(seen) == 2, timeout=10)

    asyncio.run(scenario())
    assert seen == ["before", "after"]

"""The Chat port on Telegram (python-telegram-bot): handlers, a poll round, long polling, delivery.

Handler groups, per update: -1 drops an update handled before a restart and logs strangers
(no reply); 0 routes commands (CommandHandler per command, authorised only) and escalation
buttons; 1 persists the update offset. Long polling uses PTB's own Updater with a queue whose
`put` returns only once the update has been handled, so Telegram is told an update was read
(the next getUpdates offset) only after it was: a kill loses nothing and, with the persisted
offset, repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import traceback
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

from telegram import Message, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from orchestrator.adapters.telegram_probe import REFUSED
from orchestrator.adapters.telegram_send import drop_row, send
from orchestrator.config.model import TelegramConfig
from orchestrator.core.batching import parse_button
from orchestrator.core.chat import (
    SPECS,
    Authorization,
    Round,
    Unknown,
    UsageHint,
    authorize,
    parse,
    unknown,
)
from orchestrator.core.redact import redact
from orchestrator.errors import ChatError, ChatUnauthorized, Unauthorized
from orchestrator.ports import ControlPlane

T = TypeVar("T")
ALLOWED_UPDATES = ["message", "callback_query"]
App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


class _HandledQueue(asyncio.Queue[object]):
    """An update queue whose `put` waits until the update has been processed.

    The Application calls task_done.
    """

    async def put(self, item: object) -> None:
        await super().put(item)
        await self.join()


class _Authorized(filters.UpdateFilter):
    def __init__(self, chat: TelegramChat) -> None:
        super().__init__(name="authorized")
        self.chat = chat

    def filter(self, update: Update) -> bool:
        return self.chat.verdict(update).allowed


def who(update: Update) -> str:
    """Name the sender for replies and the audit trail: `alice (1001)`."""
    user = update.effective_user
    return "unknown" if user is None else f"{user.username or user.first_name} ({user.id})"


class TelegramChat:
    """The Chat port: `poll_round` for cron, `serve` for `agentos bot`."""

    def __init__(
        self,
        config: TelegramConfig,
        log: logging.Logger,
        *,
        poll_timeout: int = 30,
        flush_every: float = 1.0,
    ) -> None:
        self.config, self.log = config, log
        self.poll_timeout, self.flush_every = poll_timeout, flush_every
        self._control: ControlPlane | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused: Unauthorized | None = None  # a command's credential refused this round

    # -- the port ----------------------------------------------------------------------------------
    def poll_round(self, control: ControlPlane, *, dry_run: bool = False) -> Round:
        """Handle what waits (up to 100 updates), persisting the offset after each; then deliver."""
        return self._run(self._round(control, dry_run))

    def serve(self, control: ControlPlane) -> None:
        """Long-poll with PTB's Updater and deliver every `flush_every` s until stopped."""
        self._run(self._serve(control))

    def stop(self) -> None:
        """Stop a running `serve` (from any thread)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            return asyncio.run(work)
        except InvalidToken:  # 401, or 404 for a token of the wrong shape
            raise ChatUnauthorized(REFUSED) from None
        except TelegramError as exc:
            raise ChatError(f"Telegram: {type(exc).__name__}: {exc}") from exc

    # -- the two loops -----------------------------------------------------------------------------
    async def _round(self, control: ControlPlane, dry_run: bool) -> Round:
        app = self._application(control)
        self._refused = None
        try:
            async with app:
                updates = await app.bot.get_updates(
                    offset=control.last_update_id() + 1,
                    timeout=0,
                    allowed_updates=ALLOWED_UPDATES,
                )
                if dry_run:
                    return Round(updates=len(updates))
                for update in updates:
                    await app.process_update(update)
                done = Round(len(updates), await self._flush(app, control, paced=False))
        finally:  # PTB leaves its connection open when getMe failed (a refused token)
            await app.bot.shutdown()
        if self._refused is not None:  # a command met a refused credential: the tick says so
            raise self._refused
        return done

    async def _serve(self, control: ControlPlane) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = self._application(control)
        async with app:
            # Confirm what was handled before a restart, so the Updater starts after it.
            await app.bot.get_updates(
                offset=control.last_update_id() + 1,
                timeout=0,
                limit=1,
                allowed_updates=ALLOWED_UPDATES,
            )
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0,
                timeout=self.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )
            self.log.info("bot.started", extra={"username": app.bot.username})
            with self._signals():
                try:
                    await self._deliver_until_stopped(app, control)
                finally:
                    await app.updater.stop()
                    await app.stop()
        self.log.info("bot.stopped")

    async def _deliver_until_stopped(self, app: App, control: ControlPlane) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            await self._flush(app, control, paced=True)
            if not await asyncio.to_thread(control.keep_serving):
                self.log.info("bot.switched_off")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.flush_every)

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        loop, installed = asyncio.get_running_loop(), []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                assert self._stop is not None
                loop.add_signal_handler(sig, self._stop.set)
                installed.append(sig)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread (a test runs the bot in one): stop() still works
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _polling_error(self, error: TelegramError) -> None:
        self.log.warning(
            "chat.unreachable", extra={"error": f"{type(error).__name__}: {error}"[:200]}
        )

    # -- the application and its handlers ----------------------------------------------------------
    def _application(self, control: ControlPlane) -> App:
        self._control = control
        app: App = (
            ApplicationBuilder()
            .token(self.config.token.reveal())
            .base_url(f"{self.config.api_url}/bot")
            .update_queue(_HandledQueue())
            .build()
        )
        authorized = _Authorized(self)
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        app.add_handlers(
            [CommandHandler(name, self._on_command, filters=authorized) for name in SPECS], group=0
        )
        app.add_handler(MessageHandler(filters.COMMAND & authorized, self._on_command), group=0)
        app.add_handler(CallbackQueryHandler(self._on_button), group=0)
        app.add_handler(TypeHandler(Update, self._done), group=1)
        app.add_error_handler(self._on_error)
        return app

    def verdict(self, update: Update) -> Authorization:
        """Decide (core.commands.authorize) whether this update may act."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return Authorization(False, "no_chat")
        return authorize(
            chat.id,
            chat.type,
            user.id if user else None,
            self.config.allowed_chat_ids,
            self.config.allowed_user_ids,
        )

    @property
    def control(self) -> ControlPlane:
        assert self._control is not None
        return self._control

    async def _gate(self, update: Update, context: Context) -> None:
        if update.update_id <= self.control.last_update_id():
            raise ApplicationHandlerStop  # handled before a restart: never twice
        verdict = self.verdict(update)
        if not verdict.allowed:
            chat, user, message = (
                update.effective_chat,
                update.effective_user,
                update.effective_message,
            )
            self.log.warning(
                "chat.refused",
                extra={
                    "reason": verdict.reason,
                    "update_id": update.update_id,
                    "chat_id": chat.id if chat else None,
                    "chat_type": chat.type if chat else None,
                    "user_id": user.id if user else None,
                    "kind": "callback_query" if update.callback_query else "message",
                    "text": ((message.text or "") if message and not update.callback_query else "")[
                        :100
                    ],
                },
            )

    async def _done(self, update: Update, context: Context) -> None:
        await asyncio.to_thread(self.control.handled, update.update_id)

    async def _on_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        parsed = parse(message.text, context.bot.username)
        if parsed is None:
            return
        if isinstance(parsed, UsageHint):
            reply = parsed.text
        elif isinstance(parsed, Unknown):
            reply = unknown(parsed.name)
        else:
            reply = await asyncio.to_thread(self.control.command, parsed, who(update))
        await send(context.bot, message.chat_id, reply)

    async def _on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not self.verdict(update).allowed:
            return  # a stranger's press: logged by the gate, not answered
        parsed = parse_button(query.data or "")
        if parsed is None:
            await query.answer("This button is not one of mine.")
            return
        pressed = await asyncio.to_thread(self.control.press, parsed[0], parsed[1], who(update))
        await query.answer(redact(pressed.toast)[:200])
        if pressed.remove and isinstance(query.message, Message):
            await drop_row(query.message, parsed[0], self.log)
        if pressed.announce and query.message is not None:
            await send(context.bot, query.message.chat.id, pressed.announce)

    async def _on_error(self, update: object, context: Context) -> None:
        error = context.error
        if isinstance(error, Unauthorized):
            self._refused = error  # answered below like any failure; the round ends with it
        self.log.error(
            "command.crashed",
            extra={
                "error": f"{type(error).__name__}: {error}"[:200],
                "update_id": update.update_id if isinstance(update, Update) else None,
                "traceback": "".join(traceback.format_exception(error)) if error else "",
            },
        )
        if isinstance(update, Update) and update.effective_chat and self.verdict(update).allowed:
            with contextlib.suppress(TelegramError):
                await send(
                    context.bot,
                    update.effective_chat.id,
                    f"Command failed: {type(error).__name__}: {error}",
                )

    async def _flush(self, app: App, control: ControlPlane, *, paced: bool) -> int:
        delivery = await asyncio.to_thread(control.outgoing, paced)
        if delivery is None:
            return 0
        done = delivery.sent
        for message in delivery.messages[delivery.sent :]:
            try:
                await send(app.bot, self.config.notify_chat, message.text, message.rows)
            except RetryAfter as exc:
                self.log.warning("chat.rate_limited", extra={"retry_after": str(exc.retry_after)})
                break
            except (BadRequest, Forbidden) as exc:
                # permanent: log it and move on, or it blocks the outbox
                self.log.error(
                    "notification.rejected",
                    extra={"error": str(exc)[:200], "text": message.text[:200]},
                )
            except NetworkError as exc:
                self.log.warning(
                    "chat.unreachable", extra={"error": f"{type(exc).__name__}: {exc}"[:200]}
                )
                break
            done += 1
            await asyncio.to_thread(control.sent, delivery, done)
        return done - delivery.sent

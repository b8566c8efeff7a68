"""Pair a Telegram chat with python-telegram-bot's Bot.

Check the token, wait for a message, confirm, reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from orchestrator.adapters.github_errors import one_line
from orchestrator.core.model import ChatMessage
from orchestrator.errors import ChatError, Rejected

T = TypeVar("T")


class BotPairing:
    """Implements init.services.TelegramPairing.

    `api_url` is the Bot API root (`https://api.telegram.org`).
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}  # token -> the last update_id handed out

    def bot_username(self, api_url: str, token: str) -> str:
        """Return the bot's username: one getMe."""

        async def call(bot: Bot) -> str:
            return str(bot.username)

        return self._run(api_url, token, call)

    def next_message(self, api_url: str, token: str, wait_seconds: int) -> ChatMessage | None:
        """Long-poll getUpdates (messages only) until one arrives or `wait_seconds` pass."""

        async def call(bot: Bot) -> ChatMessage | None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_seconds
            while (left := int(deadline - loop.time())) >= 0:
                offset = self._seen.get(token)
                updates = await bot.get_updates(
                    offset=None if offset is None else offset + 1,
                    timeout=timedelta(seconds=min(left, 30)),
                    allowed_updates=["message"],
                    read_timeout=min(left, 30) + 10,
                )
                for update in updates:
                    self._seen[token] = update.update_id
                    found = _message(update.update_id, update.message)
                    if found is not None:
                        return found
                if left == 0:
                    break
            return None

        return self._run(api_url, token, call)

    def confirm(self, api_url: str, token: str, update_id: int) -> None:
        """Confirm updates up to `update_id`: one getUpdates with the next offset and no wait."""

        async def call(bot: Bot) -> None:
            await bot.get_updates(
                offset=update_id + 1, timeout=timedelta(0), allowed_updates=["message"]
            )

        self._run(api_url, token, call)

    def send(self, api_url: str, token: str, chat_id: int, text: str) -> None:
        """Send plain text: one sendMessage."""

        async def call(bot: Bot) -> None:
            await bot.send_message(chat_id=chat_id, text=text)

        self._run(api_url, token, call)

    @staticmethod
    def _run(api_url: str, token: str, call: Callable[[Bot], Awaitable[T]]) -> T:
        async def session() -> T:
            async with Bot(token, base_url=f"{api_url.rstrip('/')}/bot") as bot:  # getMe on entry
                return await call(bot)

        try:
            return asyncio.run(session())
        except InvalidToken:
            raise Rejected("Telegram rejected this token (check it with @BotFather)") from None
        except NetworkError as error:
            raise ChatError(
                one_line(f"Telegram could not be reached at {api_url}: {error}")
            ) from None
        except TelegramError as error:
            raise ChatError(one_line(f"Telegram refused: {error}")) from None


def _message(update_id: int, message: object) -> ChatMessage | None:
    from telegram import Message

    if not isinstance(message, Message) or message.from_user is None:
        return None
    chat, user = message.chat, message.from_user
    title = (
        chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p) or str(chat.id)
    )
    name = user.full_name + (f" (@{user.username})" if user.username else "")
    return ChatMessage(
        update_id=update_id,
        chat_id=chat.id,
        chat_type=str(chat.type),
        chat_title=title,
        user_id=user.id,
        user_name=name,
        text=message.text or "",
    )

"""Ask Telegram whether the bot token works and each configured chat is reachable: getMe, getChat.

What `agentos check --live` reports; it changes nothing (no message is sent).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from orchestrator.adapters.github_errors import one_line
from orchestrator.config.model import TelegramConfig
from orchestrator.errors import ChatError, ChatUnauthorized

# PTB's own message for a refused token quotes the token: this one is said instead.
REFUSED = "Telegram refused the bot token (401 Unauthorized): check telegram.token"


@dataclass(frozen=True, slots=True)
class Reach:
    """The bot's username, and for each chat the reason it cannot be reached (None: it can)."""

    username: str
    chats: dict[int, str | None]


def reach(config: TelegramConfig, timeout: float = 10.0) -> Reach:
    """Return what getMe and one getChat per allowed chat (and the notify chat) answer.

    ChatUnauthorized when Telegram refuses the token; ChatError when it cannot be reached.
    """
    chats = list(dict.fromkeys([*config.allowed_chat_ids, config.notify_chat]))
    try:
        return asyncio.run(_ask(config, chats, timeout))
    except InvalidToken:
        raise ChatUnauthorized(REFUSED) from None
    except (BadRequest, Forbidden) as error:  # BadRequest is a NetworkError to PTB
        raise ChatError(one_line(f"Telegram refused: {error}")) from None
    except NetworkError as error:
        raise ChatError(
            one_line(f"Telegram could not be reached at {config.api_url}: {error}")
        ) from None
    except TelegramError as error:
        raise ChatError(one_line(f"Telegram refused: {error}")) from None


async def _ask(config: TelegramConfig, chats: list[int], timeout: float) -> Reach:
    # One client for both of PTB's slots (no getUpdates here): each costs ~0.3 s of TLS setup.
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout)
    bot = Bot(
        config.token.reveal(),
        base_url=f"{config.api_url}/bot",
        request=request,
        get_updates_request=request,
    )
    async with bot:  # getMe on entry
        found: dict[int, str | None] = {}
        for chat in chats:
            try:
                await bot.get_chat(chat)
                found[chat] = None
            except (BadRequest, Forbidden) as error:  # "Chat not found", "bot was kicked"
                found[chat] = one_line(str(error))
        return Reach(str(bot.username), found)

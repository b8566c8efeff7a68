"""What the Telegram adapter writes into a chat: text split under the limit with its keyboard, and a
pressed button's row taken away."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from orchestrator.core.batching import Button, split
from orchestrator.core.redact import redact


async def send(
    bot: Any, chat_id: int, text: str, rows: tuple[tuple[Button, ...], ...] = ()
) -> None:
    """Send plain text, redacted and split under the limit; the keyboard goes on the last piece."""
    pieces = split(redact(text))
    keyboard = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
        )
        if rows
        else None
    )
    for i, piece in enumerate(pieces):
        await bot.send_message(
            chat_id, piece, reply_markup=keyboard if i == len(pieces) - 1 else None
        )


async def drop_row(message: Message, token: str, log: logging.Logger) -> None:
    """Remove the keyboard row whose buttons carry `token` (the escalation a press settled)."""
    markup = message.reply_markup
    rows = [
        row
        for row in (markup.inline_keyboard if markup else ())
        if not any(
            token in (b.callback_data or "") for b in row if isinstance(b.callback_data, str)
        )
    ]
    try:
        await message.edit_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except BadRequest as exc:  # e.g. the message is too old to edit; the button is settled anyway
        log.warning("chat.edit_failed", extra={"error": str(exc)[:200]})

"""Carry out the Bot API methods the sandbox models, on decoded parameters, as Telegram would."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from orchestrator.sandbox.telegram import messages
from orchestrator.sandbox.telegram.errors import bad_request
from orchestrator.sandbox.telegram.state import Context, Obj

Handler = Callable[[Context, Obj], Any]
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def bot_user(bot_id: int, username: str, first_name: str) -> Obj:
    """Return getMe's User; `can_read_all_group_messages` false means group privacy mode is on."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def get_me(ctx: Context, params: Obj) -> Obj:
    """getMe: the bot's User."""
    return ctx.me


def get_chat(ctx: Context, params: Obj) -> Obj:
    """getChat: a chat the bot has seen, as ChatFullInfo; another is "chat not found"."""
    chat = ctx.store.chat(params["chat_id"])
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    return chat | {
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {name: True for name in gifts} | {"gifts_from_channels": False},
    }


def get_updates(ctx: Context, params: Obj) -> list[Obj]:
    """getUpdates: confirm by offset, then long-poll for up to `timeout` seconds."""
    return ctx.store.poll(
        offset=params.get("offset", 0),
        limit=min(max(params.get("limit", 100), 1), 100),
        timeout=max(params.get("timeout", 0), 0),
        allowed=params.get("allowed_updates"),
    )


def delete_webhook(ctx: Context, params: Obj) -> bool:
    """deleteWebhook: there is never a webhook; optionally drop pending updates."""
    if params.get("drop_pending_updates"):
        ctx.store.drop_pending()
    return True


def get_webhook_info(ctx: Context, params: Obj) -> Obj:
    """getWebhookInfo: an empty url, as for any bot that uses getUpdates."""
    return {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(ctx.store.updates),
    }


def set_my_commands(ctx: Context, params: Obj) -> bool:
    """setMyCommands: store the list for its scope and language."""
    for command in params["commands"]:
        if not _COMMAND.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
    ctx.store.commands[_commands_key(params)] = params["commands"]
    return True


def get_my_commands(ctx: Context, params: Obj) -> list[Obj]:
    """getMyCommands: the list for a scope and language, or []."""
    return ctx.store.commands.get(_commands_key(params), [])


def answer_callback_query(ctx: Context, params: Obj) -> bool:
    """answerCallbackQuery: each query can be answered once."""
    answer = {k: v for k, v in params.items() if k != "callback_query_id"}
    if not ctx.store.answer_query(params["callback_query_id"], answer):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    return True


def _commands_key(params: Obj) -> str:
    scope = params.get("scope", {"type": "default"})
    return json.dumps([scope, params.get("language_code", "")], sort_keys=True)


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getChat": get_chat,
    "getUpdates": get_updates,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "answerCallbackQuery": answer_callback_query,
    "sendMessage": messages.send_message,
    "editMessageText": messages.edit_message_text,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "deleteMessage": messages.delete_message,
}

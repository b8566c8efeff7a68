"""Send, edit and delete messages as Telegram does, and build what users send to the bot."""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.telegram.errors import Unsupported, bad_request
from orchestrator.sandbox.telegram.formatting import EntityParseError, bot_commands, parse_html
from orchestrator.sandbox.telegram.state import Context, Obj, now

MAX_TEXT = 4096
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)


def send_message(ctx: Context, params: Obj) -> Obj:
    """sendMessage: store and return the bot's new message."""
    chat = ctx.store.chat(params["chat_id"])
    text, entities = _formatted(params)
    content = _content(text, entities, _inline_keyboard(params.get("reply_markup")))
    extra: Obj = {}
    if "reply_parameters" in params:
        extra |= _reply_to(ctx, chat, params["reply_parameters"])
    if params.get("protect_content"):
        extra["has_protected_content"] = True
    return ctx.store.add_message(
        chat["id"],
        lambda message_id: (
            {"message_id": message_id, "from": ctx.sender, "chat": chat, "date": now()}
            | extra
            | content
        ),
    )


def edit_message_text(ctx: Context, params: Obj) -> Obj:
    """editMessageText: a markup not passed again is removed, as in Telegram."""
    message = _own_message(ctx, params)
    text, entities = _formatted(params)
    return _edit(
        ctx, message, _content(text, entities, _inline_keyboard(params.get("reply_markup")))
    )


def edit_message_reply_markup(ctx: Context, params: Obj) -> Obj:
    """editMessageReplyMarkup: replace the inline keyboard, or remove it when none is passed."""
    message = _own_message(ctx, params)
    keyboard = _inline_keyboard(params.get("reply_markup"))
    return _edit(ctx, message, _content(message["text"], message.get("entities", []), keyboard))


def delete_message(ctx: Context, params: Obj) -> bool:
    """deleteMessage: the bot's own messages anywhere, users' messages only in private chats."""
    chat = ctx.store.chat(params["chat_id"])
    message = ctx.store.message(chat["id"], params["message_id"])
    if message is None:
        raise bad_request("message to delete not found")
    if chat["type"] != "private" and message["from"]["id"] != ctx.me["id"]:
        raise bad_request("message can't be deleted")  # the sandbox bot is never a group admin
    ctx.store.delete_message(chat["id"], message["message_id"])
    return True


def user(user_id: int, username: str | None, first_name: str) -> Obj:
    """Return a human User as Telegram describes one to bots."""
    sender: Obj = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    return sender | ({"username": username} if username else {})


def user_message(ctx: Context, chat: Obj, sender: Obj, text: str) -> Obj:
    """Store a message a user sends; Telegram marks each /command with a bot_command entity."""
    ctx.store.remember_chat(chat)
    return ctx.store.add_message(
        chat["id"],
        lambda message_id: (
            {"message_id": message_id, "from": sender, "chat": chat, "date": now()}
            | _content(text, bot_commands(text), None)
        ),
    )


def reaches_bot(ctx: Context, message: Obj) -> bool:
    """Apply privacy mode: in groups the bot only sees commands not addressed to another bot."""
    if message["chat"]["type"] == "private":
        return True
    first = next(iter(message.get("entities", [])), None)
    if first is None or first["type"] != "bot_command" or first["offset"] != 0:
        return False
    _, _, addressee = message["text"][: first["length"]].partition("@")
    return addressee in ("", ctx.me["username"])


def callback_query(ctx: Context, message: Obj, sender: Obj, data: str) -> Obj:
    """Return the CallbackQuery a user makes by pressing the button carrying `data`."""
    buttons = [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
    if not any(b.get("callback_data") == data for b in buttons):
        raise ValueError(
            f"message {message['message_id']} has no button with callback_data {data!r}"
        )
    query_id = ctx.store.open_query(prefix=ctx.me["id"])
    chat_instance = str(message["chat"]["id"] * 7919 + ctx.me["id"])
    return {
        "id": query_id,
        "from": sender,
        "message": message,
        "chat_instance": chat_instance,
        "data": data,
    }


def _formatted(params: Obj) -> tuple[str, list[Obj]]:
    text: str = params.get("text", "")
    mode = params.get("parse_mode", "").lower()
    if mode == "html":
        try:
            text, entities = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif mode in ("markdown", "markdownv2"):
        raise Unsupported(f"parse_mode {params['parse_mode']}")
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        entities = sorted(params.get("entities", []), key=lambda e: (e["offset"], -e["length"]))
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities


def _inline_keyboard(markup: Obj | None) -> Obj | None:
    """Return a message's keyboard; reply keyboards live on the user's screen, not the message."""
    if markup is None or "inline_keyboard" not in markup:
        return None
    for button in (b for row in markup["inline_keyboard"] for b in row):
        if not set(button) - {"text", "icon_custom_emoji_id", "style"}:
            raise bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    rows = [row for row in markup["inline_keyboard"] if row]
    return {"inline_keyboard": rows} if rows else None


def _content(text: str, entities: list[Obj], keyboard: Obj | None) -> Obj:
    content: Obj = {"text": text}
    if entities:
        content["entities"] = entities
    if keyboard:
        content["reply_markup"] = keyboard
    return content


def _reply_to(ctx: Context, chat: Obj, reply: Obj) -> Obj:
    target = ctx.store.message(chat["id"], reply["message_id"])
    if target is not None:
        return {"reply_to_message": {k: v for k, v in target.items() if k != "reply_to_message"}}
    if reply.get("allow_sending_without_reply"):
        return {}
    raise bad_request("message to be replied not found")


def _own_message(ctx: Context, params: Obj) -> Obj:
    if "inline_message_id" in params:
        raise Unsupported("inline messages (inline_message_id)")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    message = ctx.store.message(ctx.store.chat(params["chat_id"])["id"], params["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if message["from"]["id"] != ctx.me["id"]:
        raise bad_request("message can't be edited")
    return message


def _edit(ctx: Context, message: Obj, content: Obj) -> Obj:
    current = {k: message[k] for k in ("text", "entities", "reply_markup") if k in message}
    if current == content:
        raise bad_request(NOT_MODIFIED)
    kept: dict[str, Any] = {
        k: v for k, v in message.items() if k not in ("text", "entities", "reply_markup")
    }
    edited = kept | {"edit_date": now()} | content
    ctx.store.replace_message(edited)
    return edited

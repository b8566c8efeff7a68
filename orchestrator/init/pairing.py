"""Step 6, Telegram pairing: check the bot token, wait for a message to the bot, allow that chat.

The bot then says so in that chat.
"""

from __future__ import annotations

from orchestrator.core.model import ChatMessage
from orchestrator.core.redact import redact
from orchestrator.errors import ChatError, InvalidAnswer, Rejected
from orchestrator.init.context import Context
from orchestrator.init.credentials import reference
from orchestrator.init.questions import parse_url
from orchestrator.init.session import Pairing

TELEGRAM_API = "https://api.telegram.org"


def run(ctx: Context) -> None:
    """Find the bot, show what pairing does, then wait for the message and confirm it in chat."""
    section, p = ctx.section("telegram"), ctx.prompter
    chats = section.get("allowed_chat_ids")
    if chats and not p.confirm(
        "telegram.pair_another",
        f"Telegram is set up already (chats {chats}). Pair another chat?",
        False,
    ):
        ctx.say("  ✓ the Telegram settings stay as they are")
        return
    api_url = p.text(
        "telegram.api_url",
        "Telegram Bot API URL",
        str(section.get("api_url") or TELEGRAM_API),
        check=parse_url,
    )
    var = reference(section.get("token"), "TELEGRAM_BOT_TOKEN")
    token, bot = bot_token(ctx, api_url, var)
    ctx.say(f"  ✓ bot @{bot}")
    changes = [
        f"wait for a message to @{bot} and allow the chat it comes from "
        "(telegram.allowed_chat_ids)",
        "send a confirmation message to that chat",
    ]
    if var in ctx.secrets:
        changes.append(
            f"keep the token in {ctx.env_file()} as {var} "
            f"(step 8 writes it; config.yaml gets ${var})"
        )
    ctx.session.pairing = Pairing(
        api_url=api_url, token_var=var, bot=bot, chat_id=None, user_id=None
    )
    if not ctx.apply("telegram", changes):
        return
    message = _wait(ctx, api_url, token, bot)
    if message is None:
        ctx.say(
            "  ! no chat paired: run init again later, "
            "or add the chat id to telegram.allowed_chat_ids"
        )
        return
    pairing = ctx.services.telegram
    pairing.confirm(api_url, token, message.update_id)
    repo = ctx.session.repository
    what = f" for {repo.full_name}" if repo else ""
    pairing.send(
        api_url,
        token,
        message.chat_id,
        redact(
            f"✅ Agent OS is paired with this chat{what}. "
            "Once its jobs run, send /status to see what it is doing."
        ),
    )
    ctx.say(
        f"  ✓ paired with {message.chat_title} (chat {message.chat_id}, user {message.user_id}); "
        "confirmation sent"
    )
    ctx.session.pairing = Pairing(
        api_url=api_url,
        token_var=var,
        bot=bot,
        chat_id=message.chat_id,
        user_id=message.user_id,
        chat_title=message.chat_title,
    )


def bot_token(ctx: Context, api_url: str, var: str) -> tuple[str, str]:
    """Return a token Telegram accepts and the bot's username: the configured one, else asked."""
    pairing = ctx.services.telegram
    token = ctx.lookup(var)
    if token is not None:
        try:
            return token, pairing.bot_username(api_url, token)
        except (Rejected, ChatError) as problem:
            ctx.say(f"  ✗ the token in ${var}: {problem}")
    holder: dict[str, str] = {}

    def parse(text: str) -> str:
        if ":" not in text or not text.split(":", 1)[0].isdigit():
            raise InvalidAnswer(
                "expected a bot token like 123456789:AA… (from @BotFather, /newbot)"
            )
        try:
            name = pairing.bot_username(api_url, text)
        except (Rejected, ChatError) as problem:
            raise InvalidAnswer(str(problem)) from None
        holder["token"] = text
        return name

    bot = ctx.prompter.secret("telegram.token", "Bot token from @BotFather (/newbot)", parse)
    ctx.secrets[var] = holder["token"]
    return holder["token"], bot


def _wait(ctx: Context, api_url: str, token: str, bot: str) -> ChatMessage | None:
    """Wait for a message the user accepts as the pairing chat; None when they stop waiting."""
    seconds = ctx.options.pairing_wait
    while True:
        ctx.say(
            f"Send any message to @{bot} now, from the chat that will control Agent OS "
            f"(a private chat, or a group the bot is in). Waiting up to {seconds} s…"
        )
        message = ctx.services.telegram.next_message(api_url, token, seconds)
        if message is None:
            if not ctx.prompter.confirm(
                "telegram.wait_again", "No message arrived. Keep waiting?", False
            ):
                return None
            continue
        ctx.say(
            f"  message from {message.user_name} in {message.chat_title} "
            f"({message.chat_type} chat {message.chat_id}): {message.text[:60]!r}"
        )
        if ctx.prompter.confirm("telegram.use_chat", "Pair with this chat?", True):
            return message

"""Messages, edits, deletions, buttons and commands follow Telegram's rules and error wording."""

from __future__ import annotations

import pytest

from orchestrator.sandbox.telegram import TelegramSandbox

from .conftest import Api

ALICE = 1001
GROUP = -4001
KEYBOARD = {"inline_keyboard": [[{"text": "Merge", "callback_data": "merge:12"}]]}


def error(reply: dict) -> tuple[int, str]:
    assert reply["ok"] is False, reply
    return reply["error_code"], reply["description"]


@pytest.fixture
def chat(telegram_sandbox: TelegramSandbox) -> int:
    telegram_sandbox.inject_message("hi")
    return ALICE


def test_a_message_to_an_unknown_chat_is_refused(api: Api) -> None:
    assert error(api("sendMessage", chat_id=999, text="x")) == (400, "Bad Request: chat not found")


def test_a_chat_can_be_addressed_by_username(api: Api, telegram_sandbox: TelegramSandbox) -> None:
    telegram_sandbox.inject_message("hi", username="bob", user_id=2002)
    assert api("sendMessage", chat_id="@Bob", text="hello")["result"]["chat"]["id"] == 2002


@pytest.mark.parametrize(
    "text, parse_mode, description",
    [
        ("   ", None, "Bad Request: message text is empty"),
        ("<b> </b>", "HTML", "Bad Request: message text is empty"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        (
            "<b>x</i>",
            "HTML",
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, "
            'expected "</b>", found "</i>"',
        ),
        ("x", "Textile", "Bad Request: unsupported parse_mode"),
    ],
)
def test_bad_text_is_refused_in_telegrams_words(
    api: Api, chat: int, text: str, parse_mode: str | None, description: str
) -> None:
    params = {"parse_mode": parse_mode} if parse_mode else {}
    assert error(api("sendMessage", chat_id=chat, text=text, **params)) == (400, description)


def test_the_length_limit_applies_after_html_parsing(api: Api, chat: int) -> None:
    reply = api("sendMessage", chat_id=chat, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert reply["ok"] and len(reply["result"]["text"]) == 4096


def test_explicit_entities_are_kept(api: Api, chat: int) -> None:
    sent = api(
        "sendMessage",
        chat_id=chat,
        text="bold",
        entities=[{"type": "bold", "offset": 0, "length": 4}],
    )
    assert sent["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]


def test_editing_text_without_the_keyboard_removes_it(
    api: Api, chat: int, telegram_sandbox: TelegramSandbox
) -> None:
    sent = api("sendMessage", chat_id=chat, text="Merge?", reply_markup=KEYBOARD)["result"]
    assert sent["reply_markup"] == KEYBOARD
    edited = api("editMessageText", chat_id=chat, message_id=sent["message_id"], text="Merged")[
        "result"
    ]
    assert "reply_markup" not in edited and edited["edit_date"] >= edited["date"]
    assert telegram_sandbox.screen(chat)[-1] == edited


def test_edits_that_change_nothing_or_miss_their_message_are_refused(api: Api, chat: int) -> None:
    sent = api("sendMessage", chat_id=chat, text="Merge?", reply_markup=KEYBOARD)["result"]
    same = api(
        "editMessageReplyMarkup", chat_id=chat, message_id=sent["message_id"], reply_markup=KEYBOARD
    )
    assert error(same)[1].startswith("Bad Request: message is not modified")
    missing = api("editMessageText", chat_id=chat, message_id=99, text="x")
    assert error(missing)[1] == "Bad Request: message to edit not found"
    users = api("editMessageText", chat_id=chat, message_id=1, text="x")
    assert error(users)[1] == "Bad Request: message can't be edited"
    unaddressed = api("editMessageText", chat_id=chat, text="x")
    assert error(unaddressed)[1] == "Bad Request: message identifier is not specified"


def test_users_messages_can_be_deleted_only_in_private_chats(
    api: Api, chat: int, telegram_sandbox: TelegramSandbox
) -> None:
    telegram_sandbox.inject_message("/status", chat_id=GROUP, chat_type="group")
    assert error(api("deleteMessage", chat_id=GROUP, message_id=1)) == (
        400,
        "Bad Request: message can't be deleted",
    )
    assert api("deleteMessage", chat_id=chat, message_id=1)["result"] is True
    assert telegram_sandbox.screen(chat) == []


def test_a_reply_needs_its_message_unless_told_otherwise(api: Api, chat: int) -> None:
    missing = {"message_id": 42}
    assert error(api("sendMessage", chat_id=chat, text="x", reply_parameters=missing))[1] == (
        "Bad Request: message to be replied not found"
    )
    anyway = {**missing, "allow_sending_without_reply": True}
    lenient = api("sendMessage", chat_id=chat, text="x", reply_parameters=anyway)
    assert "reply_to_message" not in lenient["result"]
    reply = api("sendMessage", chat_id=chat, text="x", reply_parameters={"message_id": 1})["result"]
    assert reply["reply_to_message"]["text"] == "hi"


@pytest.mark.parametrize(
    "button, description",
    [
        (
            {"text": "Merge"},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        ({"text": "Merge", "callback_data": "x" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
    ],
)
def test_bad_inline_buttons_are_refused(
    api: Api, chat: int, button: dict, description: str
) -> None:
    reply = api("sendMessage", chat_id=chat, text="x", reply_markup={"inline_keyboard": [[button]]})
    assert error(reply) == (400, description)


def test_a_callback_query_is_answered_once(
    api: Api, chat: int, telegram_sandbox: TelegramSandbox
) -> None:
    sent = api("sendMessage", chat_id=chat, text="Merge?", reply_markup=KEYBOARD)["result"]
    update = telegram_sandbox.inject_callback(chat, sent["message_id"], "merge:12")
    assert update is not None
    query = update["callback_query"]
    assert query["message"] == sent and query["from"]["id"] == ALICE
    assert (
        api("answerCallbackQuery", callback_query_id=query["id"], text="Merging", show_alert=True)[
            "result"
        ]
        is True
    )
    again = api("answerCallbackQuery", callback_query_id=query["id"])
    assert (
        error(again)[1]
        == "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert telegram_sandbox.callback_answer(query["id"]) == {"text": "Merging", "show_alert": True}


def test_only_existing_buttons_can_be_pressed(
    api: Api, chat: int, telegram_sandbox: TelegramSandbox
) -> None:
    sent = api("sendMessage", chat_id=chat, text="Merge?", reply_markup=KEYBOARD)["result"]
    with pytest.raises(ValueError, match="no button"):
        telegram_sandbox.inject_callback(chat, sent["message_id"], "delete:everything")
    with pytest.raises(ValueError, match="no message 77"):
        telegram_sandbox.inject_callback(chat, 77, "merge:12")


def test_group_privacy_mode_hides_plain_text_and_other_bots_commands(
    telegram_sandbox: TelegramSandbox,
) -> None:
    bot = telegram_sandbox.bot["username"]
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    assert telegram_sandbox.inject_message("morning all", **group) is None
    assert telegram_sandbox.inject_message("/status@other_bot", **group) is None
    assert telegram_sandbox.inject_message("/status", **group) is not None
    assert telegram_sandbox.inject_message(f"/status@{bot}", **group) is not None
    assert len(telegram_sandbox.screen(GROUP)) == 4


def test_hooks_refuse_impossible_chats(telegram_sandbox: TelegramSandbox) -> None:
    with pytest.raises(ValueError, match="private chat's id"):
        telegram_sandbox.inject_message("hi", user_id=1, chat_id=2)
    with pytest.raises(ValueError, match="negative chat_id"):
        telegram_sandbox.inject_message("hi", chat_id=5, chat_type="group")


def test_commands_are_kept_per_scope_and_language(api: Api) -> None:
    commands = [{"command": "status", "description": "What runs"}]
    scope = {"type": "all_group_chats"}
    assert api("setMyCommands", commands=commands, scope=scope)["result"] is True
    assert api("getMyCommands", scope=scope)["result"] == commands
    assert api("getMyCommands")["result"] == []
    assert api("getMyCommands", scope=scope, language_code="de")["result"] == []
    bad = api("setMyCommands", commands=[{"command": "Status!", "description": "x"}])
    assert error(bad) == (400, "Bad Request: BOT_COMMAND_INVALID")

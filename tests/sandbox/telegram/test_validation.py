"""The validator catches what breaks the Bot API description.

It passes what Telegram really sends.
"""

from __future__ import annotations

import copy
import json

import pytest

from orchestrator.sandbox.telegram.validation import UploadedFile, Validator, load_spec

BOT = {"id": 7, "is_bot": True, "first_name": "Agent OS", "username": "agentos_bot"}
ALICE = {
    "id": 1001,
    "is_bot": False,
    "first_name": "Alice",
    "username": "alice",
    "language_code": "en",
}
MESSAGE = {
    "message_id": 5,
    "from": BOT,
    "chat": {"id": 1001, "first_name": "Alice", "username": "alice", "type": "private"},
    "date": 1_767_000_000,
    "text": "Merge PR #12?",
    "entities": [{"type": "bold", "offset": 0, "length": 5}],
    "reply_markup": {"inline_keyboard": [[{"text": "Merge", "callback_data": "merge:12"}]]},
}


NUMERIC_CALLBACK_DATA = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": 5}]]})


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def broken(path: list[str | int], value: object = ..., base: dict = MESSAGE) -> dict:
    """Return a copy of `base` with the item at `path` replaced.

    The item is removed when no value is given.
    """
    result = copy.deepcopy(base)
    target = result
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def test_the_vendored_description_is_bot_api_10_1() -> None:
    spec = load_spec()
    assert (spec.version, len(spec.methods), len(spec.types)) == ("Bot API 10.1", 180, 359)


def test_every_type_the_description_mentions_is_defined(validator: Validator) -> None:
    spec = validator.spec
    mentioned = set()
    for entry in [*spec.methods.values(), *spec.types.values()]:
        named = [t for f in entry.get("fields", []) for t in f["types"]] + entry.get("returns", [])
        mentioned |= {t.replace("Array of ", "") for t in named + entry.get("subtypes", [])}
    assert mentioned - set(spec.types) == {"Integer", "Float", "String", "Boolean"}


def test_a_real_shaped_message_passes(validator: Validator) -> None:
    assert validator.check("Message", MESSAGE, "m") == []
    query = {"id": "1", "from": ALICE, "message": MESSAGE, "chat_instance": "9", "data": "x"}
    update = {"update_id": 1, "callback_query": query}
    assert validator.check("Update", update, "u") == []


@pytest.mark.parametrize(
    "payload, type_expr, expected",
    [
        (broken(["chat"]), "Message", "m.chat: missing required field of Message"),
        (broken(["from", "is_bot"]), "Message", "m.from.is_bot: missing required field of User"),
        (broken(["via_sandbox"], True), "Message", "m.via_sandbox: unknown field of Message"),
        (broken(["message_id"], "5"), "Message", "m.message_id: expected Integer, got string"),
        (broken(["date"], 1.5), "Message", "m.date: expected Integer, got float"),
        (
            broken(["from", "is_bot"], "true"),
            "Message",
            "m.from.is_bot: expected Boolean, got string",
        ),
        (
            broken(["entities"], {"type": "bold"}),
            "Message",
            "m.entities: expected Array of MessageEntity, got object",
        ),
        (
            broken(["entities", 0, "length"]),
            "Message",
            "m.entities[0].length: missing required field of MessageEntity",
        ),
        (
            broken(["reply_markup", "inline_keyboard", 0], {"text": "x"}),
            "Message",
            "m.reply_markup.inline_keyboard[0]: expected Array of InlineKeyboardButton, got object",
        ),
        (
            broken(["reply_markup", "inline_keyboard", 0, 0, "text"]),
            "Message",
            "m.reply_markup.inline_keyboard[0][0].text: missing required field",
        ),
        ({"id": 1, "first_name": "Alice"}, "User", "m.is_bot: missing required field of User"),
        ({"type": "bogus"}, "BotCommandScope", "m: fits none of BotCommandScopeDefault or"),
        ({"type": "default", "chat_id": 5}, "BotCommandScope", "m: fits none of"),
        (True, "Message", "m: expected Message object, got boolean"),
    ],
)
def test_broken_payloads_are_caught(
    validator: Validator, payload: object, type_expr: str, expected: str
) -> None:
    errors = validator.check(type_expr, payload, "m")
    assert any(e.startswith(expected) for e in errors), errors


def test_a_union_subtype_must_carry_its_own_discriminator(validator: Validator) -> None:
    assert validator.check("BotCommandScope", {"type": "chat", "chat_id": -5}, "s") == []
    assert validator.check("BotCommandScopeChat", {"type": "default", "chat_id": -5}, "s") == [
        "s.type: BotCommandScopeChat requires 'chat', got 'default'"
    ]
    assert (
        validator.check(
            "MaybeInaccessibleMessage", {"chat": MESSAGE["chat"], "message_id": 1, "date": 0}, "s"
        )
        == []
    )


def test_results_are_judged_by_the_methods_return_types(validator: Validator) -> None:
    assert validator.check_result("getMe", BOT) == []
    assert validator.check_result("editMessageText", True) == []  # `Message or Boolean`
    assert validator.check_result("getMe", True) == [
        "getMe.result: expected User object, got boolean"
    ]
    assert validator.check_result("getUpdates", [{"update_id": 1, "message": MESSAGE}]) == []
    assert validator.check_result("getUpdates", [{"message": MESSAGE}]) == [
        "getUpdates.result[0].update_id: missing required field of Update"
    ]


def test_form_encoded_parameters_are_decoded_by_their_types(validator: Validator) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]})
    params, errors = validator.parse_request(
        "sendMessage",
        {"chat_id": "-1001", "text": "42", "disable_notification": "true", "reply_markup": markup},
    )
    assert errors == []
    assert params == {
        "chat_id": -1001,
        "text": "42",
        "disable_notification": True,
        "reply_markup": json.loads(markup),
    }
    assert validator.parse_request("sendMessage", {"chat_id": "@channel", "text": "x"}) == (
        {"chat_id": "@channel", "text": "x"},
        [],
    )


def test_json_parameters_are_checked_as_sent(validator: Validator) -> None:
    assert (
        validator.parse_request(
            "getUpdates", {"offset": 3, "timeout": 1, "allowed_updates": ["message"]}
        )[1]
        == []
    )
    assert validator.parse_request("sendMessage", {"chat_id": [1], "text": "x"})[1] == [
        "sendMessage.chat_id: fits none of Integer or String; "
        "closest: sendMessage.chat_id: expected Integer, got array"
    ]


@pytest.mark.parametrize(
    "method, params, expected",
    [
        ("sendMessage", {"chat_id": "1"}, "sendMessage: missing required parameter 'text'"),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "colour": "red"},
            "sendMessage: unknown parameter 'colour'",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "disable_notification": "yes"},
            "sendMessage.disable_notification: 'yes' is not a valid Boolean",
        ),
        ("getUpdates", {"offset": "1.5"}, "getUpdates.offset: '1.5' is not a valid Integer"),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": "{not json"},
            "sendMessage.reply_markup: '{not json' is not a valid",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": NUMERIC_CALLBACK_DATA},
            "sendMessage.reply_markup.inline_keyboard[0][0].callback_data: "
            "expected String, got integer",
        ),
        (
            "setMyCommands",
            {"commands": '[{"command": "start"}]'},
            "setMyCommands.commands[0].description: missing required field of BotCommand",
        ),
    ],
)
def test_broken_requests_are_caught(
    validator: Validator, method: str, params: dict, expected: str
) -> None:
    errors = validator.parse_request(method, params)[1]
    assert any(e.startswith(expected) for e in errors), errors


def test_uploaded_files_count_as_input_files(validator: Validator) -> None:
    upload = UploadedFile("report.txt", "text/plain", b"hello")
    assert validator.parse_request("sendDocument", {"chat_id": "1", "document": upload})[1] == []
    assert validator.parse_request("sendDocument", {"chat_id": "1", "document": 5})[1] != []


def test_method_names_are_matched_case_insensitively(validator: Validator) -> None:
    assert validator.method_name("SENDMESSAGE") == "sendMessage"
    assert validator.method_name("sendMessages") is None

"""HTML parse mode and /command detection behave as TDLib's own tests say Telegram behaves."""

from __future__ import annotations

import pytest

from orchestrator.sandbox.telegram.formatting import (
    EntityParseError,
    bot_commands,
    parse_html,
    utf16_len,
)

# Cases from TDLib's test/message_entities.cpp (check_parse_html);
# 🏟 is 4 UTF-8 bytes, 2 UTF-16 units.
REJECTED = [
    (
        "&#57311;",
        "Text contains invalid Unicode characters after decoding HTML entities, "
        "check for unmatched surrogate code units",
    ),
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    ('<span class="x">a</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<tg-emoji emoji-id="abc">a</tg-emoji>', "Invalid custom emoji identifier specified"),
    ('<tg-time unix="12345" format="rt">a</tg-time>', "Invalid date format used"),
]

ACCEPTED = [
    ("", "", []),
    ("&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '&ge;<>&"&laquo;&raquo;&#12345678;', []),
    ("➡️ ➡️<i>➡️ ➡️</i>", "➡️ ➡️➡️ ➡️", [("italic", 5, 5)]),
    ("➡️ ➡️<strong>➡️ ➡️</strong>", "➡️ ➡️➡️ ➡️", [("bold", 5, 5)]),
    ("➡️ ➡️<ins>➡️ ➡️</ins>", "➡️ ➡️➡️ ➡️", [("underline", 5, 5)]),
    ("➡️ ➡️<del>➡️ ➡️</del>", "➡️ ➡️➡️ ➡️", [("strikethrough", 5, 5)]),
    ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟", [("italic", 5, 7), ("bold", 9, 3)]),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>", "🏟 🏟<a", [("italic", 6, 1)]),
    ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", "🏟 🏟<a", [("italic", 6, 1)]),
    ("🏟 🏟&lt;<i>a</    >", "🏟 🏟<a", [("italic", 6, 1)]),
    ("🏟 🏟&lt;<b></b>", "🏟 🏟<", []),
    (
        '➡️ ➡️<span class = "tg-spoiler">➡️ ➡️</span><b>➡️ ➡️</b>',
        "➡️ ➡️➡️ ➡️➡️ ➡️",
        [("spoiler", 5, 5), ("bold", 10, 5)],
    ),
    ("<tg-spoiler>a</tg-spoiler>", "a", [("spoiler", 0, 1)]),
    (
        "<code><i><b> </b></i></code><i><b><code> </code></b></i>",
        "  ",
        [
            ("code", 0, 1),
            ("bold", 0, 1),
            ("italic", 0, 1),
            ("code", 1, 1),
            ("bold", 1, 1),
            ("italic", 1, 1),
        ],
    ),
    ("<a> </a>", " ", []),
    ("<a>telegram.org </a>", "telegram.org ", []),
    ("🏟 🏟&lt;<pre><code>🏟 🏟&lt;</code></>", "🏟 🏟<🏟 🏟<", [("pre", 6, 6), ("code", 6, 6)]),
    (
        '🏟 🏟&lt;<pre><code class="language-fift">🏟 🏟&lt;</> </>',
        "🏟 🏟<🏟 🏟< ",
        [("pre", 6, 7), ("code", 6, 6)],
    ),
    (
        '<blockquote   cite="" askdlbas nasjdbaj nj12b3>a&lt;<pre  >b;</></>',
        "a<b;",
        [("blockquote", 0, 4), ("pre", 2, 2)],
    ),
    (
        "<blockquote   expandable>a&lt;<pre  >b;</></>",
        "a<b;",
        [("expandable_blockquote", 0, 4), ("pre", 2, 2)],
    ),
]


@pytest.mark.parametrize("markup, error", REJECTED)
def test_markup_telegram_rejects_is_rejected_with_its_words(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)
    assert str(caught.value) == error


@pytest.mark.parametrize("markup, text, entities", ACCEPTED)
def test_markup_telegram_accepts_gives_its_text_and_entities(
    markup: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed = parse_html(markup)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


@pytest.mark.parametrize(
    "markup, extra",
    [
        ("<a href=telegram.org>x</a>", {"url": "http://telegram.org/"}),
        ("<a   href=  'telegram.org?&lt;'   >x</a>", {"url": "http://telegram.org/?<"}),
        (
            "<a>https://telegram.org/asdsa?asdasdwe#12e3we</a>",
            {"url": "https://telegram.org/asdsa?asdasdwe#12e3we"},
        ),
        ('<pre><code class="language-fift">x</code></pre>', {"language": "fift"}),
        ('<code class="language-fift"><pre>x</pre></code>', {"language": "fift"}),
        ('<tg-emoji emoji-id="54321">x</tg-emoji>', {"custom_emoji_id": "54321"}),
        (
            '<tg-time unix="12345" format="wD">x</tg-time>',
            {"unix_time": 12345, "date_time_format": "wD"},
        ),
    ],
)
def test_entities_carry_their_arguments(markup: str, extra: dict[str, object]) -> None:
    _, entities = parse_html(markup)
    assert len(entities) == 1 and extra.items() <= entities[0].items()


@pytest.mark.parametrize(
    "text, commands",
    [
        ("/start", [(0, 6)]),
        ("/status@agentos_bot now", [(0, 19)]),
        ("please /help me", [(7, 5)]),
        ("🏟 /go", [(3, 3)]),
        ("/start@ab", [(0, 6)]),  # a bot username has 3 to 32 characters
        ("a/b and path/to /x/y <br>/z", []),
    ],
)
def test_bot_commands_are_marked_as_telegram_marks_them(
    text: str, commands: list[tuple[int, int]]
) -> None:
    assert [(e["offset"], e["length"]) for e in bot_commands(text)] == commands
    assert all(e["type"] == "bot_command" for e in bot_commands(text))


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert (utf16_len("abc"), utf16_len("🏟"), utf16_len("é")) == (3, 2, 1)

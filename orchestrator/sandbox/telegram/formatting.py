"""Turn message text into Bot API entities the way Telegram does: HTML parse mode and /commands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

_TAGS = frozenset(
    (
        "a b strong i em s strike del u ins tg-spoiler span tg-emoji tg-time pre code blockquote"
    ).split()
)
_SIMPLE = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# TDLib orders entities that share a range by type; lower first (MessageEntity::get_type_priority).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 1,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\0"
_END = "\0"
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_DATE_FORMAT = re.compile(r"r|[wWdDtT]*")


class EntityParseError(ValueError):
    """Telegram's reason for rejecting the markup, worded as TDLib words it."""


def utf16_len(text: str) -> int:
    """Count UTF-16 code units, the unit of entity offsets and lengths."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def bot_commands(text: str) -> list[Entity]:
    """Return the `bot_command` entities Telegram adds to a message's text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _BOT_COMMAND.finditer(text)
    ]


def parse_html(markup: str) -> tuple[str, list[Entity]]:
    """Return the plain text and entities of HTML-formatted text, or raise EntityParseError."""
    return _HtmlParser(markup).run()


@dataclass
class _Open:
    tag: str
    argument: str
    expandable: bool
    attributes: dict[str, str]
    offset: int  # in UTF-16 code units
    start: int  # index into the parsed text


class _HtmlParser:
    """A port of the rules of TDLib's parse_html; `\\0` plays the C string terminator."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.s = markup + _END
        self.text: list[str] = []
        self.offset = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < len(self.markup):
            c = self.s[i]
            decoded = _decode_entity(self.s, i) if c == "&" else None
            if decoded is not None:
                self._emit(decoded[0])
                i = decoded[1]
            elif c != "<":
                self._emit(c)
                i += 1
            elif self.s[i + 1] == "/":
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        text = "".join(self.text)
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
        return text, [{k: v for k, v in e.items() if not k.startswith("_")} for e in self.entities]

    def _emit(self, char: str) -> None:
        self.text.append(char)
        self.offset += utf16_len(char)

    def _at(self, i: int) -> str:
        return self.s[i] if i < len(self.s) else _END

    def _byte(self, i: int) -> int:
        return len(self.markup[:i].encode("utf-8", "surrogatepass"))

    def _start_tag(self, begin: int) -> int:
        i = begin + 1
        while self._at(i) not in _SPACES and self._at(i) != ">":
            i += 1
        if self._at(i) == _END:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        tag = self.s[begin + 1 : i].lower()
        if tag not in _TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {self._byte(begin)}'
            )
        attributes: dict[str, str] = {}
        flags: set[str] = set()
        while self._at(i) != ">":
            i = self._attribute(begin, tag, i, attributes, flags)
        argument = _argument(tag, attributes)
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte(begin)}'
            )
        expandable = tag == "blockquote" and "expandable" in flags | attributes.keys()
        self.stack.append(_Open(tag, argument, expandable, attributes, self.offset, len(self.text)))
        return i + 1

    def _attribute(
        self, begin: int, tag: str, i: int, attributes: dict[str, str], flags: set[str]
    ) -> int:
        """Parse one `name`, `name=token` or `name="literal"`; return the index after it."""
        while self._at(i) != _END and self._at(i) in _SPACES:
            i += 1
        if self._at(i) == ">":
            return i
        if self._at(i) == _END:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        name_start = i
        while self._at(i) not in _SPACES and self._at(i) not in "=>":
            i += 1
        name = self.s[name_start:i]
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {self._byte(begin)}'
            )
        while self._at(i) != _END and self._at(i) in _SPACES:
            i += 1
        if self._at(i) != "=":
            flags.add(name)
            return i
        i += 1
        while self._at(i) != _END and self._at(i) in _SPACES:
            i += 1
        if self._at(i) == _END:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {self._byte(begin)}')
        value, i = self._attribute_value(i)
        if self._at(i) == _END:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        attributes[name] = value
        return i

    def _attribute_value(self, i: int) -> tuple[str, int]:
        quote = self._at(i)
        if quote not in "'\"":
            start = i
            while (self._at(i).isascii() and self._at(i).isalnum()) or self._at(i) in ".-":
                i += 1
            if self._at(i) not in _SPACES and self._at(i) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self._byte(start)}"
                )
            return self.s[start:i].lower(), i
        i += 1
        value: list[str] = []
        while self._at(i) not in (quote, _END):
            decoded = _decode_entity(self.s, i) if self._at(i) == "&" else None
            if decoded is not None:
                value.append(decoded[0])
                i = decoded[1]
            else:
                value.append(self.s[i])
                i += 1
        return "".join(value), i + 1 if self._at(i) == quote else i

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._byte(begin)}")
        i = begin + 2
        while self._at(i) not in _SPACES and self._at(i) != ">":
            i += 1
        name = self.s[begin + 2 : i]
        while self._at(i) != _END and self._at(i) in _SPACES:
            i += 1
        if self._at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {self._byte(begin)}")
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte(begin)}, "
                f'expected "</{opened.tag}>", found "</{name}>"'
            )
        if self.offset > opened.offset:
            self._close(opened)
        return i + 1

    def _close(self, opened: _Open) -> None:
        span: Entity = {"offset": opened.offset, "length": self.offset - opened.offset}
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and (last["offset"], last["length"]) == (
            span["offset"],
            span["length"],
        )
        if opened.tag in _SIMPLE:
            self.entities.append({"type": _SIMPLE[opened.tag], **span})
        elif opened.tag == "blockquote":
            self.entities.append(
                {"type": "expandable_blockquote" if opened.expandable else "blockquote", **span}
            )
        elif opened.tag == "tg-emoji":
            if not opened.argument.isdigit() or int(opened.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                {"type": "custom_emoji", **span, "custom_emoji_id": opened.argument}
            )
        elif opened.tag == "a":
            url = _normalize_link(opened.argument or "".join(self.text[opened.start :]))
            if url is not None:
                self.entities.append({"type": "text_link", **span, "url": url})
        elif opened.tag == "tg-time":
            self._close_time(opened, span)
        elif (
            opened.tag == "code"
            and same_range
            and last is not None
            and last["type"] == "pre"
            and opened.argument
        ):
            last["language"] = opened.argument  # <code class="language-x"><pre>..</pre></code>
        elif opened.tag == "code":
            self.entities.append({"type": "code", **span, "_language": opened.argument})
        elif same_range and last is not None and last["type"] == "code" and last["_language"]:
            self.entities[-1] = {"type": "pre", **span, "language": last["_language"]}
        else:
            self.entities.append({"type": "pre", **span})

    def _close_time(self, opened: _Open, span: Entity) -> None:
        unix, date_format = opened.attributes.get("unix", ""), opened.attributes.get("format", "")
        if not _DATE_FORMAT.fullmatch(date_format):
            raise EntityParseError("Invalid date format used")
        if unix.isdigit():
            entity = {"type": "date_time", **span, "unix_time": int(unix)}
            self.entities.append(
                entity | ({"date_time_format": date_format} if date_format else {})
            )


def _argument(tag: str, attributes: dict[str, str]) -> str:
    if tag == "a":
        return attributes.get("href", "")
    if tag == "tg-emoji":
        return attributes.get("emoji-id", "")
    prefix = {"code": "language-", "span": "tg-"}.get(tag)
    value = attributes.get("class", "")
    return value.removeprefix(prefix) if prefix and value.startswith(prefix) else ""


def _decode_entity(s: str, pos: int) -> tuple[str, int] | None:
    """Decode `&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric references; others stay as text."""
    end = pos + 1
    if s[end] == "#":
        end += 1
        digits, base = ("0123456789abcdefABCDEF", 16) if s[end] == "x" else ("0123456789", 10)
        end += base == 16
        start = end
        while end < len(s) and s[end] in digits:
            end += 1
        code = int(s[start:end], base) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(code)
    else:
        while end < len(s) and s[end].isascii() and s[end].isalpha():
            end += 1
        if s[pos + 1 : end] not in _NAMED:
            return None
        char = _NAMED[s[pos + 1 : end]]
    return char, end + 1 if s[end] == ";" else end


def _normalize_link(url: str) -> str | None:
    """Approximate TDLib's check_link: http(s) only, default scheme http, `/` after a bare host."""
    if not url or any(c.isspace() for c in url):
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    if scheme.lower() not in ("http", "https"):
        return None
    host = re.match(r"[^/?#]*", rest)
    assert host is not None
    if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z0-9-]+(:\d+)?", host.group()):
        return None
    path = rest[host.end() :]
    return (
        f"{scheme.lower()}://{host.group().lower()}{path if path.startswith('/') else '/' + path}"
    )

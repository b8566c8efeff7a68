"""Round-trip a YAML document with ruamel.yaml, keeping comments, order, quoting and indentation.

ruamel.yaml cannot read a file's indentation, so `load` tries the common layouts and keeps the
first one whose untouched round trip gives back the exact text; `Document.faithful` says whether
one did (when none does, the diff init shows before writing includes the reformatted lines).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from orchestrator.errors import ConfigError

# (mapping indent, sequence indent, dash offset): the common ones first, then every other;
# and how null is written.
_COMMON = ((2, 4, 2), (2, 2, 0), (4, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0))
LAYOUTS = _COMMON + tuple(
    (m, s, o)
    for m in (2, 3, 4)
    for s in range(2, 7)
    for o in range(s - 1)
    if (m, s, o) not in _COMMON
)
NULLS = ("null", "", "~")


@dataclass
class Document:
    data: CommentedMap
    layout: tuple[int, int, int]
    null: str
    faithful: bool

    def dump(self) -> str:
        """Return the document as text, in the layout it was read with."""
        return _dump(self.data, self.layout, self.null)


def _yaml(layout: tuple[int, int, int], null: str) -> YAML:
    yaml = YAML()  # round-trip
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.width = 4096  # never re-wrap a long line
    yaml.preserve_quotes = True
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", null)
    )
    return yaml


def _dump(data: Any, layout: tuple[int, int, int], null: str) -> str:
    out = io.StringIO()
    _yaml(layout, null).dump(data, out)
    return out.getvalue()


def load(text: str, source: str = "config.yaml") -> Document:
    """Parse `text` for editing; a file that is not a YAML mapping is a ConfigError."""
    try:
        data = _yaml(LAYOUTS[0], NULLS[0]).load(text) if text.strip() else CommentedMap()
    except YAMLError as error:
        raise ConfigError(source, [f"not valid YAML: {' '.join(str(error).split())}"]) from None
    if not isinstance(data, CommentedMap):
        raise ConfigError(source, [f"expected a mapping at the top, got {type(data).__name__}"])
    for layout in LAYOUTS:
        for null in NULLS:
            if _dump(data, layout, null) == text:
                return Document(data, layout, null, faithful=True)
    return Document(data, LAYOUTS[0], NULLS[0], faithful=not text.strip())


def child(node: CommentedMap, key: str) -> CommentedMap:
    """Return the mapping under `key`, creating an empty one at the end when absent."""
    value = node.get(key)
    if not isinstance(value, CommentedMap):
        value = CommentedMap()
        node[key] = value
    return value


def set_value(node: CommentedMap, key: str, value: Any, *, only_if_absent: bool = False) -> bool:
    """Set `key` (appended when new); True when the document changed."""
    if key in node and (only_if_absent or node[key] == value):
        return False
    node[key] = value
    return True


def append_unique(node: CommentedMap, key: str, items: Iterable[Any], *, flow: bool = True) -> bool:
    """Add each item missing from the list under `key` (creating the list); True when it changed."""
    current = node.get(key)
    if not isinstance(current, CommentedSeq):
        current = seq(list(current) if isinstance(current, list) else [], flow=flow)
        node[key] = current
    changed = False
    for item in items:
        if item not in current:
            current.append(item)
            changed = True
    return changed


def seq(items: Iterable[Any], *, flow: bool = True) -> CommentedSeq:
    """Return a list that dumps in flow style (`[a, b]`) unless told otherwise."""
    result = CommentedSeq(items)
    if flow:
        result.fa.set_flow_style()
    return result


def mapping(
    pairs: Iterable[tuple[str, Any]], comments: dict[str, str] | None = None
) -> CommentedMap:
    """Return a new mapping, with end-of-line comments on some of its keys."""
    result = CommentedMap(pairs)
    for key, comment in (comments or {}).items():
        result.yaml_add_eol_comment(comment, key)
    return result

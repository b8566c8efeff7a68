"""Find the config file and read it as plain YAML: the cheap step every cron tick takes first.

A tick while Agent OS is off must cost little more than starting Python, so this module uses
only `os` and `yaml` (imported when a file is read, with the `re` it loads anyway): no
dataclasses, no pathlib, none of the libraries a job needs. `config.load` validates what it reads.

Whatever the bytes, reading ends in a mapping or in a one-line ConfigError naming the file:
the size, the encoding and the nesting are checked before the parser sees the text (libyaml's
composer recurses, so a deep enough document kills the process), and the tree is walked once
when anchors could make it bigger than its text.
"""

from __future__ import annotations

import os
import stat

from orchestrator.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds a tick
    from collections.abc import Mapping
    from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout
MAX_BYTES = 1 << 20  # a config is a few KiB; a file this big is the wrong file
MAX_DEPTH = 64  # `[` and `{` open at once
MAX_INDENT = 200  # steps of block indentation on one line (a space, or `- `, `? `, `: `)
MAX_VALUES = 100_000  # values in the tree once anchors are expanded (the "billion laughs")
# The characters YAML refuses (PyYAML's NON_PRINTABLE): found first, to say on which line.
_UNPRINTABLE = "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
_CONTROLS = tuple(chr(i) for i in (*range(9), 11, 12, *range(14, 32), 127))  # those, in ASCII
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32"}
_BOMS |= {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def config_path(explicit: str | None, environ: Mapping[str, str]) -> str:
    """Return the config path: --config, then $AGENTOS_CONFIG, then config.yaml at the root."""
    chosen = explicit or environ.get("AGENTOS_CONFIG")
    if not chosen:
        return os.path.join(ROOT, "config.yaml")
    return os.path.abspath(os.path.expanduser(chosen))


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a YAML mapping; an unreadable, oversized or malformed file is one ConfigError line."""
    import yaml

    path = os.fspath(path)
    text = _text(path)
    problem = _character_problem(text) or _nesting_problem(text)
    if problem:
        raise ConfigError(path, [problem])
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ConfigError(path, [_yaml_problem(exc)]) from None
    except (ValueError, RecursionError) as exc:  # a bad date, a 5,000-digit number
        raise ConfigError(path, [f"holds a value YAML cannot read: {_first_part(exc)}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else type(data).__name__
        raise ConfigError(path, [f"expected a mapping at the top level, got {kind}"])
    if "&" in text:  # only anchors let a tree outgrow its text
        problem = _expansion_problem(data)
        if problem:
            raise ConfigError(path, [problem])
    return data


def state_dir(raw: Mapping[str, Any], config_file: str) -> str:
    """Return runtime/state for a parsed config (`paths.runtime_dir`, relative to the config)."""
    paths = raw.get("paths")
    runtime = paths.get("runtime_dir") if isinstance(paths, dict) else None
    if runtime is not None and (not isinstance(runtime, str) or not runtime.strip()):
        raise ConfigError(
            config_file, [f"paths.runtime_dir: expected a non-empty string, got {runtime!r:.60}"]
        )
    folder = os.path.expanduser(runtime or "runtime")
    return os.path.join(os.path.dirname(config_file), folder, "state")


def _text(path: str) -> str:
    """Return the file's text: a regular file of at most MAX_BYTES, in UTF-8."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(path, ["is a directory, expected a YAML file"])
        if not stat.S_ISREG(mode):  # a FIFO would block, a device would never end
            raise ConfigError(path, ["is not a regular file, expected a YAML file"])
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found (copy config.example.yaml to start)"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(path, [f"is larger than {MAX_BYTES >> 10} KiB: is it the right file?"])
    encoding = next((name for bom, name in _BOMS.items() if data.startswith(bom)), None)
    if encoding:
        raise ConfigError(path, [f"is {encoding} text; save it as UTF-8"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            path, [f"line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; save it as UTF-8"]
        ) from None


def _character_problem(text: str) -> str | None:
    if text.isascii() and not any(c in text for c in _CONTROLS):
        return None  # the common case, ten times faster than the expression
    import re

    found = re.search(_UNPRINTABLE, text)
    if found is None:
        return None
    return f"line {_line(text, found.start())}: holds the character {found.group()!r}"


def _nesting_problem(text: str) -> str | None:
    """Return where the text nests deeper than the parser may recurse, or None.

    Brackets inside quotes and comments count too: a balanced pair costs nothing, and no
    config opens 64 brackets it never closes.
    """
    import re

    depth = 0
    many = text.count("[") + text.count("{") > MAX_DEPTH
    for found in re.finditer(r"[][{}]", text) if many else ():
        if found.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                where = _line(text, found.start())
                return f"line {where}: nested deeper than {MAX_DEPTH} levels of brackets"
        elif depth:
            depth -= 1
    run = rf"[ \t?:-]{{{MAX_INDENT}}}"  # a quick look for a long indentation, then a precise one
    if not (re.match(run, text) or re.search(rf"\n{run}", text)):
        return None
    deep = re.search(rf"^(?:[ \t]|[-?:][ \t]){{{MAX_INDENT}}}", text, re.MULTILINE)
    if deep:
        return f"line {_line(text, deep.start())}: indented deeper than {MAX_INDENT} levels"
    return None


def _expansion_problem(data: Any) -> str | None:
    walk = _Walk()
    size = walk.size(data, 0)
    if walk.problem is None and size > MAX_VALUES:
        return f"its aliases expand to more than {MAX_VALUES} values"
    return walk.problem


class _Walk:
    """Count the values of a tree as if every alias were copied out, walking shared ones once.

    An alias bomb then costs as little as its text, and the count stops once past MAX_VALUES.
    Aliases can also nest deeper than the text does (each anchor holding the one before), or
    in a loop: both are refused, as anything walking the tree later would not return.
    """

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()  # the containers being walked: one met again is a loop
        self.problem: str | None = None

    def size(self, node: Any, depth: int) -> int:
        if isinstance(node, dict):
            children = [*node, *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            return 1
        key = id(node)
        if key in self.open:
            self.problem = "an alias refers to a value that contains it"
        elif depth > MAX_DEPTH + MAX_INDENT:
            self.problem = f"its aliases nest values deeper than {MAX_DEPTH + MAX_INDENT} levels"
        if self.problem:
            return MAX_VALUES + 1
        if key not in self.sizes:
            self.open.add(key)
            total = 1
            for child in children:
                total += self.size(child, depth + 1)
                if total > MAX_VALUES:
                    break
            self.open.discard(key)
            self.sizes[key] = total
        return self.sizes[key]


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "malformed YAML"
    return f"{where}{_first_part(problem)}"


def _first_part(message: object) -> str:
    """Return a message's first line, without the advice Python appends after a `;`."""
    text = str(message).splitlines()[0] if str(message) else "no details"
    return text.split("; use sys.", 1)[0]


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1

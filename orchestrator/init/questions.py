"""Ask the user questions, the same way on a terminal and from an answers file.

Every question has a dotted key (`repository.name`); the answers file is those keys as nested
YAML. Each answer goes through one parser: a bad one gets a one-line reason and the same
question again. From an answers file there is nobody to ask again, so a bad answer stops the
run with that reason (exit 2).
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO, TypeVar

from orchestrator.core.redact import redact
from orchestrator.errors import InvalidAnswer, UsageError
from orchestrator.ports_init import AnswerSource

T = TypeVar("T")
Parse = Callable[[str], T]
_YES, _NO = ("y", "yes", "true", "on", "1"), ("n", "no", "false", "off", "0")
# The questions an answers file may answer with a list: a command line, as its argv.
ARGV_KEYS = frozenset({"agent.command"})


class Terminal:
    """Answers typed by a person: prompts go to `out`, lines come from `inp`; secrets not echoed."""

    interactive = True

    def __init__(self, inp: TextIO, out: TextIO) -> None:
        self.inp, self.out = inp, out

    def read(self, key: str, prompt: str, *, secret: bool) -> str | None:
        if secret and _is_tty(self.inp):
            return getpass.getpass(prompt, stream=self.out)
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        if not line:  # end of input (Ctrl-D): nobody is left to answer
            raise EOFError("no more input")
        return line.rstrip("\r\n")


class Answers:
    """Answers from a YAML file; each question and its answer are echoed as if typed."""

    interactive = False

    def __init__(
        self, answers: Mapping[str, object], out: TextIO, environ: Mapping[str, str]
    ) -> None:
        self.answers, self.out, self.environ = dict(answers), out, environ
        self.used: set[str] = set()

    def read(self, key: str, prompt: str, *, secret: bool) -> str | None:
        self.used.add(key)
        value = self.answers.get(key)
        text = None if value is None else _scalar(key, value)
        if secret and text is not None:
            text = _from_environment(key, text, self.environ)
        shown = "" if text is None else ("*" * 8 if secret else text)
        self.out.write(f"{prompt}{shown}\n")
        return text

    def unused(self) -> list[str]:
        """Return the keys the file gave that no question asked for (likely typos)."""
        return sorted(set(self.answers) - self.used)


def _scalar(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list) and key in ARGV_KEYS:  # joined as a shell would quote them
        if all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
            return shlex.join(str(v) for v in value)
        raise UsageError(
            f"answers file: {key}: expected a list of strings "
            '(quote a placeholder: "{worktree}", or YAML reads a mapping)'
        )
    raise UsageError(f"answers file: {key}: expected a single value, got {type(value).__name__}")


def _from_environment(key: str, text: str, environ: Mapping[str, str]) -> str:
    """Let an answers file name a secret as `$VAR` instead of holding it."""
    match = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text)
    if match is None:
        return text
    if not environ.get(match.group(1)):
        raise UsageError(f"answers file: {key}: ${match.group(1)} is not set")
    return environ[match.group(1)]


def flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Turn nested answers into dotted keys: {"board": {"number": 3}} -> {"board.number": 3}."""
    flat: dict[str, object] = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _is_tty(stream: TextIO) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class Prompter:
    """Asks questions through an AnswerSource; writes the rest (headers, plans, notes) to `out`."""

    def __init__(self, source: AnswerSource, out: TextIO) -> None:
        self.source, self.out = source, out

    @property
    def interactive(self) -> bool:
        return self.source.interactive

    def say(self, text: str = "") -> None:
        """Print a line (or several) of output, with anything secret-shaped masked."""
        self.out.write(redact(text) + "\n")
        self.out.flush()

    def ask(
        self,
        key: str,
        question: str,
        parse: Parse[T],
        default: str | None = None,
        *,
        shown: str | None = None,
        secret: bool = False,
    ) -> T:
        """Ask until `parse` accepts the answer; an empty answer means `default`, parsed alike."""
        hint = shown if shown is not None else (default or "")
        prompt = f"{question} [{hint}]: " if hint else f"{question}: "
        while True:
            raw = self.source.read(key, prompt, secret=secret)
            text = raw.strip() if raw is not None and raw.strip() else default
            if text is None:
                problem = "an answer is needed here"
            else:
                try:
                    return parse(text)
                except InvalidAnswer as bad:
                    problem = str(bad)
            self.say(f"  ! {problem}")
            if not self.source.interactive:
                raise UsageError(f"answers file: {key}: {problem}")

    def text(
        self,
        key: str,
        question: str,
        default: str | None = None,
        check: Callable[[str], str] | None = None,
    ) -> str:
        """Ask for free text; `check` may reject it (raise InvalidAnswer) or normalise it."""
        return self.ask(key, question, check or _keep, default)

    def integer(self, key: str, question: str, default: int | None = None, minimum: int = 1) -> int:
        """Ask for a whole number >= minimum."""
        return self.ask(
            key,
            question,
            lambda s: parse_integer(s, minimum),
            None if default is None else str(default),
        )

    def choice(
        self, key: str, question: str, options: Sequence[str], default: str | None = None
    ) -> str:
        """Ask for one of `options` (a unique prefix is enough)."""
        shown = "/".join(o.upper() if o == default else o for o in options)
        return self.ask(key, question, lambda s: parse_choice(s, options), default, shown=shown)

    def confirm(self, key: str, question: str, default: bool = True) -> bool:
        """Ask a yes/no question."""
        return self.ask(
            key,
            question,
            parse_yes_no,
            "yes" if default else "no",
            shown="Y/n" if default else "y/N",
        )

    def secret(self, key: str, question: str, parse: Parse[T]) -> T:
        """Ask for a secret: not echoed, never defaulted, never written by the prompt layer."""
        return self.ask(key, question, parse, None, secret=True)


def _keep(text: str) -> str:
    return text


def parse_integer(text: str, minimum: int = 1) -> int:
    """Return the whole number in `text`, or raise InvalidAnswer saying what was expected."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise InvalidAnswer(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise InvalidAnswer(f"expected a whole number of at least {minimum}, got {value}")
    return value


def parse_choice(text: str, options: Sequence[str]) -> str:
    """Return the option `text` names or uniquely begins, or raise InvalidAnswer listing them."""
    word = text.strip().lower()
    exact = [o for o in options if o.lower() == word]
    matches = exact or [o for o in options if o.lower().startswith(word)]
    if len(matches) != 1:
        raise InvalidAnswer(f"expected one of {', '.join(options)}, got {text!r}")
    return matches[0]


def parse_yes_no(text: str) -> bool:
    """Return True for yes, False for no, or raise InvalidAnswer."""
    word = text.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise InvalidAnswer(f"expected yes or no, got {text!r}")


def parse_url(text: str) -> str:
    """Return an http(s) URL without its trailing slash, or raise InvalidAnswer."""
    if not text.startswith(("http://", "https://")):
        raise InvalidAnswer(f"expected an http(s) URL, got {text!r}")
    return text.rstrip("/")

"""What a scripted model answers: turns of text and tool calls, errors, played per conversation."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

Json = object  # a decoded JSON value; the wire modules narrow it where they read it


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call the model makes: the tool's name as the client offered it, and its input."""

    name: str
    input: Mapping[str, Json]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What the client sent back for one tool call.

    The output as text, and whether it reports a failure.
    """

    call_id: str
    output: str
    is_error: bool


Predicate = Callable[[tuple[ToolResult, ...]], bool]


@dataclass(frozen=True, slots=True)
class Turn:
    """One assistant reply: text, then tool calls.

    With `when`, the turn plays only if `when` holds for the latest results. A turn whose `when` is
    false is skipped for good, so `[run_tests, Turn(fix, when=failed), finish]` fixes only after a
    failing run.
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    when: Predicate | None = None

    @property
    def stop_reason(self) -> str:
        """Return why the reply ends, in Anthropic's words."""
        return "tool_use" if self.tool_calls else "end_turn"


@dataclass(frozen=True, slots=True)
class Fail:
    """A scripted API error.

    `kind` overrides the error type the status implies; a sticky one never ends.
    """

    status: int = 429
    message: str = "Number of requests has exceeded your rate limit. Please try again later."
    retry_after: int | None = None
    kind: str | None = None
    sticky: bool = False


Step = Turn | Fail
EXHAUSTED = Turn(text="The sandbox script has no more turns.")


class Player(Protocol):
    """What a model sandbox plays its conversations from: a Script, or a ScriptBook of them."""

    def next(
        self, conversation: str, results: tuple[ToolResult, ...], opening: str = ""
    ) -> Step | None:
        """Return the step that answers this request of `conversation`.

        None: nothing left to play.
        """


class Script:
    """Plays the same steps from the start in every conversation, safely across server threads."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = tuple(steps)
        self._positions: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(
        self, conversation: str, results: tuple[ToolResult, ...], opening: str = ""
    ) -> Step | None:
        """Return the step that answers this request of `conversation`.

        None: the script is exhausted. `opening` (the text the conversation opened with) does not
        matter to a single script.
        """
        with self._lock:
            position = self._positions.get(conversation, 0)
            while position < len(self.steps):
                step = self.steps[position]
                if isinstance(step, Fail) and step.sticky:
                    break
                position += 1
                if isinstance(step, Fail) or step.when is None or step.when(results):
                    break
            else:
                step = None
            self._positions[conversation] = position
            return step


class ScriptBook:
    """Plays a script per conversation: the first whose pattern its opening text matches.

    Patterns are regular expressions. A conversation is matched on its first request and keeps
    that script to the end; one that matches no pattern plays `default` (and with no default,
    nothing: the server reports the script exhausted). This is how one server answers several
    tasks, each prompt naming its own issue.
    """

    def __init__(
        self, scripts: Iterable[tuple[str, Iterable[Step]]], default: Iterable[Step] = ()
    ) -> None:
        self.scripts = tuple((re.compile(pattern), Script(steps)) for pattern, steps in scripts)
        self.default = Script(default)
        self._chosen: dict[str, tuple[str | None, Script]] = {}
        self._lock = threading.Lock()

    def next(
        self, conversation: str, results: tuple[ToolResult, ...], opening: str = ""
    ) -> Step | None:
        """Return the next step of the script this conversation matched (matching it now if new)."""
        with self._lock:
            if conversation not in self._chosen:
                found = next(
                    ((p.pattern, s) for p, s in self.scripts if p.search(opening)),
                    (None, self.default),
                )
                self._chosen[conversation] = found
            script = self._chosen[conversation][1]
        return script.next(conversation, results)

    def matched(self) -> dict[str, str | None]:
        """Return each conversation so far and the pattern it was matched by (None: the default)."""
        with self._lock:
            return {conversation: pattern for conversation, (pattern, _) in self._chosen.items()}


def failed(results: tuple[ToolResult, ...]) -> bool:
    """Tell whether any of the latest tool results reports a failure."""
    return any(result.is_error for result in results)


def succeeded(results: tuple[ToolResult, ...]) -> bool:
    """Tell whether there are tool results and none of them reports a failure."""
    return bool(results) and not failed(results)


def output_contains(text: str) -> Predicate:
    """Return a predicate: does any of the latest tool outputs contain `text`?"""
    return lambda results: any(text in result.output for result in results)

"""Name the board's statuses: option names per board, `status:*` labels, required options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.core.model import BoardStatus

# The config keys for renames (`status_names: {ready: Todo}`): the statuses' names in lower case.
STATUS_KEYS: Mapping[str, BoardStatus] = {status.name.lower(): status for status in BoardStatus}
DEFAULT_NAMES: Mapping[BoardStatus, str] = {status: status.value for status in BoardStatus}

# When an issue carries several `status:*` labels (a person forgot one), the one furthest along
# wins: reading a stale "Ready" next to "In Progress" must never dispatch an issue twice.
LABEL_PRECEDENCE = (
    BoardStatus.DONE,
    BoardStatus.IN_REVIEW,
    BoardStatus.IN_PROGRESS,
    BoardStatus.BLOCKED,
    BoardStatus.READY,
    BoardStatus.BACKLOG,
)

# Colours for the options `agentos init` adds (GitHub's ProjectV2SingleSelectFieldOptionColor) and
# for the `status:*` labels (hex), with one line saying what each status means.
OPTION_COLOURS: Mapping[BoardStatus, str] = {
    BoardStatus.BACKLOG: "GRAY",
    BoardStatus.READY: "GREEN",
    BoardStatus.IN_PROGRESS: "YELLOW",
    BoardStatus.IN_REVIEW: "BLUE",
    BoardStatus.BLOCKED: "RED",
    BoardStatus.DONE: "PURPLE",
}
LABEL_COLOURS: Mapping[BoardStatus, str] = {
    BoardStatus.BACKLOG: "d4c5f9",
    BoardStatus.READY: "0e8a16",
    BoardStatus.IN_PROGRESS: "fbca04",
    BoardStatus.IN_REVIEW: "1d76db",
    BoardStatus.BLOCKED: "b60205",
    BoardStatus.DONE: "5319e7",
}
DESCRIPTIONS: Mapping[BoardStatus, str] = {
    BoardStatus.BACKLOG: "Not ready to be worked on yet",
    BoardStatus.READY: "Agent OS may pick this up",
    BoardStatus.IN_PROGRESS: "An agent is working on it",
    BoardStatus.IN_REVIEW: "A pull request is open",
    BoardStatus.BLOCKED: "Waiting for a person or another issue",
    BoardStatus.DONE: "Finished",
}


def status_names(renames: Mapping[str, str]) -> dict[BoardStatus, str]:
    """Return each status's option name: the default unless `renames` says otherwise.

    The default is `Ready`; `renames` looks like `{ready: Todo}`.

    ValueError names an unknown key, an empty name, or two statuses given the same name.
    """
    names = dict(DEFAULT_NAMES)
    for key, name in renames.items():
        status = STATUS_KEYS.get(key.strip().lower())
        if status is None:
            raise ValueError(f"unknown status {key!r} (known: {', '.join(STATUS_KEYS)})")
        if not name.strip():
            raise ValueError(f"the name for {key!r} is empty")
        names[status] = name.strip()
    seen: dict[str, BoardStatus] = {}
    for status, name in names.items():
        if _fold(name) in seen:
            raise ValueError(
                f"{seen[_fold(name)].name.lower()} and {status.name.lower()} "
                f"are both named {name!r}"
            )
        seen[_fold(name)] = status
    return names


def status_for(option: str | None, names: Mapping[BoardStatus, str]) -> BoardStatus | None:
    """Return the status an option name stands for (trimmed, any case).

    None for an option we do not use.
    """
    if option is None:
        return None
    wanted = _fold(option)
    return next((status for status, name in names.items() if _fold(name) == wanted), None)


def status_from_labels(labels: Iterable[str]) -> BoardStatus | None:
    """Return the status `status:*` labels give an issue, or None.

    When several do, the one furthest along wins.
    """
    present = {label.strip().lower() for label in labels}
    return next((status for status in LABEL_PRECEDENCE if status.label in present), None)


@dataclass(frozen=True, slots=True)
class Option:
    """A single-select option to send: an existing one keeps its id (and so the items set to it)."""

    name: str
    color: str
    description: str
    id: str | None = None


def options_to_send(
    existing: Sequence[Option], names: Mapping[BoardStatus, str]
) -> list[Option] | None:
    """Return the Status options a board must end up with, or None when it has every one already.

    Every existing option stays, in its place and with its id (GitHub drops the item values of an
    option sent without its id); the statuses it lacks are appended in lifecycle order.
    """
    have = {_fold(option.name) for option in existing}
    missing = [
        Option(names[status], OPTION_COLOURS[status], DESCRIPTIONS[status])
        for status in BoardStatus
        if _fold(names[status]) not in have
    ]
    return [*existing, *missing] if missing else None


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()

"""What the init steps learn and hand on to later steps; how it is kept in runtime/state/init.json.

The file never holds a secret: only the names of the variables that hold them. It is written
atomically after every step (and inside long steps), so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from orchestrator.errors import StateError
from orchestrator.store.files import atomic_write

VERSION = 1


@dataclass
class Preflight:
    login: str
    api_url: str
    token_var: str
    agents: dict[str, bool] = field(default_factory=dict)  # CLI name -> authenticated


@dataclass
class ChosenBackend:
    """The agent backend a new config gets; the config names a key's variable, never the key."""

    type: str  # claude | codex | anthropic | command
    argv: list[str] = field(default_factory=list)  # command: the program and its arguments
    key_var: str = ""  # anthropic: the variable that holds the API key


@dataclass
class Intake:
    idea: str
    kind: str
    stack: str
    first_user: str
    success: str


@dataclass
class Repository:
    full_name: str
    key: str
    default_branch: str
    html_url: str
    created: bool  # by this run
    exists: bool = True  # False only in a dry run, before the create


@dataclass
class BoardRecord:
    owner: str
    number: int | None  # None only in a dry run, before the create
    title: str
    url: str


@dataclass
class SeedIssue:
    title: str
    number: int | None  # None until created
    blocked_by: list[int] = field(default_factory=list)  # indexes of seeds


@dataclass
class CharterRecord:
    source: str  # "model" | "template"
    issues: list[SeedIssue] = field(default_factory=list)
    first: int = 0  # index of the issue that runs first
    draft: dict[str, Any] | None = (
        None  # the accepted draft, so a resumed run opens the same issues
    )


@dataclass
class Pairing:
    api_url: str
    token_var: str
    bot: str
    chat_id: int | None
    user_id: int | None
    chat_title: str = ""


@dataclass
class Tuning:
    changes: dict[str, Any] = field(default_factory=dict)  # dotted config key -> new value


@dataclass
class Written:
    config: str
    backup: str | None
    env_file: str | None
    problems: list[str] = field(default_factory=list)  # what `bin/agentos check` says of it


@dataclass
class Session:
    preflight: Preflight | None = None
    backend: ChosenBackend | None = None
    intake: Intake | None = None
    repository: Repository | None = None
    board: BoardRecord | None = None
    charter: CharterRecord | None = None
    pairing: Pairing | None = None
    tuning: Tuning | None = None
    written: Written | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the session as plain JSON values."""
        return {
            f.name: (None if getattr(self, f.name) is None else asdict(getattr(self, f.name)))
            for f in fields(self)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        """Rebuild a session written by to_json."""
        kinds = {
            "preflight": Preflight,
            "backend": ChosenBackend,
            "intake": Intake,
            "repository": Repository,
            "board": BoardRecord,
            "pairing": Pairing,
            "tuning": Tuning,
            "written": Written,
        }
        session = cls()
        for name, kind in kinds.items():
            if data.get(name) is not None:
                setattr(session, name, kind(**data[name]))
        if data.get("charter") is not None:
            raw = dict(data["charter"])
            raw["issues"] = [SeedIssue(**issue) for issue in raw.get("issues", [])]
            session.charter = CharterRecord(**raw)
        return session


@dataclass
class Progress:
    """The resume state: which steps are done or skipped, and the session so far."""

    config: str
    started: str
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    finished: bool = False
    session: Session = field(default_factory=Session)

    def to_text(self) -> str:
        """Return the file's JSON text."""
        data = {
            "version": VERSION,
            "config": self.config,
            "started": self.started,
            "done": self.done,
            "skipped": self.skipped,
            "finished": self.finished,
            "session": self.session.to_json(),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load(path: Path) -> Progress | None:
    """Return the saved progress, or None when there is none; StateError names a damaged file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise StateError(
            f"{path}: cannot read the saved init progress ({error}); delete it to start over"
        ) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise StateError(
            f"{path}: not init progress this version can read; delete it to start over"
        )
    try:
        return Progress(
            config=str(data["config"]),
            started=str(data["started"]),
            done=list(data["done"]),
            skipped=list(data["skipped"]),
            finished=bool(data["finished"]),
            session=Session.from_json(data["session"]),
        )
    except (KeyError, TypeError) as error:
        raise StateError(
            f"{path}: damaged init progress ({error}); delete it to start over"
        ) from None


def save(path: Path, progress: Progress) -> None:
    """Write the progress atomically (mode 0600, like every file atomic_write makes)."""
    atomic_write(path, progress.to_text())

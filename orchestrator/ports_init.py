"""The Protocols `agentos init` depends on; `wiring.init_services` builds the real ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from orchestrator.core.model import ChatMessage, Identity, Issue, IssueRef, Project, RepoInfo
from orchestrator.ports import Board, BoardAdmin

Edit = Callable[[str | None], str]  # a file's content now (None: absent) -> what it should be


class GitHubSetup(Protocol):
    """The GitHub reads and writes of init (REST and git); methods raise TrackerError on failure."""

    def identity(self) -> Identity:
        """Return who the token belongs to and its scopes; Rejected when GitHub refuses it."""

    def owner_type(self, login: str) -> str | None:
        """Return "User" or "Organization", or None when no such account exists."""

    def repository(self, full_name: str) -> RepoInfo | None:
        """Return the repository, or None when it does not exist or the token cannot see it."""

    def create_repository(self, owner: str, name: str, private: bool) -> RepoInfo:
        """Create a repository with a first commit, for the token's user or an organization."""

    def labels(self, repo: str) -> set[str]:
        """Return the repository's label names, lower-cased."""

    def ensure_labels(self, repo: str, labels: Mapping[str, str]) -> None:
        """Create each missing `name -> colour` label."""

    def publish(self, repo: RepoInfo, edits: Mapping[str, Edit], message: str) -> bool:
        """Commit the edited files to the default branch and push; False when nothing changed."""

    def open_issues(self, repo: str) -> list[Issue]:
        """Return the open issues (not pull requests)."""

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str]) -> Issue:
        """Open an issue."""

    def blockers(self, issue: Issue) -> tuple[IssueRef, ...]:
        """Return the issues GitHub records as blocking this one."""

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Record `blocker` as blocking `ref` (idempotent)."""

    def webhooks(self, repo: str) -> list[RepoHook]:
        """Return the repository's webhooks (admin rights needed: TrackerError without them)."""

    def save_webhook(
        self, repo: str, url: str, secret: str, events: Sequence[str], hook_id: int | None
    ) -> RepoHook:
        """Create a webhook (`hook_id` None) or update that one: JSON, SSL verified, active."""


@dataclass(frozen=True)
class RepoHook:
    """A repository webhook as GitHub shows it: never its secret, only whether it has one."""

    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    content_type: str
    has_secret: bool


@dataclass(frozen=True)
class BoardTools:
    """The Projects (v2) side of init: the admin port, and a board to place the seed issues on."""

    admin: BoardAdmin
    board: Callable[[Project, str], Board]  # (the board, the repo its issues come from)
    close: Callable[[], None] = lambda: None  # closes the connections behind both


class TelegramPairing(Protocol):
    """The few Bot API calls pairing makes."""

    def bot_username(self, api_url: str, token: str) -> str:
        """Return the bot's @username; Rejected when Telegram refuses the token."""

    def next_message(self, api_url: str, token: str, wait_seconds: int) -> ChatMessage | None:
        """Return the oldest unconfirmed message sent to the bot, waiting up to `wait_seconds`."""

    def confirm(self, api_url: str, token: str, update_id: int) -> None:
        """Mark updates up to `update_id` as handled, so the control bot does not see them again."""

    def send(self, api_url: str, token: str, chat_id: int, text: str) -> None:
        """Send a plain-text message."""


class Drafter(Protocol):
    """A model that drafts a charter from the intake."""

    def draft(self, api_key: str, base_url: str | None, model: str, intake: str) -> object:
        """Return the draft as decoded JSON; raise Rejected (with a one-line reason) on failure."""


@dataclass(frozen=True)
class Services:
    """Factories for the real (or, in tests, pointed-at-a-sandbox) services."""

    github: Callable[[str, str], GitHubSetup]  # (api_url, token)
    board: Callable[[str, str], BoardTools]  # (api_url, token): GraphQL is derived from it
    telegram: TelegramPairing
    drafter: Drafter


class AnswerSource(Protocol):
    """Where answers come from: a person at a terminal, or an answers file."""

    interactive: bool

    def read(self, key: str, prompt: str, *, secret: bool) -> str | None:
        """Return the raw answer to `prompt` (None: no answer, take the default)."""

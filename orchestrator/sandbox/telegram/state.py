"""Keep the sandbox's chats, messages and update queue behind one lock, optionally saved as JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.sandbox.telegram.errors import bad_request, conflict
from orchestrator.store.files import atomic_write

Obj = dict[str, Any]
STATE_FILE = "telegram-sandbox.json"
# What Telegram sends when allowed_updates is empty or was never given.
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SAVED = (
    "chats",
    "messages",
    "last_message_id",
    "updates",
    "next_update_id",
    "allowed_updates",
    "commands",
    "callback_queries",
    "next_query_id",
)


class Store:
    """The Bot API's server-side state.

    Hold `cond` for any read-modify-write; getUpdates waits on it.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        # Re-entrant: a method runs holding it and calls Store methods that take it again;
        # Condition.wait releases every level, so a waiting long poll blocks no one.
        self.cond = threading.Condition(threading.RLock())
        self.chats: dict[str, Obj] = {}  # JSON object keys are strings, so chat ids are too
        self.messages: dict[str, list[Obj]] = {}
        self.last_message_id: dict[str, int] = {}
        self.updates: list[Obj] = []  # not yet confirmed by an offset
        self.next_update_id = 1
        self.allowed_updates: list[str] = []
        self.commands: dict[str, list[Obj]] = {}
        self.callback_queries: dict[
            str, Obj | None
        ] = {}  # query id -> the bot's answer, once given
        self.next_query_id = 1
        self.closed = False
        self._poll_generation = 0
        self._path = data_dir / STATE_FILE if data_dir else None
        self._saved = ""
        if self._path and self._path.exists():
            self._saved = self._path.read_text(encoding="utf-8")
            saved = json.loads(self._saved)
            for name in _SAVED:
                setattr(self, name, saved[name])

    def save(self) -> None:
        """Write the state atomically when a data directory was given and something changed."""
        if self._path is None:
            return
        with self.cond:
            data = json.dumps({name: getattr(self, name) for name in _SAVED}, ensure_ascii=False)
            if data != self._saved:
                atomic_write(self._path, data)
                self._saved = data

    def remember_chat(self, chat: Obj) -> None:
        """Record a chat the bot has seen, so it may write there."""
        with self.cond:
            self.chats[str(chat["id"])] = chat

    def chat(self, ref: int | str) -> Obj:
        """Find a chat by id or `@username`, or fail as Telegram does."""
        with self.cond:
            if isinstance(ref, int) and str(ref) in self.chats:
                return self.chats[str(ref)]
            if isinstance(ref, str) and ref.startswith("@"):
                for chat in self.chats.values():
                    if chat.get("username", "").lower() == ref[1:].lower():
                        return chat
            raise bad_request("chat not found")

    def add_message(self, chat_id: int, build: Callable[[int], Obj]) -> Obj:
        """Store the message `build(message_id)` returns, numbered after the chat's last one."""
        with self.cond:
            key = str(chat_id)
            self.last_message_id[key] = self.last_message_id.get(key, 0) + 1
            message = build(self.last_message_id[key])
            self.messages.setdefault(key, []).append(message)
            return message

    def message(self, chat_id: int, message_id: int) -> Obj | None:
        """Return a message still in the chat, or None."""
        with self.cond:
            found = [
                m for m in self.messages.get(str(chat_id), []) if m["message_id"] == message_id
            ]
            return found[0] if found else None

    def replace_message(self, message: Obj) -> None:
        """Swap in an edited copy; stored messages never change, so readers may keep old ones."""
        with self.cond:
            chat = self.messages[str(message["chat"]["id"])]
            chat[:] = [message if m["message_id"] == message["message_id"] else m for m in chat]

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Remove a message from its chat."""
        with self.cond:
            chat = self.messages.get(str(chat_id), [])
            chat[:] = [m for m in chat if m["message_id"] != message_id]

    def chat_messages(self, chat_id: int) -> list[Obj]:
        """Return the chat's messages, oldest first."""
        with self.cond:
            return list(self.messages.get(str(chat_id), []))

    def open_query(self, prefix: int) -> str:
        """Return a new callback query id, awaiting its answer."""
        with self.cond:
            query_id = str(prefix * 1_000_000 + self.next_query_id)
            self.next_query_id += 1
            self.callback_queries[query_id] = None
            return query_id

    def answer_query(self, query_id: str, answer: Obj) -> bool:
        """Record the bot's answer; False if the query is unknown or was answered already."""
        with self.cond:
            if query_id not in self.callback_queries or self.callback_queries[query_id] is not None:
                return False
            self.callback_queries[query_id] = answer
            return True

    def push_update(self, kind: str, payload: Obj) -> Obj | None:
        """Queue an update and wake the long poll.

        None if the bot's allowed_updates exclude its kind.
        """
        with self.cond:
            if not self._allows(kind):
                return None  # Telegram does not create updates the bot did not ask for
            update = {"update_id": self.next_update_id, kind: payload}
            self.next_update_id += 1
            self.updates.append(update)
            self.cond.notify_all()
            return update

    def poll(self, offset: int, limit: int, timeout: float, allowed: list[str] | None) -> list[Obj]:
        """Confirm updates below `offset`; wait up to `timeout` s for at most `limit` updates."""
        with self.cond:
            self._poll_generation += 1
            generation = self._poll_generation
            self.cond.notify_all()  # an older poll still waiting must now give up with 409
            if allowed is not None:
                self.allowed_updates = allowed
            self._confirm(offset)
            deadline = time.monotonic() + timeout
            while True:
                if generation != self._poll_generation:
                    raise conflict()
                remaining = deadline - time.monotonic()
                if self.updates or self.closed or remaining <= 0:
                    return self.updates[:limit]
                self.cond.wait(remaining)

    def drop_pending(self) -> None:
        """Forget every unconfirmed update (deleteWebhook with drop_pending_updates)."""
        with self.cond:
            self.updates.clear()

    def reopen(self) -> None:
        """Let long polls wait again after `close`."""
        with self.cond:
            self.closed = False

    def close(self) -> None:
        """Release every waiting long poll: the server is going away."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates[:] = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates[:] = self.updates[offset:]

    def _allows(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED


def now() -> int:
    """Return Unix time in seconds, the unit of every Bot API date."""
    return int(time.time())


@dataclass(frozen=True)
class Context:
    """What a method needs: the state and the bot's own identity."""

    store: Store
    me: Obj  # the User that getMe returns

    @property
    def sender(self) -> Obj:
        """Return the bot as it appears in `Message.from`, without getMe's extra fields."""
        return {key: self.me[key] for key in ("id", "is_bot", "first_name", "username")}

"""The Telegram sandbox: a local Bot API server, its request pipeline, hooks that play the users."""

from __future__ import annotations

import copy
import threading
from collections import Counter, deque
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.sandbox.telegram import messages
from orchestrator.sandbox.telegram.errors import ApiError, Unsupported, bad_request
from orchestrator.sandbox.telegram.faults import Fault, FaultPlan
from orchestrator.sandbox.telegram.methods import METHODS, bot_user
from orchestrator.sandbox.telegram.server import BotApiServer, Reply
from orchestrator.sandbox.telegram.state import Context, Obj, Store
from orchestrator.sandbox.telegram.validation import Validator, Violation

DEFAULT_TOKEN = "123456789:AAsandbox-token_for-local-tests"
DEFAULT_USERNAME = "agentos_sandbox_bot"


class TelegramSandbox:
    """A Bot API stand-in on 127.0.0.1 that PTB can long-poll.

    `strict` answers violations with 500.
    """

    def __init__(
        self,
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        *,
        data_dir: Path | str | None = None,
        strict: bool = False,
        bot_username: str = DEFAULT_USERNAME,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.strict = strict
        self.host, self.port = host, port
        self._store = Store(Path(data_dir) if data_dir is not None else None)
        self._ctx = Context(
            self._store, bot_user(int(token.split(":")[0]), bot_username, "Agent OS Sandbox")
        )
        self._validator = Validator()
        self._faults = FaultPlan()
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._history: deque[str] = deque(maxlen=1000)
        self._violations: list[Violation] = []
        self._server: BotApiServer | None = None

    @property
    def base_url(self) -> str:
        """What PTB's `ApplicationBuilder.base_url` takes: the token and method are appended."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def url(self) -> str:
        """The server's root; the control endpoint lives under `/_sandbox/`."""
        return f"http://{self.host}:{self.port}"

    @property
    def bot(self) -> Obj:
        """The bot's User, as getMe returns it."""
        return copy.deepcopy(self._ctx.me)

    def start(self) -> str:
        """Serve in a background thread; return `base_url` (with the real port when port was 0).

        A stopped sandbox may start again, on the same port and with its state: Telegram came back.
        """
        self._store.reopen()
        self._server = BotApiServer((self.host, self.port), self)
        self.port = self._server.port
        self._server.serve_in_background("telegram-sandbox")
        return self.base_url

    def stop(self) -> None:
        """Release waiting long polls, close every connection and join the server's threads."""
        self._store.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> TelegramSandbox:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def call(self, name: str, params: Obj) -> Reply | None:
        """Answer one Bot API call (None: drop the connection).

        The steps: count, fault, validate, run, validate.
        """
        method = self._validator.method_name(name)
        with self._lock:
            self._requests[method or name] += 1
            self._history.append(method or name)
        if method is None:
            return Reply(404, ApiError(404, "Not Found").body())
        fault = self._faults.take(method)
        if fault is not None:
            error = fault.error()
            return Reply(error.status, error.body()) if error else None
        decoded, problems = self._validator.parse_request(method, params)
        if problems:
            return self._violated(
                Violation(method, "request", tuple(problems)), _error(bad_request(problems[0]))
            )
        try:
            result = self._run(method, decoded)
        except Unsupported as gap:
            return self._violated(Violation(method, "unsupported", (gap.description,)), _error(gap))
        except ApiError as error:
            problems = self._validator.check(
                "ResponseParameters", error.parameters or {}, "parameters"
            )
            reply = _error(error)
            return (
                self._violated(Violation(method, "response", tuple(problems)), reply)
                if problems
                else reply
            )
        reply = Reply(200, {"ok": True, "result": result})
        problems = self._validator.check_result(method, result)
        return (
            self._violated(Violation(method, "response", tuple(problems)), reply)
            if problems
            else reply
        )

    def _run(self, method: str, params: Obj) -> Any:
        handler = METHODS.get(method)
        if handler is None:
            raise Unsupported(method)
        with self._store.cond:
            try:
                return copy.deepcopy(
                    handler(self._ctx, params)
                )  # the reply is serialised after the lock
            finally:
                self._store.save()

    def _violated(self, violation: Violation, lenient_reply: Reply) -> Reply:
        """Record the violation; answer 500 if strict, else what Telegram (or the sandbox) would."""
        with self._lock:
            self._violations.append(violation)
        if self.strict:
            return _error(ApiError(500, f"Internal Server Error: sandbox: {violation}"))
        return lenient_reply

    # Hooks: what the people on the other side of the chat do, and what a test may look at.

    def inject_message(
        self,
        text: str,
        *,
        user_id: int = 1001,
        username: str | None = "alice",
        first_name: str = "Alice",
        chat_id: int | None = None,
        chat_type: str = "private",
        chat_title: str = "Sandbox group",
    ) -> Obj | None:
        """Have a user send `text`; return the Update.

        None if Telegram would not deliver it to the bot.
        """
        sender = messages.user(user_id, username, first_name)
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(
                f"users write in private chats, groups and supergroups, not in a {chat_type}"
            )
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            chat = {k: v for k, v in sender.items() if k in ("id", "first_name", "username")} | {
                "type": "private"
            }
        elif chat_id is None or chat_id >= 0:
            raise ValueError(f"a {chat_type} needs a negative chat_id")
        else:
            chat = {"id": chat_id, "type": chat_type, "title": chat_title}
        with self._store.cond:
            message = messages.user_message(self._ctx, chat, sender, text)
            update = (
                self._store.push_update("message", message)
                if messages.reaches_bot(self._ctx, message)
                else None
            )
            self._store.save()
            return copy.deepcopy(update)

    def inject_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int = 1001,
        username: str | None = "alice",
        first_name: str = "Alice",
    ) -> Obj | None:
        """Have a user press the inline button with `data` under a message; return the Update."""
        sender = messages.user(user_id, username, first_name)
        with self._store.cond:
            message = self._store.message(chat_id, message_id)
            if message is None:
                raise ValueError(f"chat {chat_id} has no message {message_id}")
            query = messages.callback_query(self._ctx, message, sender, data)
            update = self._store.push_update("callback_query", query)
            self._store.save()
            return copy.deepcopy(update)

    def inject_fault(self, method: str, fault: Fault, times: int = 1, after: int = 0) -> None:
        """Make `times` calls of `method` fail with `fault`, after `after` succeed.

        `method` is spelled as in the spec.
        """
        if self._validator.method_name(method) != method:
            raise ValueError(f"the Bot API has no method {method!r}")
        self._faults.add(method, fault, times, after)

    def screen(self, chat_id: int) -> list[Obj]:
        """Return the chat as a phone shows it now: every message, oldest first, edits applied."""
        return copy.deepcopy(self._store.chat_messages(chat_id))

    def callback_answer(self, query_id: str) -> Obj | None:
        """Return how the bot answered a callback query, if it did.

        The answer is its answerCallbackQuery parameters.
        """
        with self._store.cond:
            return copy.deepcopy(self._store.callback_queries.get(query_id))

    def request_count(self, method: str) -> int:
        """Return how many calls of `method` arrived, failed ones included."""
        with self._lock:
            return self._requests[method]

    @property
    def requests(self) -> dict[str, int]:
        """Return the number of calls per method so far."""
        with self._lock:
            return dict(self._requests)

    @property
    def history(self) -> list[str]:
        """Return the methods called, oldest first (the last 1,000)."""
        with self._lock:
            return list(self._history)

    @property
    def violations(self) -> list[Violation]:
        """Return every violation recorded so far."""
        with self._lock:
            return list(self._violations)


def _error(error: ApiError) -> Reply:
    return Reply(error.status, error.body())

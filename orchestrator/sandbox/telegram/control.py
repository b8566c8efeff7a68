"""Drive the sandbox over HTTP, under `/_sandbox/`, for tests and tools in another process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from orchestrator.sandbox.telegram.faults import Fault
from orchestrator.sandbox.telegram.state import Obj
from orchestrator.sandbox.telegram.validation import Violation


class Controlled(Protocol):
    """What the control actions reach of the sandbox (sandbox.TelegramSandbox is the one)."""

    @property
    def bot(self) -> Obj: ...
    @property
    def requests(self) -> dict[str, int]: ...
    @property
    def violations(self) -> list[Violation]: ...
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
    ) -> Obj | None: ...
    def inject_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int = 1001,
        username: str | None = "alice",
        first_name: str = "Alice",
    ) -> Obj | None: ...
    def inject_fault(self, method: str, fault: Fault, times: int = 1, after: int = 0) -> None: ...
    def screen(self, chat_id: int) -> list[Obj]: ...
    def callback_answer(self, query_id: str) -> Obj | None: ...


PREFIX = "/_sandbox/"
Route = Callable[[Controlled, dict[str, Any]], Any]


def handle(
    sandbox: Controlled, verb: str, path: str, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Run a control action; answer in the Bot API's envelope (`ok`, `result` or `description`)."""
    route = ROUTES.get((verb, path.removeprefix(PREFIX)))
    if route is None:
        return 404, {
            "ok": False,
            "error_code": 404,
            "description": f"Not Found: no control action {verb} {path}",
        }
    try:
        return 200, {"ok": True, "result": route(sandbox, params)}
    except (TypeError, ValueError, KeyError) as exc:
        return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}


def _inject_message(sandbox: Controlled, params: dict[str, Any]) -> Any:
    return sandbox.inject_message(**params)


def _inject_callback(sandbox: Controlled, params: dict[str, Any]) -> Any:
    return sandbox.inject_callback(**params)


def _inject_fault(sandbox: Controlled, params: dict[str, Any]) -> None:
    """Take `{"method", "status", "retry_after"?, "times"?, "after"?}`.

    A null `status` drops the connection.
    """
    fault = Fault(status=params["status"], retry_after=params.get("retry_after"))
    sandbox.inject_fault(
        params["method"], fault, int(params.get("times", 1)), int(params.get("after", 0))
    )


def _screen(sandbox: Controlled, params: dict[str, Any]) -> Any:
    return sandbox.screen(int(params["chat_id"]))


def _callback_answer(sandbox: Controlled, params: dict[str, Any]) -> Any:
    return sandbox.callback_answer(str(params["callback_query_id"]))


def _violations(sandbox: Controlled, params: dict[str, Any]) -> Any:
    return [asdict(v) for v in sandbox.violations]


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "bot"): lambda sandbox, params: sandbox.bot,
    ("POST", "messages"): _inject_message,
    ("POST", "callback_queries"): _inject_callback,
    ("POST", "faults"): _inject_fault,
    ("GET", "screen"): _screen,
    ("GET", "callback_answer"): _callback_answer,
    ("GET", "requests"): lambda sandbox, params: sandbox.requests,
    ("GET", "violations"): _violations,
}

"""Drive the sandbox over HTTP, under `/_sandbox/`, for tests and tools in another process."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from orchestrator.sandbox.telegram.faults import Fault

if TYPE_CHECKING:
    from orchestrator.sandbox.telegram.sandbox import TelegramSandbox

PREFIX = "/_sandbox/"
Route = Callable[["TelegramSandbox", dict[str, Any]], Any]


def handle(sandbox: TelegramSandbox, verb: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run one control action; answer in the Bot API's envelope (`ok`, `result` or `description`)."""
    route = ROUTES.get((verb, path.removeprefix(PREFIX)))
    if route is None:
        return 404, {"ok": False, "error_code": 404, "description": f"Not Found: no control action {verb} {path}"}
    try:
        return 200, {"ok": True, "result": route(sandbox, params)}
    except (TypeError, ValueError, KeyError) as exc:
        return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}


def _inject_message(sandbox: TelegramSandbox, params: dict[str, Any]) -> Any:
    return sandbox.inject_message(**params)


def _inject_callback(sandbox: TelegramSandbox, params: dict[str, Any]) -> Any:
    return sandbox.inject_callback(**params)


def _inject_fault(sandbox: TelegramSandbox, params: dict[str, Any]) -> None:
    """Take `{"method", "status" (null: drop the connection), "retry_after"?, "times"?, "after"?}`."""
    fault = Fault(status=params["status"], retry_after=params.get("retry_after"))
    sandbox.inject_fault(params["method"], fault, int(params.get("times", 1)), int(params.get("after", 0)))


def _screen(sandbox: TelegramSandbox, params: dict[str, Any]) -> Any:
    return sandbox.screen(int(params["chat_id"]))


def _callback_answer(sandbox: TelegramSandbox, params: dict[str, Any]) -> Any:
    return sandbox.callback_answer(str(params["callback_query_id"]))


def _violations(sandbox: TelegramSandbox, params: dict[str, Any]) -> Any:
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

"""Fixtures for the Telegram sandbox tests: the strict sandbox, and a raw Bot API client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orchestrator.sandbox.telegram import TelegramSandbox
from tests.support.telegram_sandbox import telegram_sandbox

__all__ = ["api", "telegram_sandbox"]

Api = Callable[..., dict[str, Any]]


@pytest.fixture
def api(telegram_sandbox: TelegramSandbox) -> Iterator[Api]:
    """Call Bot API methods on the strict sandbox with JSON bodies; return the decoded reply."""
    with httpx.Client(
        base_url=f"{telegram_sandbox.base_url}{telegram_sandbox.token}/", timeout=10
    ) as client:

        def call(method: str, **params: Any) -> dict[str, Any]:
            reply: dict[str, Any] = client.post(method, json=params).json()
            return reply

        yield call

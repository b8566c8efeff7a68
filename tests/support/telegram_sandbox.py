"""Test helpers: a strict sandbox fixture, a PTB Application long-polling it, and a way to wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from telegram.ext import Application, ApplicationBuilder

from orchestrator.sandbox.telegram.sandbox import TelegramSandbox

T = TypeVar("T")
PtbApplication = Application[Any, Any, Any, Any, Any, Any]
PtbBuilder = ApplicationBuilder[Any, Any, Any, Any, Any, Any]


@pytest.fixture
def telegram_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    """Yield a started strict sandbox.

    Fail the test if any exchange broke the Bot API description.
    """
    # PTB 22 warns on every int-valued time period it reads (RetryAfter.retry_after among them)
    # unless the program opts into the timedelta values of its next major version.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with TelegramSandbox(strict=True) as sandbox:
        yield sandbox
    assert not sandbox.violations, "Bot API violations:\n" + "\n".join(map(str, sandbox.violations))


def build_application(
    sandbox: TelegramSandbox, builder: PtbBuilder | None = None
) -> PtbApplication:
    """Build a PTB Application whose bot talks to the sandbox.

    Pass a builder to set more options.
    """
    builder = builder or ApplicationBuilder()
    return builder.token(sandbox.token).base_url(sandbox.base_url).build()


@asynccontextmanager
async def polling(app: PtbApplication, timeout: int = 1) -> AsyncIterator[PtbApplication]:
    """Run `app` with real long polling until the block ends.

    Real polling calls getMe, deleteWebhook, getUpdates...
    """
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=timeout)
        try:
            yield app
        finally:
            await app.updater.stop()  # confirms the handled updates with a last getUpdates
            await app.stop()


async def until(check: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.01) -> T:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(interval)

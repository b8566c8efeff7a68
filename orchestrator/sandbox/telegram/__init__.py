"""A local Telegram Bot API that python-telegram-bot long-polls.

It is judged by the published Bot API description.
"""

from __future__ import annotations

from orchestrator.sandbox.telegram.faults import Fault
from orchestrator.sandbox.telegram.sandbox import DEFAULT_TOKEN, DEFAULT_USERNAME, TelegramSandbox
from orchestrator.sandbox.telegram.server import Reply
from orchestrator.sandbox.telegram.validation import Violation

__all__ = ["DEFAULT_TOKEN", "DEFAULT_USERNAME", "Fault", "Reply", "TelegramSandbox", "Violation"]

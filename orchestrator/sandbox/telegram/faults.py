"""Scripted failures for the next calls of a method.

The kinds: flood control, server errors, dropped connections.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus

from orchestrator.sandbox.telegram.errors import ApiError, too_many_requests


@dataclass(frozen=True, slots=True)
class Fault:
    """One failed call: an error status, or `status=None` to close the connection with no reply."""

    status: int | None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(
                f"a fault is an HTTP error status (400-599) or None, not {self.status}"
            )

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> Fault:
        """Telegram's flood control: 429 with `parameters.retry_after` (PTB raises RetryAfter)."""
        return cls(429, retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx from Telegram's side (PTB raises NetworkError)."""
        return cls(status)

    @classmethod
    def dropped_connection(cls) -> Fault:
        """The connection closes before a reply (httpx: RemoteProtocolError; PTB: NetworkError)."""
        return cls(None)

    def error(self) -> ApiError | None:
        """Return the error reply, or None for a dropped connection."""
        if self.status is None:
            return None
        if self.retry_after is not None:
            return too_many_requests(self.retry_after)
        return ApiError(self.status, HTTPStatus(self.status).phrase)


class FaultPlan:
    """Faults waiting, per method, in the order they will be served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, deque[Fault | None]] = {}

    def add(self, method: str, fault: Fault, times: int = 1, after: int = 0) -> None:
        """Make `times` calls of `method` fail with `fault`, once `after` more have succeeded.

        They line up after the faults already queued.
        """
        with self._lock:
            self._queued.setdefault(method, deque()).extend([None] * after + [fault] * times)

    def take(self, method: str) -> Fault | None:
        """Return the fault for this call of `method`, if one is due."""
        with self._lock:
            queue = self._queued.get(method)
            return queue.popleft() if queue else None

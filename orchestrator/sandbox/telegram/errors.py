"""The error replies the Bot API gives, as one exception the server turns into a response."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API failure.

    Its body: `{"ok": false, "error_code": status, "description": ..., "parameters": ...}`.
    """

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Return a 400 worded as Telegram words it: `Bad Request: <reason>`."""
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """Return the flood-control 429 with `parameters.retry_after`, as PTB's RetryAfter expects."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def conflict() -> ApiError:
    """Return the 409 Telegram gives a long poll that a newer getUpdates call replaced."""
    return ApiError(
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


class Unsupported(ApiError):
    """Bot API behaviour the sandbox does not model.

    It gets a 501 and a violation, so no test passes by accident.
    """

    def __init__(self, what: str) -> None:
        super().__init__(501, f"Not Implemented: the Telegram sandbox does not implement {what}")

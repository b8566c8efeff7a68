"""Map a method and path to a handler by path template, as GitHub's REST description names them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from orchestrator.sandbox.github.api import Call, Reply

Handler = Callable[[Call], Reply]
_PARAM = re.compile(r"\{(\w+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation: `template` has `{name}` for a segment, `{name+}` for a multi-segment value."""

    method: str
    template: str
    operation_id: str | None
    handler: Handler

    def spec_path(self, params: dict[str, str]) -> str:
        """Return the concrete path with each parameter percent-encoded, as a one-segment value."""
        return _PARAM.sub(lambda m: quote(params[m.group(1)], safe=""), self.template)


def _compile(template: str) -> re.Pattern[str]:
    parts, end = [], 0
    for m in _PARAM.finditer(template):
        parts += [
            re.escape(template[end : m.start()]),
            f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
        ]
        end = m.end()
    return re.compile("^" + "".join(parts) + re.escape(template[end:]) + "$")


class Router:
    """An ordered table of routes; the first template that matches wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Route]] = []

    def route(
        self, method: str, template: str, operation_id: str | None
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler for `method template`.

        The spec describes it as `operation_id`.
        """

        def register(handler: Handler) -> Handler:
            self._routes.append(
                (_compile(template), Route(method, template, operation_id, handler))
            )
            # The most literal template wins: /commits/{ref+}/statuses before /commits/{ref+}.
            self._routes.sort(key=lambda entry: -len(_PARAM.sub("", entry[1].template)))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """Return the route and its decoded parameters, or None when nothing matches."""
        for pattern, route in self._routes:
            found = pattern.match(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    @property
    def routes(self) -> list[Route]:
        """Return every registered route."""
        return [route for _, route in self._routes]


ROUTES = Router()
"""The sandbox's REST table; each resource module registers its handlers here when imported."""

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
    spec_template: str | None = None  # the description's path, where it differs from `template`

    def spec_path(self, params: dict[str, str]) -> str:
        """Return the concrete path with each parameter percent-encoded, as a one-segment value."""
        template = self.spec_template or self.template
        return _PARAM.sub(lambda m: quote(params[m.group(1)], safe=""), template)


def compile_template(template: str) -> re.Pattern[str]:
    """Return the regex matching a path template: `{name}` one segment, `{name+}` several."""
    parts, end = [], 0
    for m in _PARAM.finditer(template):
        parts += [
            re.escape(template[end : m.start()]),
            f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
        ]
        end = m.end()
    return re.compile("^" + "".join(parts) + re.escape(template[end:]) + "$")


def literal_length(template: str) -> int:
    """Return how much of a template is literal text: where two match, the longer wins."""
    return len(_PARAM.sub("", template))


class Router:
    """An ordered table of routes; the first template that matches wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Route]] = []
        self._served: set[tuple[str, str]] = set()

    def route(
        self, method: str, template: str, operation_id: str | None, spec: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler for `method template`.

        The description calls it `operation_id`, at path `spec` when that is not `template`.
        """

        def register(handler: Handler) -> Handler:
            route = Route(method, template, operation_id, handler, spec)
            self._routes.append((compile_template(template), route))
            if operation_id:
                self._served.add((method, operation_id))
            # The most literal template wins: /commits/{ref+}/statuses before /commits/{ref+}.
            self._routes.sort(key=lambda entry: -literal_length(entry[1].template))
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

    def serves(self, method: str, operation_id: str) -> bool:
        """Return whether a route answers `operation_id` (of GitHub's description) for `method`."""
        return (method, operation_id) in self._served


ROUTES = Router()
"""The sandbox's REST table; each resource module registers its handlers here when imported."""

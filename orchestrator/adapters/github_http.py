"""Reach GitHub's REST API through PyGithub.

It uses PyGithub's retries and requester, and adds conditional reads and pagination.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from github import Auth, Github, GithubRetry
from github.Requester import Requester

from orchestrator.config.model import GitHubConfig
from orchestrator.store.http_cache import PageCache

_NEXT = re.compile(r'<(?P<url>[^>]+)>;\s*rel="next"')
# Methods retried on 5xx and dropped connections. PyGithub adds GET and POST to urllib3's
# idempotent set; PATCH joins them because every PATCH we send sets fields to values, so
# repeating it changes nothing more.
RETRIED_METHODS = frozenset(GithubRetry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying before a call fails.

    These are the settings of PyGithub's GithubRetry (a urllib3 Retry).
    """

    total: int = 5  # attempts after the first, across 5xx, drops and rate limits
    backoff_factor: float = 1.0  # 0 s, 2 s, 4 s, ... between retries of 5xx and dropped connections
    backoff_max: float = 30.0
    # GitHub's advice for a secondary limit that names no Retry-After
    secondary_rate_wait: float = 60.0
    # a longer wait (a primary limit's reset) raises RateLimited instead
    max_rate_limit_wait: float = 120.0
    retry_after_max: int = 120  # cap on a Retry-After header

    def build(self) -> GithubRetry:
        """Return the GithubRetry.

        The last response of an exhausted retry is returned, not raised.
        """
        return GithubRetry(
            total=self.total,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            secondary_rate_wait=self.secondary_rate_wait,
            max_rate_limit_wait=self.max_rate_limit_wait,
            retry_after_max=self.retry_after_max,
            allowed_methods=RETRIED_METHODS,
            raise_on_status=False,
        )


def connect(
    config: GitHubConfig, retry: RetryPolicy, per_page: int, timeout: int, throttle: bool
) -> Github:
    """Return a PyGithub client for the config's API.

    `throttle` keeps GitHub's advised gap between writes. Reads go out back to back (serially, as
    GitHub asks): PyGithub's default 0.25 s before every request would turn a board read's
    blocked-by GETs for 100 Ready issues into 25 s of sleeping.
    """
    return Github(
        auth=Auth.Token(config.token.reveal()),
        base_url=config.api_url.rstrip("/"),
        retry=retry.build(),
        per_page=per_page,
        timeout=timeout,
        lazy=True,
        seconds_between_requests=0,
        seconds_between_writes=config.seconds_between_writes if throttle else 0,
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One response body as fetched or as cached, with its ETag and its next-page link."""

    body: Any
    etag: str | None
    next_url: str | None


class Rest:
    """GitHub's REST resources as JSON, each GET conditional on the ETag last seen for its URL.

    A 304 answer reuses the cached body and does not count against GitHub's rate limit, so the
    reads that repeat each tick (open issues, label events, checks) cost almost nothing when idle.
    """

    def __init__(
        self,
        requester: Requester,
        per_page: int,
        cache_size: int = 1024,
        kept: PageCache | None = None,
    ) -> None:
        self._requester, self.per_page, self._cache_size = requester, per_page, cache_size
        self._cache: OrderedDict[str, Page] = OrderedDict()
        self._kept = kept  # the pages earlier ticks fetched (store.http_cache), if any

    def close(self) -> None:
        if self._kept is not None:
            self._kept.close()

    def get(self, path: str, **params: str | int) -> Any:
        """Return one resource."""
        return self._fetch(_url(path, params)).body

    def pages(self, path: str, items: str | None = None, **params: str | int) -> list[Any]:
        """Return every item of a listing, following `Link: rel="next"`.

        `items` names a wrapped list.
        """
        url: str | None = _url(path, {**params, "per_page": self.per_page})
        found: list[Any] = []
        while url is not None:
            page = self._fetch(url)
            found.extend(page.body[items] if items else page.body)
            url = page.next_url
        return found

    def get_with_headers(self, path: str) -> tuple[dict[str, Any], Any]:
        """Return the response headers and the resource, unconditionally.

        The headers are what is wanted.
        """
        return self._requester.requestJsonAndCheck("GET", path)

    def location(self, path: str) -> str:
        """Return where GitHub redirects a GET (its 302's Location; "" if it answers in place),
        without following it: a signed download URL is fetched without the token."""
        status, headers, output = self._requester.requestJson("GET", path)
        if status >= 400:
            raise Requester.createException(status, headers, _json(output))
        return str(headers.get("location") or "") if 300 <= status < 400 else ""

    def send(self, verb: str, path: str, body: object = None) -> Any:
        """Send a write (POST, PATCH, PUT, DELETE) with a JSON body; return the response's JSON."""
        _, data = self._requester.requestJsonAndCheck(verb, path, input=body)
        return data

    def _fetch(self, url: str) -> Page:
        cached = self._cache.get(url) or self._from_kept(url)
        headers = {"If-None-Match": cached.etag} if cached and cached.etag else {}
        status, response_headers, output = self._requester.requestJson("GET", url, headers=headers)
        if status == 304 and cached is not None:
            self._remember(url, cached)
            return cached
        data = _json(output)
        if status >= 400:
            raise Requester.createException(status, response_headers, data)
        link = _NEXT.search(response_headers.get("link", ""))
        page = Page(data, response_headers.get("etag"), link.group("url") if link else None)
        if page.etag:
            self._remember(url, page)
            if self._kept is not None and output:
                self._kept.put(url, page.etag, page.next_url, output)
        return page

    def _from_kept(self, url: str) -> Page | None:
        found = self._kept.get(url) if self._kept is not None else None
        if found is None:
            return None
        etag, next_url, body = found
        try:
            return Page(json.loads(body), etag, next_url)
        except ValueError:
            return None

    def _remember(self, url: str, page: Page) -> None:
        self._cache[url] = page
        self._cache.move_to_end(url)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _url(path: str, params: Mapping[str, str | int]) -> str:
    return f"{path}?{urlencode(sorted(params.items()))}" if params else path


def _json(output: str) -> Any:
    """Parse a body; a proxy's HTML error page becomes GitHub's error shape."""
    if not output:
        return None
    try:
        return json.loads(output)
    except ValueError:
        return {"message": " ".join(output.split())[:200]}

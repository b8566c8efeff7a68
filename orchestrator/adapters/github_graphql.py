"""Reach GitHub's GraphQL API with gql over HTTPX.

It sends our .graphql documents, retries with backoff, and raises its errors as ours.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx2
from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLSchema, parse, print_ast
from graphql.language import FragmentDefinitionNode
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from orchestrator.adapters.github_errors import (
    header,
    one_line,
    says_rate_limit,
    wait_hint,
)
from orchestrator.adapters.github_http import RetryPolicy
from orchestrator.config.model import GitHubConfig
from orchestrator.errors import (
    GraphQLRefused,
    RateLimited,
    TrackerError,
    TrackerUnauthorized,
    TrackerUnavailable,
)

# gql's HTTPX transport runs on httpx2 (the fork the anthropic SDK also uses) when it is installed,
# as requirements.txt pins it: its transports and errors are httpx2's, not httpx's.
DOCUMENTS = Path(__file__).resolve().parent / "graphql"
# GitHub's error type for a spent GraphQL budget: documented RATE_LIMITED, and RATE_LIMIT as
# answered since early 2026 (yanyongyu/githubkit#271)
RATE_LIMIT_TYPES = frozenset({"RATE_LIMITED", "RATE_LIMIT"})
_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z]\w*)")


@functools.cache
def document(name: str) -> GraphQLRequest:
    """Return `graphql/<name>.graphql` parsed.

    The fragments of fragments.graphql it uses are appended.
    """
    text = (DOCUMENTS / f"{name}.graphql").read_text(encoding="utf-8")
    fragments = _fragments()
    wanted: list[str] = []
    pending = _SPREAD.findall(text)
    while pending:
        spread = pending.pop()
        if spread in fragments and spread not in wanted:
            wanted.append(spread)
            pending += _SPREAD.findall(fragments[spread])
    return GraphQLRequest("\n".join([text, *(fragments[f] for f in sorted(wanted))]))


@functools.lru_cache(maxsize=1)
def _fragments() -> dict[str, str]:
    parsed = parse((DOCUMENTS / "fragments.graphql").read_text(encoding="utf-8"))
    return {
        d.name.value: print_ast(d)
        for d in parsed.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def document_names() -> list[str]:
    """Return the name of every document the adapters send (what the schema tests validate)."""
    return sorted(p.stem for p in DOCUMENTS.glob("*.graphql") if p.stem != "fragments")


class GraphQL:
    """One gql session on GitHub's GraphQL endpoint.

    `run` sends a named document and returns its `data`. Without `schema`, documents are not
    validated before sending: building GitHub's schema costs about a second of CPU, more than a
    whole board read, so production trusts the tests, which validate every document against the
    vendored schema (and pass `schema` to the sandbox-backed adapters).
    """

    def __init__(
        self,
        config: GitHubConfig,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
        timeout: float = 30.0,
        schema: GraphQLSchema | str | None = None,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        try:
            token = config.token.reveal()
        except LookupError as error:
            raise TrackerError(one_line(f"github.token: {error}")) from None
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self._transport = HTTPXTransport(
            url=config.graphql_url,
            timeout=timeout,
            **extra,
            headers={"Authorization": f"bearer {token}", "User-Agent": "agentos"},
        )
        self._client = Client(
            transport=self._transport, schema=schema, fetch_schema_from_transport=False
        )
        self._session: SyncClientSession | None = None
        self._retry = retry
        self.requests = 0  # requests sent, retries included (what the benchmarks count)

    def run(
        self,
        name: str,
        variables: Mapping[str, Any],
        *,
        subject: str,
        action: str,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send the `name` document, retry what GitHub may answer later, raise our error otherwise.

        `idempotent=False` (creating a board) retries only answers that prove nothing happened
        (rate limits), never a dropped connection or a 5xx after which the write may have landed.
        """
        request = GraphQLRequest(document(name), variable_values=dict(variables))
        retrying = Retrying(
            stop=stop_after_attempt(self._retry.total + 1),
            wait=self._wait,
            reraise=True,
            retry=retry_if_exception(lambda e: self._retryable(e, idempotent)),
        )
        try:
            result: dict[str, Any] = retrying(self._send, request)
            return result
        except TransportError as error:
            raise from_transport(error, self._headers(), subject, action) from error
        except httpx2.HTTPError as error:
            raise TrackerUnavailable(
                one_line(
                    f"GitHub could not be reached to {action} {subject} "
                    f"({type(error).__name__}, after retries)"
                )
            ) from error

    def close(self) -> None:
        """Close the HTTP connection."""
        if self._session is not None:
            self._client.close_sync()  # type: ignore[no-untyped-call]
            self._session = None

    def _send(self, request: GraphQLRequest) -> dict[str, Any]:
        if self._session is None:
            self._session = self._client.connect_sync()  # type: ignore[no-untyped-call]
        self._transport.response_headers = None
        self.requests += 1
        result = self._session.execute(request)
        assert isinstance(result, dict)
        return result

    def _headers(self) -> Mapping[str, Any]:
        return dict(getattr(self._transport, "response_headers", None) or {})

    def _retryable(self, error: BaseException, idempotent: bool) -> bool:
        wait = rate_limit_wait(error, self._headers(), self._retry)
        if wait is not None:
            return wait <= self._retry.max_rate_limit_wait
        if isinstance(
            error, (TransportConnectionFailed, TransportProtocolError, httpx2.TransportError)
        ):
            return idempotent
        # GitHub's answer when a query timed out on its side
        if isinstance(error, TransportQueryError):
            return (
                idempotent
                and "something went wrong while executing your query" in str(error).lower()
            )
        return idempotent and isinstance(error, TransportServerError) and (error.code or 0) >= 500

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        wait = rate_limit_wait(error, self._headers(), self._retry) if error else None
        if wait is not None:
            return wait
        # urllib3's backoff, as the REST side has it: 0 s, then factor * 2, 4, 8 ... capped.
        attempt = state.attempt_number
        return (
            0.0
            if attempt <= 1
            else min(self._retry.backoff_max, self._retry.backoff_factor * 2 ** (attempt - 1))
        )


def rate_limit_wait(
    error: BaseException | None, headers: Mapping[str, Any], policy: RetryPolicy
) -> float | None:
    """Return how long GitHub asks us to wait before retrying, or None if `error` is no rate limit.

    Secondary limits (403/429) name a Retry-After, else GitHub advises a minute; a spent primary
    limit (a 403/429 with X-RateLimit-Remaining 0, or GraphQL's RATE_LIMITED error) lasts until its
    reset.
    """
    if not _is_rate_limited(error, headers):
        return None
    retry_after = header(headers, "retry-after")
    if retry_after is not None and retry_after.isdigit():
        return float(min(int(retry_after), policy.retry_after_max))
    reset = header(headers, "x-ratelimit-reset")
    if header(headers, "x-ratelimit-remaining") == "0" and reset is not None and reset.isdigit():
        return max(0.0, int(reset) - time.time()) + 1.0
    return policy.secondary_rate_wait


def _is_rate_limited(error: BaseException | None, headers: Mapping[str, Any]) -> bool:
    if isinstance(error, TransportQueryError):
        return any(
            isinstance(e, dict) and e.get("type") in RATE_LIMIT_TYPES for e in error.errors or ()
        )
    if isinstance(error, TransportServerError) and error.code in (403, 429):
        return (
            error.code == 429
            or header(headers, "retry-after") is not None
            or header(headers, "x-ratelimit-remaining") == "0"
            or says_rate_limit(_body(error))
        )
    return False


def _body(error: TransportServerError) -> str:
    """Return the text of the answer gql raised for (httpx's error is its cause)."""
    response = getattr(error.__cause__, "response", None)
    try:
        return str(getattr(response, "text", "") or "")[:2000]
    except Exception:  # a streamed body not read yet says nothing
        return ""


def from_transport(
    error: TransportError, headers: Mapping[str, Any], subject: str, action: str
) -> TrackerError:
    """Return our error for what gql raised.

    That is token, scope, not found, rate limit, unavailable, or else refused.
    """
    if isinstance(error, TransportQueryError):
        return from_errors(
            [e for e in error.errors or () if isinstance(e, dict)], headers, subject, action
        )
    if isinstance(error, TransportServerError):
        if error.code == 401:
            return TrackerUnauthorized(
                one_line(
                    f"GitHub rejected the token (401 Bad credentials) trying to {action} "
                    f"{subject}: check github.token"
                )
            )
        if _is_rate_limited(error, headers):
            return RateLimited(
                one_line(
                    f"GitHub rate limit hit trying to {action} {subject}: {wait_hint(headers)}"
                )
            )
        if error.code == 403:  # GraphQL says "not allowed" in a 200's errors: a 403 is the token
            return TrackerUnauthorized(
                one_line(
                    f"GitHub refused the token trying to {action} {subject} (403): check the "
                    "token's scopes, its organization access (SAML, IP allow list)"
                )
            )
        if (error.code or 0) >= 500:
            return TrackerUnavailable(
                one_line(f"GitHub failed to {action} {subject} ({error.code}, after retries)")
            )
        return TrackerError(one_line(f"GitHub refused to {action} {subject} ({error.code})"))
    return TrackerUnavailable(
        one_line(
            f"GitHub could not be reached to {action} {subject} "
            f"({type(error).__name__}, after retries)"
        )
    )


def from_errors(
    errors: list[dict[str, Any]], headers: Mapping[str, Any], subject: str, action: str
) -> TrackerError:
    """Return our error for GraphQL `errors`, by GitHub's error `type` first, its message second."""
    kinds = {str(e.get("type") or "") for e in errors}
    first = str(errors[0].get("message") or "no message") if errors else "no message"
    if "INSUFFICIENT_SCOPES" in kinds:
        return GraphQLRefused(
            one_line(
                f"the token lacks the 'project' scope, needed to {action} {subject} "
                "(add it to the token, or use a fine-grained token with Projects access)"
            ),
            errors,
        )
    if kinds & RATE_LIMIT_TYPES:
        return RateLimited(
            one_line(f"GitHub rate limit hit trying to {action} {subject}: {wait_hint(headers)}")
        )
    if "NOT_FOUND" in kinds:
        return GraphQLRefused(one_line(f"{subject} not found, or the token cannot see it"), errors)
    return GraphQLRefused(one_line(f"GitHub refused to {action} {subject}: {first}"), errors)

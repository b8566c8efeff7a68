"""Run a local GitHub on 127.0.0.1: REST under /api/v3, GraphQL at /api/graphql, git smart HTTP."""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.errors import UsageError
from orchestrator.sandbox.github import (
    accounts,
    actions,
    checks,
    contents,
    control,
    gqlbudget,
    mergequeue,
    pushes,
    rest,
    smarthttp,
    webhooks,
)
from orchestrator.sandbox.github.accounts import DEFAULT_SCOPES
from orchestrator.sandbox.github.api import ApiError, Call, Hooks, Update
from orchestrator.sandbox.github.ci import LocalCI
from orchestrator.sandbox.github.datalock import DataLock
from orchestrator.sandbox.github.faults import (
    Fault,
    Faults,
    RateLimiter,
    RateLimits,
    fault_response,
)
from orchestrator.sandbox.github.repos import create_repo
from orchestrator.sandbox.github.server import Incoming, Outgoing, RequestRecord, Server
from orchestrator.sandbox.github.state import STATE_FILE, Json, Store, now_iso
from orchestrator.sandbox.github.tls import Certificates, issue_certificates, server_context
from orchestrator.sandbox.github.validation import Violation

log = logging.getLogger(__name__)


class Sandbox:
    """A local GitHub: start(), point clients at base_url (REST: api_url), stop(); or use `with`."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        port: int = 0,
        token: str | None = None,
        login: str = "agentos",
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        strict: bool = False,
        rate_limit: int = 5000,
        graphql_rate_limit: int = 5000,
        ci_timeout: float = 600.0,
        checks_need_app: bool = True,
        lazy_mergeable: bool = False,
        tls: bool = False,
    ) -> None:
        self._owned_dir = data_dir is None
        self.data_dir = (
            Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="gh-sandbox-"))
        )
        self._data_lock = DataLock(self.data_dir)  # UsageError if another sandbox serves it
        try:
            self.store = Store(self.data_dir)
        except ValueError as error:  # a damaged state.json
            self._data_lock.release()
            raise UsageError(f"{self.data_dir / STATE_FILE} is not valid JSON: {error}") from None
        self.port, self.strict, self.login = port, strict, login
        # REST's core requests and GraphQL's points, each per user with its own hourly window:
        # `rate_limits.status(login, "graphql")` is what a bench reads.
        self.faults, self.rate_limits = Faults(), RateLimits(rate_limit, graphql_rate_limit)
        self.limiter, self.anonymous = self.rate_limits.core, RateLimiter(60)
        self.violations: list[Violation] = []
        self.requests: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self.token = self.add_user(
            login, token=token or accounts.token_of(self.store, login), scopes=scopes
        )
        self.ci = LocalCI(self.store, timeout=ci_timeout, on_done=self._checked)
        self.webhooks = webhooks.Deliveries(self.store, self._record_violation)
        hooks = Hooks(
            pull_opened=self._pull_opened,
            pushed=self._pushed,
            rate=self.rate_limits.overview,
            run_ci=self.ci.enqueue,
            checked=self._checked,
            checks_need_app=checks_need_app,
            lazy_mergeable=lazy_mergeable,
            webhooks=self.webhooks,
        )
        self.rest = rest.Rest(self.store, hooks, self._record_violation, strict)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.tls = tls  # HTTPS, with a CA made at start: `certificates.ca` is what clients trust
        self.certificates: Certificates | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> str:
        """Serve on 127.0.0.1 (port 0 picks a free one) in a background thread; return base_url."""
        if self.tls:
            self.certificates = issue_certificates(self.data_dir)
        context = server_context(self.certificates) if self.certificates else None
        self._server = Server(self.port, self, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="github-sandbox", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and CI (a running CI command is killed) and save the state.

        Remove the data dir if the sandbox made it.
        """
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.ci.stop()
        self.webhooks.stop()
        self.store.save()
        self._data_lock.release()
        if self._owned_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT (the GitHub Enterprise host; https with `tls`)."""
        return f"{self._scheme}://{self.host}"

    @property
    def host(self) -> str:
        """Return 127.0.0.1:PORT, the host name clients such as `gh` (GH_HOST) are given."""
        return f"127.0.0.1:{self.port}"

    @property
    def _scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def api_url(self) -> str:
        """Return the REST root, for PyGithub's base_url."""
        return f"{self.base_url}/api/v3"

    @property
    def graphql_url(self) -> str:
        """Return the GraphQL endpoint."""
        return f"{self.base_url}/api/graphql"

    def clone_url(self, full_name: str, token: str | None = None) -> str:
        """Return an HTTP clone URL carrying a token, as GitHub's x-access-token form does."""
        credentials = f"x-access-token:{token or self.token}"
        return f"{self._scheme}://{credentials}@{self.host}/{full_name}.git"

    # -- users, repositories, CI -------------------------------------------------------------------
    def add_user(
        self,
        login: str,
        token: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
    ) -> str:
        """Create (or keep) a user and give it a token with `scopes`; return the token."""
        return accounts.add_user(self.store, login, token, scopes, name)

    def add_app(self, slug: str, name: str | None = None) -> str:
        """Install a GitHub App on every repository; return its installation token.

        The token acts as `slug[bot]`.
        """
        return accounts.add_app(self.store, slug, name)

    def add_org(self, login: str, members: dict[str, str]) -> None:
        """Create an organization; `members` maps logins to "admin" or "member"."""
        accounts.add_org(self.store, login, members)

    def create_repo(self, full_name: str, private: bool = False, auto_init: bool = True) -> Json:
        """Create a repository directly (the owner must exist); returns its record."""
        owner, name = full_name.split("/", 1)
        with self.store.lock:
            record = self.store.user(owner)
            if record is None:
                raise KeyError(f"no user or organization {owner}")
            owner = record["login"]
            creator = owner if record["type"] == "User" else self.login
            repo = create_repo(self.store, owner, name, creator, private, None, auto_init)
            self.store.save()
        return repo

    def set_ci(
        self, full_name: str, command: str | None, push_branches: tuple[str, ...] | None = None
    ) -> None:
        """Set (or with None, remove) the command CI runs on pull request heads, merge queue
        groups, and pushes to branches matching `push_branches` (Actions filters, as
        `on: push: branches: [...]`; None keeps the patterns set before)."""
        with self.store.lock:
            repo = self._repo(full_name)
            repo["ci"] = command
            if push_branches is not None:
                repo["ci_push_branches"] = list(push_branches)
            self.store.save()

    def require_merge_queue(self, full_name: str, branch: str = "main", on: bool = True) -> None:
        """Make a protected branch require (or no longer require) GitHub's merge queue.

        The REST description has no field for it (GitHub sets it in branch protection's or a
        ruleset's page); turning it off empties the queue.
        """
        with self.store.lock:
            mergequeue.require(self._call(mergequeue.BOT), self._repo(full_name), branch, on)
            self.store.save()

    def _repo(self, full_name: str) -> Json:
        repo = self.store.repo(*full_name.split("/", 1))
        if repo is None:
            raise KeyError(f"no repository {full_name}")
        return repo

    def ci_command(self, full_name: str) -> str | None:
        """Return a repository's CI command."""
        repo = self.store.repo(*full_name.split("/", 1))
        return repo.get("ci") if repo else None

    def wait_ci_idle(self, timeout: float = 60.0) -> bool:
        """Block until CI has nothing queued or running."""
        return self.ci.wait_idle(timeout)

    def add_fault(self, kind: str, **options: Any) -> Fault:
        """Activate a fault rule (see faults.Fault for kinds and options)."""
        return self.faults.add(Fault(kind, **options))

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self.requests.clear()

    def _pull_opened(self, repo: Json, number: int) -> None:
        issue = repo["issues"][str(number)]
        self.ci.enqueue(repo, str(issue["pull"]["head_sha"]))

    def _call(self, login: str) -> Call:
        """Return a REST call as `login`, for what the sandbox does on its own (pushes, queues)."""
        return Call(self.store, self.base_url, login, "/", {}, {}, {}, self.rest.hooks)

    def _pushed(self, repo: Json, updates: list[Update], login: str) -> None:
        with self.store.lock:
            repo["pushed_at"] = now_iso()
            shas = pushes.after_push(self._call(login), repo, updates)
        for sha in shas:
            self.ci.enqueue(repo, sha)

    def _checked(self, repo: Json, sha: str) -> None:
        """A check on `sha` changed: announce the runs it completed, advance the merge queues."""
        with self.store.lock:
            checks.announce_completed(self._call(self.login), repo, sha)
            for branch in mergequeue.waiting_on(repo, sha):
                mergequeue.advance(self._call(mergequeue.BOT), repo, branch)

    def _record_violation(self, violation: Violation) -> None:
        with self._log_lock:
            self.violations.append(violation)

    # -- HTTP --------------------------------------------------------------------------------------
    def log_request(self, request: Incoming, status: int | None, seconds: float) -> None:
        """Append to the request log."""
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        with self._log_lock:
            self.requests.append(
                RequestRecord(
                    request.method, path, status, round(seconds * 1000, 2), self._login(request)
                )
            )

    def _login(self, request: Incoming) -> str | None:
        record = accounts.token_record(self.store, request)
        return str(record["login"]) if record else None

    def respond(self, request: Incoming) -> Outgoing:
        """Answer one HTTP request: authenticate, inject faults, dispatch, add GitHub's headers."""
        if request.path.startswith(actions.SIGNED_PREFIX) and request.method == "GET":
            return actions.signed_log(self.store, request)  # signed: no token, as GitHub's
        login = self._login(request)
        if request.path.startswith(control.PREFIX):
            return (
                control.respond(self, request)
                if login
                else rest.error_response(ApiError(401, "Bad credentials"))
            )
        if login is None:
            if smarthttp.is_git_path(request.path):
                return smarthttp.unauthorized()
            # GitHub counts failed logins against the caller's anonymous budget.
            self.anonymous.spend("")
            response = rest.error_response(ApiError(401, "Bad credentials"))
            response.headers.update(self.anonymous.headers(""))
            return response
        fault = self.faults.take(request.method, request.path, request.body)
        if fault is not None and fault.kind != "slow":
            return self._fault(fault, login)
        if fault is not None:
            time.sleep(fault.delay)
        try:
            return self._dispatch(request, login)
        except Exception as error:  # a sandbox bug: answer 500 and fail strict tests, keep serving
            log.exception("sandbox.crashed")
            self._record_violation(
                Violation("internal", request.method, request.path, None, repr(error))
            )
            return rest.json_response(500, {"message": f"Sandbox internal error: {error!r}"})

    def _dispatch(self, request: Incoming, login: str) -> Outgoing:
        if smarthttp.is_git_path(request.path):
            response, repo, pushed = smarthttp.serve(self.store, request, login)
            if repo is not None and pushed:
                self._pushed(repo, pushed, login)
                self.store.save()
            return response
        if request.path == "/api/graphql" and request.method == "POST":
            graphql = self.rate_limits.graphql
            response = gqlbudget.respond(
                self.store,
                graphql,
                login,
                self.base_url,
                request.body,
                accounts.scopes(self.store, request),
                self.rest.hooks,
            )
            return self._decorate(response, login, graphql)
        if contents.RAW.match(request.path) and request.method in ("GET", "HEAD"):
            return contents.raw_response(self.store, request.path, login)
        if not request.path.startswith(rest.PREFIX + "/") and request.path != rest.PREFIX:
            return rest.error_response(ApiError(404, "Not Found"))
        free = request.path == rest.PREFIX + "/rate_limit"  # GitHub: it never counts
        status = self.limiter.status(login)
        if status["remaining"] <= 0 and not free:
            return self._fault(
                Fault("rate_limit", retry_after=status["reset"] - int(time.time())), login
            )
        response = self.rest.respond(request, login, self.base_url)
        if rest.not_modified(request, response):  # GitHub does not count an authorised 304
            kept = ("ETag", "Cache-Control", "Vary")
            response = Outgoing(304, {k: v for k, v in response.headers.items() if k in kept})
        elif not free:
            self.limiter.spend(login)
        return self._decorate(response, login)

    def _decorate(
        self, response: Outgoing, login: str, limiter: RateLimiter | None = None
    ) -> Outgoing:
        token_scopes: list[str] = next(
            (t["scopes"] for t in self.store.tokens.values() if t["login"] == login), []
        )
        response.headers.update((limiter or self.limiter).headers(login))
        response.headers.update(
            {
                "X-OAuth-Scopes": ", ".join(token_scopes),
                "X-Accepted-OAuth-Scopes": "",
                "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
                "x-github-api-version-selected": "2022-11-28",
            }
        )
        return response

    def _fault(self, fault: Fault, login: str) -> Outgoing:
        response = fault_response(fault, self.store.users[login]["id"], self.limiter.limit)
        if response.drop:
            return response
        headers = dict(response.headers)
        response = self._decorate(response, login)
        response.headers.update(headers)  # a rate-limit fault's own X-RateLimit-* win
        return response

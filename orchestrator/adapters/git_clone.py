"""The shared local clone of one repo: made once under runtime/clones/, never re-cloned.

Every task of the repo gets its worktree from this one bare clone, so a fetch serves them
all. Clone, fetch, `worktree add/remove` and push take the clone's file lock (flock, so a
killed holder frees it); the agent's work in a worktree holds nothing.

The token reaches git only through the environment of the one command that needs it
(`GIT_CONFIG_COUNT` carrying an `http.<url>.extraHeader`): never a remote URL, never
.git/config, never an agent's environment. Every git command we run ignores hooks
(`core.hooksPath=/dev/null`), the file-system monitor and the system and global config files
(`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`): the settings that could make git run a
program are ours alone, so nothing a repository's content or an agent leaves behind steers git
while it holds the token (docs/security.md).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from git.cmd import Git
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from orchestrator.config.model import Secret
from orchestrator.core.redact import redact
from orchestrator.core.workspace import RESULT_FILE
from orchestrator.errors import TransientGitError, WorktreeError

LOCK_TIMEOUT = 600.0
STALE_LOCK_SECONDS = 60.0
DEFAULT_AUTHOR = "Agent OS <agentos-bot@users.noreply.github.com>"
# Never prompt, and never let a developer's tracing print the Authorization header. (Only
# GIT_TRACE* variables read "0" as off: GIT_CURL_VERBOSE is on when set at all, so it is not
# touched, and GIT_TRACE_REDACT keeps headers out of any curl trace left on.)
QUIET_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_TRACE": "0",
    "GIT_TRACE_CURL": "0",
    "GIT_TRACE_PACKET": "0",
    "GIT_TRACE_REDACT": "1",
    # only our own settings: no system or global config, whoever wrote them
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
}
# Settings that run programs, switched off for every command whatever a config says.
SAFE_SETTINGS = (
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "core.sshCommand=false",
)
_TRANSIENT = (
    "could not resolve host",
    "connection refused",
    "connection reset",
    "timed out",
    "early eof",
    "rpc failed",
    "unexpected disconnect",
    "the requested url returned error: 5",
)
_PERMANENT = (
    "authentication failed",
    "could not read username",
    "returned error: 401",
    "returned error: 403",
    "returned error: 404",
    "not found",
    "denied",
)


@dataclass(frozen=True, slots=True)
class CommitAuthor:
    """The author and committer of the orchestrator's commits."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @classmethod
    def parse(cls, text: str) -> CommitAuthor:
        """Read `Name <email>`; ValueError names the bad value."""
        name, _, rest = text.partition("<")
        email = rest.rstrip().rstrip(">").strip()
        if not name.strip() or "@" not in email or ">" in email:
            raise ValueError(f'expected "Name <email>", got {text!r}')
        return cls(name.strip(), email)


def git_url(api_url: str, full_name: str) -> str:
    """Return a repo's HTTPS clone URL from the REST base URL (github.com, GHES or the sandbox)."""
    parts = urlsplit(api_url)
    host = "github.com" if parts.netloc == "api.github.com" else parts.netloc
    return f"{parts.scheme}://{host}/{full_name}.git"


def config_env(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Return the environment that sets git config for one command without writing any file."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def run(
    cwd: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    check: bool = True,
    strip: bool = True,
) -> tuple[int, str, str]:
    """Run `git ARGS` in `cwd`; return (status, stdout, stderr).

    With `check`, a failure raises WorktreeError (redacted).
    """
    status, out, err = Git(str(cwd)).execute(
        ["git", *SAFE_SETTINGS, *args],
        env={**QUIET_ENV, **env},
        with_extended_output=True,
        with_exceptions=False,
        strip_newline_in_stdout=strip,
    )
    if check and status != 0:
        message = redact(
            f"git {args[0]} failed in {cwd}: {err.strip()[-500:] or out.strip()[-500:]}"
        )
        said = err.lower()
        if any(word in said for word in _TRANSIENT) and not any(
            word in said for word in _PERMANENT
        ):
            raise TransientGitError(message)
        raise WorktreeError(message)
    return status, out, err


class SharedClone:
    """A repo's bare clone `<clones_dir>/<key>.git`, its lock, and the git commands run on it."""

    def __init__(
        self,
        key: str,
        path: Path,
        url: str,
        identity: CommitAuthor,
        token: Secret | None = None,
        seed: Path | None = None,
    ) -> None:
        self.key, self.path, self.url = key, path, url
        self.identity, self._token, self.seed = identity, token, seed

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the clone's lock for fetch, worktree add/remove and push, never the agent's work."""
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path.parent / f"{self.key}.lock"), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise WorktreeError(
                f"the clone of {self.key} stayed locked for {LOCK_TIMEOUT:.0f} s"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def env(self, network: bool = False) -> dict[str, str]:
        """Return the command environment: our identity.

        With `network` (the command talks to the remote), the token header too.
        """
        pairs = [("user.name", self.identity.name), ("user.email", self.identity.email)]
        if network and self._token is not None and self._token.value:
            basic = base64.b64encode(f"x-access-token:{self._token.reveal()}".encode()).decode()
            parts = urlsplit(self.url)
            pairs += [
                ("credential.helper", ""),
                (
                    f"http.{parts.scheme}://{parts.netloc}/.extraHeader",
                    f"Authorization: Basic {basic}",
                ),
            ]
        # The environment's GIT_COMMITTER_* would beat user.name, so they are set too; authors are
        # left alone (a rebase keeps them) and `commit` names ours with --author.
        return {
            **config_env(pairs),
            "GIT_COMMITTER_NAME": self.identity.name,
            "GIT_COMMITTER_EMAIL": self.identity.email,
        }

    def git(
        self,
        *args: str,
        cwd: Path | None = None,
        network: bool = False,
        check: bool = True,
        strip: bool = True,
    ) -> str:
        """Run git in the clone (or in one of its worktrees) and return stdout."""
        return run(cwd or self.path, args, self.env(network), check=check, strip=strip)[1]

    def sha(self, ref: str, cwd: Path | None = None) -> str | None:
        """Return the commit a ref names, or None when it does not exist."""
        status, out, _ = run(
            cwd or self.path,
            ("rev-parse", "--verify", "-q", f"{ref}^{{commit}}"),
            self.env(),
            check=False,
        )
        return out.strip() if status == 0 else None

    def ensure(self) -> None:
        """Make the clone if it is missing (seeded from `local_path` when set), and fetch.

        Call under `lock`.
        """
        if (self.path / "HEAD").exists():
            if self.git("config", "--get", "remote.origin.url", check=False).strip() != self.url:
                self.git("config", "remote.origin.url", self.url)
            self.fetch()
            return
        self._create()

    def _create(self) -> None:
        for stale in self.path.parent.glob(f".{self.path.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # a clone killed half-way: start it again
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        run(tmp.parent, ("init", "-q", "--bare", str(tmp)), self.env())
        self.git("config", "remote.origin.url", self.url, cwd=tmp)
        self.git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=tmp)
        self.git(
            "config", "gc.autoDetach", "false", cwd=tmp
        )  # no gc left running in the background
        (tmp / "info").mkdir(exist_ok=True)
        (tmp / "info" / "exclude").write_text(
            f"# Agent OS: the agent's result contract\n/{RESULT_FILE}\n"
        )
        if (
            self.seed is not None
        ):  # objects from a local clone, so the fetch below brings only what is new
            self.git(
                "fetch",
                "-q",
                "--no-tags",
                str(self.seed.expanduser()),
                "+refs/heads/*:refs/seed/*",
                cwd=tmp,
            )
        self.fetch(tmp)
        for ref in self.git("for-each-ref", "--format=%(refname)", "refs/seed/", cwd=tmp).split():
            self.git("update-ref", "-d", ref, cwd=tmp)
        os.rename(tmp, self.path)

    @retry(
        retry=retry_if_exception_type(TransientGitError),
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=1, max=8),
        reraise=True,
    )
    def fetch(self, cwd: Path | None = None) -> None:
        """Fetch every branch from origin, pruning deleted ones; retried on network hiccups only."""
        try:
            self.git("fetch", "-q", "--prune", "--no-tags", "origin", cwd=cwd, network=True)
        except WorktreeError as error:
            if ".lock" not in str(error) or not self._clear_stale_locks(cwd or self.path):
                raise
            self.git("fetch", "-q", "--prune", "--no-tags", "origin", cwd=cwd, network=True)

    @staticmethod
    def _clear_stale_locks(clone: Path) -> bool:
        """Delete ref lock files a killed fetch left behind; return whether there were any.

        Only remote-tracking refs and packed-refs, which nothing but our fetch (under the
        clone lock) writes, and only locks a minute old: never a lock a live git holds
        (agent-os deletes index.lock between retries, which can kill a legitimate operation).
        """
        cutoff = time.time() - STALE_LOCK_SECONDS
        candidates = [*(clone / "refs" / "remotes").rglob("*.lock"), clone / "packed-refs.lock"]
        stale = [p for p in candidates if p.is_file() and p.stat().st_mtime < cutoff]
        for path in stale:
            path.unlink(missing_ok=True)
        return bool(stale)

    def worktrees(self) -> list[tuple[Path, str | None]]:
        """Return each registered worktree's path and its branch ref (None when detached)."""
        found: list[tuple[Path, str | None]] = []
        for block in self.git("worktree", "list", "--porcelain").split("\n\n"):
            lines = dict(line.partition(" ")[::2] for line in block.splitlines() if line)
            if "worktree" in lines and "bare" not in lines:
                found.append((Path(lines["worktree"]), lines.get("branch") or None))
        return found

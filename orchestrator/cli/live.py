"""`agentos check --live` (and `doctor`): ask each service, tool and folder whether it works.

One line per verdict: `ok` (works), `warn` (works, but look) or `FAIL` (will not work). Nothing
is changed anywhere: GitHub is read (the token's scopes, each repo, each board's Status
options or labels), Telegram is asked `getMe` and `getChat` (no message is sent), and each
tool is run with `--version` or its login status, every call bounded by a timeout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.cli.live_executors import executor_lines
from orchestrator.cli.live_merging import merging
from orchestrator.config.model import AgentBackend, AgentType, Config, RepoConfig
from orchestrator.core.model import BoardStatus
from orchestrator.errors import ChatError, StateError, TrackerError
from orchestrator.jobs import JobSpec
from orchestrator.store.logs import event_log, last_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from orchestrator.adapters.github import GitHubTracker
    from orchestrator.adapters.github_graphql import GraphQL
    from orchestrator.adapters.github_http import RetryPolicy

OK, WARN, FAIL = "ok", "warn", "FAIL"
TIMEOUT = 10  # seconds for any one request or tool
MIN_FREE = 1 << 30  # bytes free under runtime/ below which the disk is worth a warning
LOGINS = {  # how each CLI keeps a login: the variables that stand for one, its status command
    AgentType.CLAUDE: (("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"), ("auth", "status")),
    AgentType.CODEX: (("OPENAI_API_KEY", "CODEX_API_KEY"), ("login", "status")),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One line of the report: `level` is ok, warn or FAIL."""

    level: str
    text: str

    def __str__(self) -> str:
        return f"{self.level} {self.text}"


def verdicts(
    config: Config, env: Mapping[str, str], jobs: Mapping[str, JobSpec], tabfile: Path | None
) -> Iterator[Verdict]:
    """Yield every verdict, GitHub first: a slow service shows its lines as they come."""
    yield from github(config)
    yield from executors(config)
    yield from telegram(config)
    for backend in config.agents.backends.values():
        yield agent(config, backend, env)
    yield isolation(config, env)
    yield from schedule(config, jobs, env, tabfile)
    yield disk(config.paths.runtime_dir)


# -- GitHub ----------------------------------------------------------------------------------------
def github(config: Config) -> Iterator[Verdict]:
    """Check the token (scopes), then each repo (push) and its board (statuses)."""
    from orchestrator.adapters.github import GitHubTracker
    from orchestrator.adapters.github_graphql import GraphQL

    policy = _waiting_policy()
    tracker = GitHubTracker(config.github, retry=policy, timeout=TIMEOUT, throttle=False)
    graphql = GraphQL(config.github, retry=policy, timeout=TIMEOUT)
    try:
        try:
            login, scopes = tracker.token_scopes()
        except TrackerError as exc:  # refused or unreachable: every other GitHub line would say so
            yield Verdict(FAIL, f"github token: {exc}")
            return
        yield _scopes(tracker, config, login, scopes)
        for repo in config.repos:
            yield _repo(tracker, repo)
            yield _board(tracker, graphql, repo)
            yield Verdict(*merging(tracker, graphql, repo))
        if config.review.token is not None:
            yield _reviewer(config, tracker, login, policy)
    finally:
        graphql.close()
        tracker.close()


def executors(config: Config) -> Iterator[Verdict]:
    """Check each remote executor a repo uses (cli/live_executors.py)."""
    for works, line in executor_lines(config, _waiting_policy(), TIMEOUT):
        yield Verdict(OK if works else FAIL, line)


def _waiting_policy() -> RetryPolicy:
    """Someone is waiting: one retry, short waits; a rate limit fails the line, never waits."""
    from orchestrator.adapters.github_http import RetryPolicy

    return RetryPolicy(
        total=1, backoff_factor=0.5, backoff_max=2, secondary_rate_wait=5, max_rate_limit_wait=5
    )


def _scopes(tracker: GitHubTracker, config: Config, login: str, scopes: str | None) -> Verdict:
    if scopes is None:
        return Verdict(OK, f"github token: {login}; fine-grained token: scopes not listed")
    try:
        missing = tracker.missing_scopes(config.repos, login, scopes)
    except TrackerError as exc:
        return Verdict(FAIL, f"github token: {login}; scopes {scopes or 'none'}: {exc}")
    if missing:
        return Verdict(FAIL, f"github token: {login}; " + "; ".join(missing))
    return Verdict(OK, f"github token: {login}; scopes {scopes}")


def _reviewer(config: Config, tracker: GitHubTracker, ours: str, policy: RetryPolicy) -> Verdict:
    """The verifier's second identity (`review.token`): valid, not Agent OS's own login (GitHub
    refuses a review's APPROVE from the PR's author), and able to write to each repo where it
    judges (an approval by someone who cannot write counts toward no required review)."""
    from orchestrator.adapters.github import GitHubTracker
    from orchestrator.core.model import Permission

    assert config.review.token is not None
    github = replace(config.github, token=config.review.token)
    reviewer = GitHubTracker(github, retry=policy, timeout=TIMEOUT, throttle=False)
    try:
        login, _ = reviewer.token_scopes()
    except TrackerError as exc:
        return Verdict(FAIL, f"review.token: {exc}")
    finally:
        reviewer.close()
    if login.lower() == ours.lower():
        return Verdict(
            WARN,
            f"review.token: {login} is Agent OS's own identity (github.token): GitHub refuses an "
            "approval from a pull request's author, so the verifier's reviews stay comments",
        )
    judged = [r for r in config.repos if r.review.enabled]
    try:
        weak = [r.github for r in judged if tracker.permission(r.github, login) < Permission.WRITE]
    except TrackerError as exc:
        return Verdict(FAIL, f"review.token: {login}: {exc}")
    if weak:
        return Verdict(
            WARN,
            f"review.token: {login} cannot write to {', '.join(weak)}: its approvals count "
            "toward no required review there",
        )
    return Verdict(OK, f"review.token: {login}, a second identity that can review")


def _repo(tracker: GitHubTracker, repo: RepoConfig) -> Verdict:
    try:
        problems = tracker.repo_problems(repo)
    except TrackerError as exc:
        return Verdict(FAIL, f"repos.{repo.key}: {exc}")
    if problems:
        return Verdict(FAIL, "; ".join(problems))
    return Verdict(OK, f"repos.{repo.key}: {repo.github}, the token can push")


def _board(tracker: GitHubTracker, graphql: GraphQL, repo: RepoConfig) -> Verdict:
    """A Projects board needs a Status option per status; a label board, the `status:*` labels.

    Missing labels are a warning: the label board creates each one the first time it sets it.
    """
    from orchestrator.adapters.github_board_normalize import project_node, status_field
    from orchestrator.core.board import status_names

    where = f"repos.{repo.key}.board"
    try:
        if repo.board is None:
            have = tracker.label_names(repo.github)
            missing = [s.label for s in BoardStatus if s.label not in have]
            if missing:
                return Verdict(
                    WARN,
                    f"{where}: {repo.github} lacks the labels {', '.join(missing)} "
                    "(made when first set; `agentos init` makes them all)",
                )
            return Verdict(OK, f"{where}: status:* labels on {repo.github}")
        ref, names = repo.board, status_names(dict(repo.board.status_names))
        subject = f"board {ref.owner}/{ref.number}"
        data = graphql.run(
            "status_field",
            {"owner": ref.owner, "number": ref.number, "status": "Status"},
            subject=subject,
            action="read",
        )
        field = status_field(project_node(data, ref.owner, ref.number), names)
    except TrackerError as exc:
        return Verdict(FAIL, f"{where}: {exc}")
    absent = [names[s] for s in BoardStatus if s not in field.options]
    if absent:
        return Verdict(
            FAIL,
            f"{where}: {subject}'s Status lacks the options {', '.join(absent)} "
            "(`agentos init` adds them)",
        )
    return Verdict(OK, f"{where}: {subject}, Status has all {len(BoardStatus)} options")


# -- Telegram --------------------------------------------------------------------------------------
def telegram(config: Config) -> Iterator[Verdict]:
    """Check the bot token (getMe) and that each allowed chat is reachable (getChat)."""
    if config.telegram is None:
        yield Verdict(WARN, "telegram: not configured; notifications go to the event log only")
        return
    from orchestrator.adapters.telegram_probe import reach

    try:
        found = reach(config.telegram, TIMEOUT)
    except ChatError as exc:  # a refused token (ChatUnauthorized) included
        yield Verdict(FAIL, f"telegram: {exc}")
        return
    yield Verdict(OK, f"telegram: bot @{found.username}")
    for chat, why in found.chats.items():
        role = "notify chat" if chat == config.telegram.notify_chat else "allowed chat"
        yield (
            Verdict(OK, f"telegram {role} {chat}: reachable")
            if why is None
            else Verdict(
                FAIL, f"telegram {role} {chat}: {why} (write to the bot from that chat first)"
            )
        )


# -- tools -----------------------------------------------------------------------------------------
def agent(config: Config, backend: AgentBackend, env: Mapping[str, str]) -> Verdict:
    """Check that a backend can run: its program is there and, for a CLI, that it is logged in."""
    where = f"agents.backends.{backend.name}"
    if backend.type is AgentType.ANTHROPIC:
        key = backend.api_key
        return (
            Verdict(OK, f"{where}: anthropic API, key {key} set")
            if key is not None and key.value
            else Verdict(FAIL, f"{where}: anthropic API without an api_key")
        )
    if backend.type is AgentType.COMMAND:
        program = backend.argv[0]
        local = config.source.parent / program
        found = shutil.which(program, path=env.get("PATH")) or (
            str(local) if "/" in program and shutil.which(str(local)) else None
        )
        if found is None:
            return Verdict(FAIL, f"{where}: {program!r} is not an executable program")
        return Verdict(OK, f"{where}: command {found}")
    binary = shutil.which(backend.binary or backend.type.value, path=env.get("PATH"))
    if binary is None:
        return Verdict(FAIL, f"{where}: {backend.binary or backend.type.value} not found on PATH")
    version = tool_version(binary, env)
    if version is None:
        return Verdict(FAIL, f"{where}: {binary} --version failed")
    login = _login(backend, binary, env)
    if login is None:
        how = "run `claude` once" if backend.type is AgentType.CLAUDE else "run `codex login`"
        return Verdict(FAIL, f"{where}: {version}, not logged in ({how}, or give it an api_key)")
    return Verdict(OK, f"{where}: {version}, {login}")


def _login(backend: AgentBackend, binary: str, env: Mapping[str, str]) -> str | None:
    """Say how the CLI is logged in, cheapest test first; None when it is not."""
    names, status = LOGINS[backend.type]
    if backend.api_key is not None and backend.api_key.value:
        return f"api_key {backend.api_key}"
    passed = {n: env[n] for n in backend.pass_env if n in env} | dict(backend.env)
    given = [name for name in names if passed.get(name)]
    if given:
        return f"{given[0]} given"
    if backend.type is AgentType.CLAUDE:
        home = passed.get("CLAUDE_CONFIG_DIR") or env.get("CLAUDE_CONFIG_DIR")
        folder = Path(home) if home else Path(env.get("HOME") or "~").expanduser() / ".claude"
        if (folder / ".credentials.json").is_file():
            return f"logged in ({folder / '.credentials.json'})"
    # a keychain login, or Codex's: only the CLI knows (it sees its own variables, no token)
    done = run_tool([binary, *status], {**env, **backend.env})
    if done is None or done.returncode != 0:
        return None
    try:  # `claude auth status` prints JSON whose loggedIn says; Codex says it in its exit code
        said = json.loads(done.stdout)
    except ValueError:
        return "logged in"
    return None if isinstance(said, dict) and said.get("loggedIn") is False else "logged in"


def isolation(config: Config, env: Mapping[str, str]) -> Verdict:
    """Check that bubblewrap can confine the agents, as agents.isolation asks."""
    from orchestrator.adapters.agents.confine import Walls, probe

    if config.agents.isolation.value == "none":
        why = probe()
        return Verdict(
            WARN,
            "bwrap: agents run unconfined (agents.isolation: none)"
            + ("" if why is None else f"; {why}"),
        )
    refusal = Walls.from_config(config, env).refusal()
    if refusal is not None:
        return Verdict(FAIL, f"bwrap: {refusal}")
    return Verdict(OK, "bwrap: confines the agents")


def schedule(
    config: Config, jobs: Mapping[str, JobSpec], env: Mapping[str, str], tabfile: Path | None
) -> Iterator[Verdict]:
    """Check that the cron block is installed, and how each job's last run went."""
    from orchestrator.cli import cron

    if tabfile is None and shutil.which("crontab", path=env.get("PATH")) is None:
        yield Verdict(WARN, "cron: no crontab here (systemd timers: `agentos cron show --systemd`)")
    else:
        try:
            shown = cron.show(config.paths.root, tabfile=tabfile)
        except StateError as exc:
            shown = f"not installed: {exc}"
        if shown.startswith("not installed"):
            yield Verdict(WARN, f"cron: {shown} (`agentos cron install`)")
        else:
            ticks = sum(1 for line in shown.splitlines() if " run " in line)
            yield Verdict(OK, f"cron: installed, {ticks} job line(s)")
    for name, spec in jobs.items():
        if spec.built:
            yield last_run(config, name)


def last_run(config: Config, job: str) -> Verdict:
    """Say how the job's last tick ended (a crash or a refused token is worth a look)."""
    event = last_event(event_log(config.paths.logs_dir, job))
    if event is None:
        return Verdict(WARN, f"job {job}: never run")
    outcome = str(event.get("outcome", "?"))
    said = f"job {job}: last run {str(event.get('ts', '?'))[:19].replace('T', ' ')}Z {outcome}"
    if outcome == "ok":
        return Verdict(OK, said)
    return Verdict(WARN, f"{said}: {str(event.get('error', ''))[:200]}")


def disk(runtime_dir: Path) -> Verdict:
    """Warn when the disk under runtime/ has less than a GiB free."""
    where = runtime_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    said = f"disk: {free / (1 << 30):.1f} GiB free under {runtime_dir}"
    return Verdict(OK, said) if free >= MIN_FREE else Verdict(WARN, f"{said} (under 1 GiB)")


def tool_version(binary: str, env: Mapping[str, str]) -> str | None:
    """Return the first line `binary --version` prints, or None when it does not run."""
    done = run_tool([binary, "--version"], env)
    if done is None or done.returncode != 0:
        return None
    said = (done.stdout or done.stderr).strip().splitlines()
    return said[0][:80] if said else Path(binary).name


def run_tool(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str] | None:
    """Run a tool bounded by TIMEOUT, no input; None when it cannot start or takes too long.

    It gets what an agent would of the environment (PATH, HOME, locale, its own login folder),
    never a token of ours.
    """
    from orchestrator.adapters.agents.environment import ALLOWED

    kept = (*ALLOWED, "CLAUDE_CONFIG_DIR", "CODEX_HOME")
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={name: env[name] for name in kept if name in env},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None

"""The typed, immutable configuration object that every job receives."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config.executor_model import ExecutorConfig, Placement
from orchestrator.core.evidence import DEFAULT_PRICES, Price
from orchestrator.core.outbound import OutboundRules
from orchestrator.core.risk import RiskRules
from orchestrator.core.tasks import TaskType


class AutomationMode(enum.Enum):
    FULL = "full"  # merge green PRs
    DISPATCHER_ONLY = "dispatcher_only"  # open PRs, leave merging to a human


class MergeMethod(enum.Enum):
    SQUASH = "squash"
    MERGE = "merge"
    REBASE = "rebase"


class Isolation(enum.StrEnum):
    """How agent processes run: confined by bubblewrap (docs/security.md), or as plain children."""

    BWRAP = "bwrap"
    NONE = "none"


class AgentType(enum.Enum):
    CLAUDE = "claude"
    CODEX = "codex"
    ANTHROPIC = "anthropic"
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class Secret:
    """A `$VAR` reference from the config; the value never appears in repr or str."""

    var: str
    value: str | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return f"${self.var}"

    def reveal(self) -> str:
        """Return the secret's value; only adapters that send it somewhere call this."""
        if self.value is None:
            raise LookupError(f"${self.var} is not set")
        return self.value


@dataclass(frozen=True, slots=True)
class BoardRef:
    owner: str
    number: int
    status_names: tuple[
        tuple[str, str], ...
    ] = ()  # (status key, option name): `ready` is called "Todo"


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """The `review` section (`repos[].review` over it): the independent verifier before a merge."""

    verifiers: tuple[str, ...] = ()  # anthropic backends, first one that did not write it; (): off
    token: Secret | None = None  # a second GitHub identity for real reviews; top level only

    @property
    def enabled(self) -> bool:
        return bool(self.verifiers)


@dataclass(frozen=True, slots=True)
class RepoConfig:
    key: str
    github: str  # "owner/name"
    local_path: Path | None
    base_branch: str
    test_command: str | None
    board: BoardRef | None  # None: status lives in `status:*` labels
    automation_mode: AutomationMode
    max_parallel_tasks: int
    merge_method: MergeMethod = MergeMethod.SQUASH
    outbound: OutboundRules = OutboundRules()  # the top `outbound` section under repos[].outbound
    review: ReviewConfig = ReviewConfig()  # the top `review` section under repos[].review
    require_checks: bool = True  # no check at all on a PR's head: no merge
    max_awaiting_review: int | None = None  # agent PRs waiting for a person before queueing stops
    # the acceptance proof's command, with `{files}`; None: from a pytest test_command; "": off
    acceptance_command: str | None = None
    plan_file: str | None = None  # a markdown plan in the repo, imported hourly (docs/plan.md)
    merge_train: bool = True  # with merge_method merge: green PRs to one base ride one train
    serialize_overlaps: bool = True  # an issue predicted to edit a running one's files waits
    max_cost_per_task: float | None = None  # USD; its own, else limits' (config/caps.py)
    max_cost_per_day: float | None = None  # USD this repo's tasks may spend in a day
    placement: Placement = Placement()  # which executor runs its attempts (config/executors.py)

    @property
    def owner(self) -> str:
        return self.github.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.github.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class GitHubConfig:
    token: Secret
    api_url: str
    graphql_url: str
    trusted_users: tuple[str, ...]
    commit_author: str | None = (
        None  # "Name <email>" of the orchestrator's commits; None: the default bot
    )
    seconds_between_writes: float = 1.0  # GitHub's advice for content-creating requests


def default_graphql_url(api_url: str) -> str:
    """Return the GraphQL endpoint of a REST root: GitHub's, or an Enterprise Server's."""
    root = api_url.rstrip("/")
    return (
        root[: -len("/v3")] + "/graphql"
        if root.endswith("/api/v3")
        else "https://api.github.com/graphql"
    )


@dataclass(frozen=True, slots=True)
class AgentBackend:
    name: str
    type: AgentType
    timeout_minutes: float  # may be a fraction: 0.5 is thirty seconds
    argv: tuple[str, ...] = ()  # command backends: the program and its arguments
    binary: str | None = None  # claude / codex: the CLI to run (default: the type's name)
    model: str | None = None
    api_key: Secret | None = None  # the backend's own model credential (required for anthropic)
    max_turns: int = 50
    base_url: str | None = None  # the model API the backend talks to (a proxy, the sandbox)
    # literal variables added to the agent's environment
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    pass_env: tuple[str, ...] = ()  # host variables passed through (never a token or a config $VAR)
    permission_mode: str = "acceptEdits"  # claude: --permission-mode
    allowed_tools: tuple[str, ...] = ("Bash",)  # claude: --allowedTools
    sandbox: str = "workspace-write"  # codex: --sandbox


@dataclass(frozen=True, slots=True)
class AgentsConfig:
    backends: Mapping[str, AgentBackend]
    chains: Mapping[str, tuple[str, ...]]  # task type -> backend names, tried in order
    isolation: Isolation = Isolation.BWRAP  # agents.isolation

    def chain_for(self, task_type: TaskType) -> tuple[AgentBackend, ...]:
        """Return the fallback chain for a task type, or the default chain."""
        names = self.chains.get(task_type) or self.chains["default"]
        return tuple(self.backends[n] for n in names)


@dataclass(frozen=True, slots=True)
class Limits:
    max_parallel_workers: int = 4
    max_attempts: int = 3
    max_fix_rounds: int = 3
    wedged_hours: float = 4.0
    checks_grace_minutes: int = 10
    agent_cooldown_minutes: int = 60
    stall_minutes: int = 10
    test_timeout_minutes: int = 15


@dataclass(frozen=True, slots=True)
class Caps:
    """The `limits` read beside `Limits` (config/caps.py): spending caps and quota waits."""

    max_cost_per_task: float | None = None  # USD a task's attempts may spend; None: no cap
    max_cost_per_day: float | None = None  # USD every repo's tasks together may spend in a day
    max_deferrals: int = 5  # quota waits one attempt sits out before it is escalated


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: Secret
    api_url: str
    allowed_chat_ids: tuple[int, ...]
    allowed_user_ids: tuple[int, ...]
    notify_chat_id: int | None = None  # where notifications go; None: the first allowed chat

    @property
    def notify_chat(self) -> int:
        """The chat notifications and escalation buttons are sent to."""
        return self.notify_chat_id if self.notify_chat_id is not None else self.allowed_chat_ids[0]


@dataclass(frozen=True, slots=True)
class Paths:
    root: Path  # the install root (where bin/agentos lives)
    runtime_dir: Path
    worktrees_dir: Path
    objectives_dir: Path | None = None  # objectives/<repo key>.yaml; None: beside the config

    @property
    def state_dir(self) -> Path:
        return self.runtime_dir / "state"

    @property
    def logs_dir(self) -> Path:
        return self.runtime_dir / "logs"

    @property
    def locks_dir(self) -> Path:
        return self.runtime_dir / "locks"

    @property
    def mailbox_dir(self) -> Path:
        return self.runtime_dir / "mailbox"

    @property
    def rooms_dir(self) -> Path:
        return self.runtime_dir / "rooms"


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    structure_briefs_with: str | None = (
        None  # an anthropic backend that structures vague issues; None: off
    )
    full_read_minutes: int = 10  # boards read in full at least this often (core.board_reads)


class SourceKind(enum.Enum):
    JSONL = "jsonl"  # a file of JSON lines the app appends to
    COMMAND = "command"  # a program whose failing exit or output lines are signals
    URL = "url"  # an HTTP health endpoint: an error, a timeout or a non-2xx status is a signal


@dataclass(frozen=True, slots=True)
class SignalSource:
    """A place the user's software reports its failures, read by the incident scanner."""

    name: str
    repo: str  # the repo key whose backlog gets the incidents
    kind: SourceKind
    path: Path | None = None  # jsonl
    argv: tuple[str, ...] = ()  # command
    url: str | None = None  # url
    timeout_seconds: float = 10.0
    severity: str = "high"


@dataclass(frozen=True, slots=True)
class ImproveConfig:
    """The `improve` section: how the incident scanner, log analyzer and scorer file and judge."""

    incidents_repo: str | None = None  # repo key for Agent OS's own incidents; None: each its own
    daily_cap: int = 5  # issues Agent OS files in one repo in a day, all producers together
    ready_severities: tuple[str, ...] = ()  # severities filed straight into Ready (else Backlog)
    repeats: int = 3  # the same task failure on this many tasks in a day is an incident
    watch_days: int = 30  # a fixed signature that recurs this long after the fix reopens its issue
    failure_window_days: int = 7  # a merge reverted or followed by an incident this soon failed
    triage_with: str | None = None  # an anthropic backend that triages clusters the rules lack
    window_days: int = 7  # the log analyzer's window
    chronic_count: int = 5  # a signature this often in the window is chronic
    chronic_share: float = 0.2  # or on this share of a repo's attempts
    rate_drop: float = 0.2  # an agent's merged rate falling this much (absolute) is reported
    sources: tuple[SignalSource, ...] = ()
    stale_days: int = 7  # the groomer: an escalation older than this is named in the digest


class Autonomy(enum.Enum):
    ASK = "ask"  # a plan waits for Approve in the chat
    AUTO = "auto"  # a plan is applied as soon as it is made


@dataclass(frozen=True, slots=True)
class PlanCadence:
    """How one repo is planned (`planner`, with `planner.repos.<key>` over it)."""

    enabled: bool = True
    cadence_days: int = 7  # a plan at most this often (`/plan` asks for one sooner)
    max_ready: int = 5  # issues a plan may move to Ready
    max_new: int = 2  # issues a plan may draft
    autonomy: Autonomy = Autonomy.ASK


@dataclass(frozen=True, slots=True)
class PlannerConfig:
    """The `planner` section: the model that plans, and each repo's cadence."""

    with_backend: str | None = None  # an anthropic backend; None: no plans are made
    expires_hours: int = 48  # an unanswered plan expires; the next waits for the cadence
    default: PlanCadence = PlanCadence()
    repos: Mapping[str, PlanCadence] = field(default_factory=dict)

    def cadence(self, repo_key: str) -> PlanCadence:
        return self.repos.get(repo_key, self.default)


@dataclass(frozen=True, slots=True)
class LogsConfig:
    """The `logs` section: a job log past `max_mb` is rotated; rotated ones are kept a while."""

    max_mb: float = 20.0
    keep_days: int = 30
    keep_files: int = 5

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class WebhooksConfig:
    """The `webhooks` section: where `agentos serve` receives webhooks (docs/webhooks.md)."""

    secret: Secret  # the hooks' secret on GitHub: every delivery is signed with it
    port: int = 8787
    bind: str = "127.0.0.1"
    path: str = "/github"
    max_body_bytes: int = 5 * 1024 * 1024  # a bigger delivery is answered 413


@dataclass(frozen=True, slots=True)
class Config:
    source: Path
    repos: tuple[RepoConfig, ...]
    github: GitHubConfig
    agents: AgentsConfig
    limits: Limits
    telegram: TelegramConfig | None  # None: notifications go to the event log only
    paths: Paths
    schedule: Mapping[str, str]  # job name -> cron expression, defaults filled in
    overridden: tuple[str, ...] = ()  # dotted keys set by runtime/state/overrides.yaml
    dispatcher: DispatcherConfig = DispatcherConfig()
    outbound: OutboundRules = OutboundRules()  # the top `outbound` section: every repo's defaults
    env_file: Path | None = None  # the env file `$VAR`s were read from, when there is one
    improve: ImproveConfig = ImproveConfig()
    # model name (or a prefix of one) -> its price: the defaults, with the config's over them
    prices: Mapping[str, Price] = field(default_factory=lambda: DEFAULT_PRICES)
    logs: LogsConfig = LogsConfig()  # rotation and retention of runtime/logs/<job>.jsonl
    planner: PlannerConfig = PlannerConfig()
    review: ReviewConfig = ReviewConfig()  # the verifier's defaults; each repo's is its own
    risk: RiskRules = RiskRules()  # a PR's risk tier (core.risk)
    webhooks: WebhooksConfig | None = None  # None: no receiver, the jobs poll on their schedules
    caps: Caps = Caps()  # limits.max_cost_per_task, max_cost_per_day, max_deferrals
    executors: Mapping[str, ExecutorConfig] = field(default_factory=dict)  # by name; not local

    @property
    def task_slots(self) -> int:
        """Tasks that may run at once in all: the local workers, and each remote executor's slots
        (those a repo uses); the queue counts each pool apart (docs/scale-out.md)."""
        used = {r.placement.executor for r in self.repos}
        used |= {name for r in self.repos for name in r.placement.by_type.values()}
        remote = sum(e.slots for name, e in self.executors.items() if name in used)
        return self.limits.max_parallel_workers + remote

    def outbound_for(self, repo: RepoConfig | str) -> OutboundRules:
        """Return what the outbound gate lets a change of this repo (or repo key) carry."""
        return (self.repo(repo) if isinstance(repo, str) else repo).outbound

    def repo(self, key: str) -> RepoConfig:
        """Return the repo with this key; KeyError names the known keys."""
        for repo in self.repos:
            if repo.key == key:
                return repo
        known = ", ".join(r.key for r in self.repos)
        raise KeyError(f"unknown repo {key!r} (known: {known})")

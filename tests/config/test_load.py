"""Config loading: one typed object, every problem reported at once with its dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.config.model import AgentType, AutomationMode, Isolation
from orchestrator.errors import ConfigError, OverridesError
from orchestrator.store.overrides import set_override
from tests.helpers import ENV, minimal_config, write_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_config_is_valid_and_fully_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # valid as copied: no path of it must exist
    env = {**ENV, "ANTHROPIC_API_KEY": "k"}
    config = load_config(ROOT / "config.example.yaml", env)
    repo = config.repo("app")
    assert repo.board is not None and repo.board.number == 1
    assert repo.automation_mode is AutomationMode.FULL
    assert [b.name for b in config.agents.chain_for("implementation")] == ["claude", "codex", "api"]
    assert [b.name for b in config.agents.chain_for("unknown-type")] == ["claude", "codex"]
    assert config.agents.backends["script"].type is AgentType.COMMAND
    assert config.github.token.reveal() == "test-token-value"
    assert config.telegram is not None and config.telegram.allowed_chat_ids == (123456789,)


def test_defaults_fill_everything_a_minimal_config_leaves_out(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    repo = config.repos[0]
    assert (repo.base_branch, repo.max_parallel_tasks, repo.board) == ("main", 2, None)
    assert config.github.api_url == "https://api.github.com"
    assert config.github.graphql_url == "https://api.github.com/graphql"
    assert config.telegram is None
    assert config.paths.runtime_dir == tmp_path / "runtime"
    assert config.paths.worktrees_dir == tmp_path / "runtime" / "worktrees"
    assert config.schedule["pr_monitor"] == "*/5 * * * *"
    assert config.agents.chains["default"] == ("script",)
    assert config.agents.isolation is Isolation.BWRAP and config.env_file is None


def test_the_env_file_is_known_by_its_resolved_path_so_agents_can_be_kept_from_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "agentos.env").write_text("GITHUB_TOKEN=from-the-env-file\n")
    data = minimal_config(
        env_file="secrets/../secrets/agentos.env",
        agents={"backends": {"script": {"type": "command", "argv": ["true"]}}, "isolation": "none"},
    )
    config = load_config(write_config(tmp_path, data), {})
    assert config.env_file == (tmp_path / "secrets" / "agentos.env").resolve()
    assert config.agents.isolation is Isolation.NONE
    (tmp_path / ".env").write_text("GITHUB_TOKEN=beside-the-config\n")
    assert load_config(write_config(tmp_path), {}).env_file == (tmp_path / ".env").resolve()


def test_config_is_immutable(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    with pytest.raises(AttributeError):
        config.repos[0].key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.agents.backends["x"] = config.agents.backends["script"]  # type: ignore[index]


def test_a_board_renames_the_statuses_it_spells_differently(tmp_path: Path) -> None:
    given = {"owner": "acme", "number": 3, "status_names": {"ready": " Todo ", "done": "Shipped"}}
    path = write_config(tmp_path, minimal_config(**_repo(board=given)))
    board = load_config(path, ENV).repos[0].board
    assert board is not None and board.status_names == (("ready", "Todo"), ("done", "Shipped"))


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({}, None),
        ({"acceptance_command": False}, ""),
        ({"acceptance_command": "tox {files}"}, "tox {files}"),
    ],
)
def test_the_acceptance_command_is_a_template_or_switched_off(
    tmp_path: Path, given: dict[str, object], read: str | None
) -> None:
    path = write_config(tmp_path, minimal_config(**_repo(**given)))
    assert load_config(path, ENV).repos[0].acceptance_command == read


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({}, None),
        ({"plan_file": None}, None),
        ({"plan_file": "PLAN.md"}, "PLAN.md"),
        ({"plan_file": "docs/v1.2/..plan.md"}, "docs/v1.2/..plan.md"),
        ({"plan_file": "p" * 300}, "p" * 300),
    ],
)
def test_the_plan_file_is_a_path_inside_the_repo_or_none(
    tmp_path: Path, given: dict[str, object], read: str | None
) -> None:
    path = write_config(tmp_path, minimal_config(**_repo(**given)))
    assert load_config(path, ENV).repos[0].plan_file == read


def test_enterprise_api_url_derives_the_graphql_url(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        minimal_config(github={"token": "$GITHUB_TOKEN", "api_url": "http://127.0.0.1:9/api/v3"}),
    )
    assert load_config(path, ENV).github.graphql_url == "http://127.0.0.1:9/api/graphql"


def _repo(**fields: object) -> dict[str, object]:
    return {"repos": [{"key": "app", "github": "acme/app", **fields}]}


INVALID = [
    (
        _repo(merge_method="fast-forward"),
        "repos[0].merge_method: expected one of squash | merge | rebase, got 'fast-forward'",
    ),
    (_repo(base_branch=""), "repos[0].base_branch: expected a non-empty string, got ''"),
    ({"repos": []}, "repos: expected a non-empty list of repositories, got an empty list"),
    ({"repos": None}, "repos: expected a non-empty list of repositories, got null"),
    (
        {"repos": [{"github": "acme/app"}]},
        "repos[0].key: is required (expected a non-empty string)",
    ),
    (_repo(github="acme"), "repos[0].github: expected \"owner/name\", got 'acme'"),
    (
        _repo(automation_mode="auto"),
        "repos[0].automation_mode: expected one of full | dispatcher_only, got 'auto'",
    ),
    (
        _repo(max_parallel_tasks="three"),
        "repos[0].max_parallel_tasks: expected a positive integer, got 'three'",
    ),
    (
        _repo(max_parallel_tasks=0),
        "repos[0].max_parallel_tasks: expected a positive integer, got 0",
    ),
    (
        _repo(board={"owner": "acme", "number": "one"}),
        "repos[0].board.number: expected a positive integer, got 'one'",
    ),
    (
        _repo(board={"owner": "acme", "number": 1, "status_names": {"todo": "Todo"}}),
        "repos[0].board.status_names.todo: unknown key "
        "(known: backlog, blocked, done, in_progress, in_review, ready)",
    ),
    (
        _repo(board={"owner": "acme", "number": 1, "status_names": {"ready": 3}}),
        "repos[0].board.status_names.ready: expected the option's name, got 3",
    ),
    (
        _repo(board={"owner": "acme", "number": 1, "status_names": {"ready": "Done"}}),
        "repos[0].board.status_names: ready and done are both named 'Done'",
    ),
    (
        _repo(colour="blue"),
        "repos[0].colour: unknown key (known: acceptance_command, automation_mode, base_branch, "
        "board, github, key, local_path, max_awaiting_review, max_parallel_tasks, merge_method, "
        "merge_train, outbound, plan_file, require_checks, review, serialize_overlaps, "
        "test_command)",
    ),
    *[
        (
            _repo(plan_file=bad),
            "repos[0].plan_file: expected a relative path inside the repository "
            f"(no '..', at most 300 characters), got {shown}",
        )
        for bad, shown in [
            ("/etc/PLAN.md", "'/etc/PLAN.md'"),
            ("../PLAN.md", "'../PLAN.md'"),
            ("docs/../../PLAN.md", "'docs/../../PLAN.md'"),
            ("docs//PLAN.md", "'docs//PLAN.md'"),
            ("docs/", "'docs/'"),
            ("PLAN\nmd", "'PLAN\\nmd'"),
            ("p" * 301, "'" + "p" * 56 + "..."),
        ]
    ],
    (_repo(plan_file=""), "repos[0].plan_file: expected a non-empty string, got ''"),
    (
        _repo(plan_file=["PLAN.md"]),
        "repos[0].plan_file: expected a non-empty string, got a list of 1 string",
    ),
    (
        _repo(acceptance_command="pytest -q"),
        "repos[0].acceptance_command: expected {files} in it, got 'pytest -q'",
    ),
    (
        _repo(key="App Key"),
        "repos[0].key: expected lower-case letters, digits, '.', '_' or '-', got 'App Key'",
    ),
    (
        {"repos": [{"key": "a", "github": "o/a"}, {"key": "a", "github": "o/b"}]},
        "repos[1].key: duplicate repo key 'a'",
    ),
    (
        {"github": {"token": "ghp_literal_value_here"}},
        "github.token: expected a $VAR reference (secrets never go in the config file), "
        "got a literal value",
    ),
    ({"github": {"token": "$NOT_SET_ANYWHERE"}}, "github.token: $NOT_SET_ANYWHERE is not set"),
    (
        {"github": {"token": "$GITHUB_TOKEN", "api_url": "ftp://x"}},
        "github.api_url: expected an http(s) URL, got 'ftp://x'",
    ),
    ({"github": None}, "github: is required (at least `token: $GITHUB_TOKEN`)"),
    (
        {"agents": {"backends": {}}},
        "agents.backends: expected a mapping of backend name to settings, got an empty mapping",
    ),
    (
        {"agents": {"backends": {"x": {"type": "gpt"}}}},
        "agents.backends.x.type: expected one of claude | codex | anthropic | command, got 'gpt'",
    ),
    (
        {"agents": {"backends": {"x": {"type": "claude"}}, "isolation": "docker"}},
        "agents.isolation: expected one of bwrap | none, got 'docker'",
    ),
    (
        {"agents": {"backends": {"x": {"type": "command"}}}},
        "agents.backends.x.argv: is required for a command backend (the program and its arguments)",
    ),
    (
        {"agents": {"backends": {"x": {"type": "claude", "timeout_minutes": -5}}}},
        "agents.backends.x.timeout_minutes: expected a positive number, got -5",
    ),
    (
        {"agents": {"backends": {"x": {"type": "claude"}}, "chains": {"default": ["y"]}}},
        "agents.chains.default[0]: unknown backend 'y' (known: x)",
    ),
    (
        {"agents": {"backends": {"x": {"type": "anthropic", "api_key": "$NO_SUCH_KEY"}}}},
        "agents.backends.x.api_key: $NO_SUCH_KEY is not set",
    ),
    (
        {"limits": {"max_attempts": "lots"}},
        "limits.max_attempts: expected a positive integer, got 'lots'",
    ),
    ({"limits": {"wedged_hours": 0}}, "limits.wedged_hours: expected a positive number, got 0"),
    (
        {"limits": {"max_parallel_worker": 2}},
        "limits.max_parallel_worker: unknown key (did you mean 'max_parallel_workers'?)",
    ),
    (
        {"telegram": {"token": "$TELEGRAM_BOT_TOKEN", "allowed_chat_ids": ["me"]}},
        "telegram.allowed_chat_ids[0]: expected an integer, got 'me'",
    ),
    (
        {"telegram": {"token": "$TELEGRAM_BOT_TOKEN"}},
        "telegram.allowed_chat_ids: is required (the chats allowed to command the bot)",
    ),
    (
        {"schedule": {"dispatcher": "every minute"}},
        "schedule.dispatcher: expected a cron expression "
        "(minute hour day-of-month month day-of-week), got 'every minute': it has 2 fields, not 5",
    ),
    (
        {"schedule": {"dispatch": "* * * * *"}},
        "schedule.dispatch: unknown key (did you mean 'dispatcher'?)",
    ),
    ({"paths": {"runtime_dir": ""}}, "paths.runtime_dir: expected a non-empty string, got ''"),
    ({"repo": []}, "repo: unknown key (did you mean 'repos'?)"),
]


@pytest.mark.parametrize("change, expected", INVALID, ids=[e.split(":")[0] for _, e in INVALID])
def test_each_invalid_config_gives_its_one_line_error(
    tmp_path: Path, change: dict, expected: str
) -> None:
    path = write_config(tmp_path, minimal_config(**change))
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    assert expected in caught.value.problems, caught.value.problems
    assert all("\n" not in p for p in caught.value.problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        minimal_config(
            repos=[{"key": "app", "github": "acme/app", "base_branch": ""}],
            github={"token": "$MISSING_TOKEN"},
            limits={"max_attempts": 0},
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith(f"{path} is invalid:\n  ")


def test_a_literal_secret_is_never_echoed(tmp_path: Path) -> None:
    secret = "ghp_" + "Ab3" * 12
    path = write_config(tmp_path, minimal_config(github={"token": secret}))
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("repos: [\n", "line 2, column 1"),
        ("- just\n- a list\n", "expected a mapping at the top level, got list"),
    ],
)
def test_malformed_yaml_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text), ENV)
    assert len(caught.value.problems) == 1 and expected in caught.value.problems[0]


def test_a_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="copy config.example.yaml"):
        load_config(tmp_path / "config.yaml", ENV)


def test_secrets_resolve_from_the_env_file_when_the_environment_lacks_them(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# cron has no environment\nexport GITHUB_TOKEN='from-file'\n")
    config = load_config(write_config(tmp_path), {})
    assert config.github.token.reveal() == "from-file"
    assert "from-file" not in repr(config)


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GITHUB_TOKEN=from-file\n")
    assert load_config(write_config(tmp_path), ENV).github.token.reveal() == "test-token-value"


def test_unset_secrets_are_tolerated_when_not_needed(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), {}, need_secrets=False)
    with pytest.raises(LookupError, match=r"\$GITHUB_TOKEN is not set"):
        config.github.token.reveal()


def test_overrides_from_chat_layer_over_the_config_and_are_listed(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    set_override(
        tmp_path / "runtime" / "state", ("repos", "app", "automation_mode"), "dispatcher_only"
    )
    config = load_config(path, ENV)
    assert config.repos[0].automation_mode is AutomationMode.DISPATCHER_ONLY
    assert config.overridden == ("repos[0].automation_mode",)
    assert "dispatcher_only" not in path.read_text()  # the user's file is never rewritten


def test_a_bad_override_is_reported_against_the_overrides_file(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    set_override(tmp_path / "runtime" / "state", ("repos", "app", "automation_mode"), "yolo")
    with pytest.raises(OverridesError) as caught:
        load_config(path, ENV)
    assert caught.value.problems[0].startswith("repos[0].automation_mode: expected one of")
    assert caught.value.source == str(tmp_path / "runtime" / "state" / "overrides.yaml")


def test_an_override_for_a_repo_no_longer_configured_is_ignored(tmp_path: Path) -> None:
    """Renaming a repo key must not leave every tick failing on a stale override.

    That includes the chat's tick.
    """
    path = write_config(tmp_path)
    set_override(
        tmp_path / "runtime" / "state", ("repos", "gone", "automation_mode"), "dispatcher_only"
    )
    config = load_config(path, ENV)
    assert config.overridden == () and config.repo("app").automation_mode.value == "full"


def test_overrides_cannot_reach_beyond_what_chat_may_change(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    set_override(tmp_path / "runtime" / "state", ("github", "api_url"), "http://evil.example")
    with pytest.raises(ConfigError, match="github: cannot be overridden from chat"):
        load_config(path, ENV)

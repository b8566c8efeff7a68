"""The `agentos` command line: exit codes, one-line errors, switches, check, help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.adapters.agents import confine
from orchestrator.cli.main import build_parser, main, quick_run
from tests.helpers import ENV, minimal_config, write_config

ROOT = Path(__file__).resolve().parents[2]


def agentos(config: Path, *words: str, env: dict[str, str] | None = None) -> int:
    return main(["--config", str(config), *words], environ={**ENV, **(env or {})})


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.mark.parametrize(
    "words, expected",
    [
        (["run", "dispatcher"], (None, "dispatcher", False)),
        (["--config", "c.yaml", "run", "queue", "--dry-run"], ("c.yaml", "queue", True)),
        (["--config=c.yaml", "run", "queue"], ("c.yaml", "queue", False)),
        (["run", "--help"], None),
        (["run"], None),
        (["status"], None),
        (["run", "queue", "--verbose"], None),
    ],
)
def test_the_cron_fast_path_recognises_only_plain_run_commands(
    words: list[str], expected: object
) -> None:
    assert quick_run(words) == expected


@pytest.mark.parametrize(
    "words", [[], ["run", "--help"], ["cron", "--help"], ["sandbox", "serve", "--help"]]
)
def test_every_help_ends_with_an_example(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser(words).parse_args([*words, "--help"] if words else ["--help"])
    out = capsys.readouterr().out.rstrip().splitlines()
    assert any(line.strip().startswith("agentos ") for line in out[-3:]), out[-3:]


@pytest.mark.parametrize(
    "words, fragment",
    [
        (["launch"], "invalid choice: 'launch'"),
        (["repo", "sideways", "app"], "invalid choice: 'sideways'"),
        (["job", "on"], "the following arguments are required: NAME"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line_and_exit_two(
    words: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(words, environ=ENV) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentos: ") and fragment in err


def test_repo_and_job_switches_write_their_flag_files(config: Path) -> None:
    state = config.parent / "runtime" / "state"
    assert agentos(config, "repo", "off", "app") == 0
    assert agentos(config, "job", "off", "queue") == 0
    assert (state / "repo_disabled" / "app").exists() and (
        state / "job_disabled" / "queue"
    ).exists()
    assert agentos(config, "repo", "on", "app") == 0
    assert not (state / "repo_disabled" / "app").exists()


@pytest.mark.parametrize(
    "words, fragment",
    [
        (["repo", "off", "web"], "unknown repo 'web' (known: app)"),
        (["job", "off", "deploy"], "unknown job 'deploy' (known: dispatcher, queue, pr_monitor"),
    ],
)
def test_unknown_repo_or_job_names_are_refused(
    config: Path, words: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agentos(config, *words) == 2
    assert fragment in capsys.readouterr().err
    assert not (config.parent / "runtime" / "state").exists()


def test_switches_work_while_a_secret_is_unset(config: Path) -> None:
    """The kill switch must work in an emergency, whatever the environment lacks."""
    assert main(["--config", str(config), "off"], environ={}) == 0
    assert main(["--config", str(config), "repo", "off", "app"], environ={}) == 0
    assert main(["--config", str(config), "status"], environ={}) == 0


def test_a_missing_config_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agentos(tmp_path / "nope.yaml", "on") == 2
    assert "file not found (copy config.example.yaml to start)" in capsys.readouterr().err


def test_the_config_comes_from_agentos_config_when_no_flag_is_given(config: Path) -> None:
    assert main(["off"], environ={**ENV, "AGENTOS_CONFIG": str(config)}) == 0
    assert (config.parent / "runtime" / "state" / "disabled").exists()


def test_status_shows_switches_overrides_and_mailbox(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.store.overrides import set_override

    agentos(config, "off")
    agentos(config, "job", "off", "pr_monitor")
    set_override(
        config.parent / "runtime" / "state", ("repos", "app", "automation_mode"), "dispatcher_only"
    )
    capsys.readouterr()
    assert agentos(config, "status") == 0
    out = capsys.readouterr().out
    assert out.startswith("Agent OS: OFF (since 20")
    assert "overridden from chat: repos[0].automation_mode" in out
    assert "dispatcher_only (overridden)" in out
    assert any(line.split()[:2] == ["pr_monitor", "off"] for line in out.splitlines())
    assert "mailbox:  inbox 0  processing 0  delivered 0  retried 0  escalated 0  dropped 0" in out


def test_check_passes_a_valid_setup_and_changes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confine, "probe", lambda: None)  # bubblewrap works (part of the setup)
    before = sorted(p.name for p in config.parent.rglob("*"))
    assert agentos(config, "check") == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ")
    assert "agents run confined by bubblewrap (agents.isolation: bwrap; docs/security.md)" in out
    assert sorted(p.name for p in config.parent.rglob("*")) == before


def test_check_fails_where_bwrap_cannot_confine_agents_and_passes_unconfined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confine, "probe", lambda: "bwrap cannot start (setting up uid map: EPERM)")
    assert agentos(write_config(tmp_path), "check") == 2
    out = capsys.readouterr().out
    assert (
        "FAIL agents.isolation: agents cannot be confined here: bwrap cannot start (setting up "
        "uid map: EPERM); set agents.isolation: none to run agents unconfined; see "
        "docs/security.md\n"
    ) in out
    data = minimal_config(
        agents={"backends": {"script": {"type": "command", "argv": ["true"]}}, "isolation": "none"}
    )
    assert agentos(write_config(tmp_path, data), "check") == 0
    assert "agents run unconfined (agents.isolation: none" in capsys.readouterr().out


def test_check_lists_everything_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unset secret still lets check look at the tools (a bad schedule is a config problem:
    tests/config/test_corpus.py)."""
    path = write_config(
        tmp_path,
        minimal_config(
            github={"token": "$UNSET_TOKEN"},
            agents={
                "backends": {
                    "cc": {"type": "claude", "binary": "no-such-claude"},
                    "mine": {"type": "command", "argv": ["./agents/missing.sh"]},
                },
                "isolation": "none",  # the same three problems wherever bwrap can start or not
            },
        ),
    )
    assert main(["--config", str(path), "check"], environ={"PATH": os.environ["PATH"]}) == 2
    out = capsys.readouterr().out
    assert "github.token: $UNSET_TOKEN is not set" in out
    assert (
        "'no-such-claude' not found on PATH (install it: npm install -g @anthropic-ai/claude-code)"
        in out
    )
    assert "agents.backends.mine.argv[0]: './agents/missing.sh' is not an executable program" in out
    assert "3 problem(s) to fix" in out


def test_an_unexpected_error_is_one_line_and_exit_one(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import commands

    def broken(*args: object) -> int:
        raise ValueError("boom with ghp_" + "x1Y" * 12)

    monkeypatch.setattr(commands, "status", broken)
    assert agentos(config, "status") == 1
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "unexpected error: ValueError: boom" in err and "x1Yx1Y" not in err
    )


def test_the_bin_shim_runs_the_cli(config: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "bin" / "agentos"), "--config", str(config), "status"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0 and result.stdout.startswith("Agent OS: ON")
    result = subprocess.run(
        [str(ROOT / "bin" / "agentos"), "--config", str(config), "run", "nope"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 2 and result.stderr.startswith("agentos: unknown job 'nope'")


def test_cron_install_through_the_cli_is_idempotent(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.jobfixtures.registry import JOBS

    tab = tmp_path / "crontab"
    tab.write_text("MAILTO=me@example.com\n0 3 * * * /usr/bin/backup\n")
    words = ["--config", str(config), "cron", "install", "--crontab-file", str(tab)]
    assert main(words, jobs=JOBS, environ=ENV) == 0
    first = tab.read_text()
    assert main(words, jobs=JOBS, environ=ENV) == 0
    assert tab.read_text() == first
    out = capsys.readouterr().out
    assert "crontab block installed." in out and "crontab block already up to date." in out
    assert first.startswith("MAILTO=me@example.com\n0 3 * * * /usr/bin/backup\n")
    assert first.count("run counting") == 1 and "run planned" not in first  # built jobs only
    assert (
        main(
            ["--config", str(config), "cron", "remove", "--crontab-file", str(tab)],
            jobs=JOBS,
            environ=ENV,
        )
        == 0
    )
    assert tab.read_text() == "MAILTO=me@example.com\n0 3 * * * /usr/bin/backup\n"


def test_cron_show_systemd_prints_units_and_install_systemd_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.jobfixtures.registry import JOBS

    assert main(["--config", str(config), "cron", "show", "--systemd"], jobs=JOBS, environ=ENV) == 0
    out = capsys.readouterr().out
    assert "# --- agentos-counting.timer" in out and "OnCalendar=" in out
    assert (
        main(["--config", str(config), "cron", "install", "--systemd"], jobs=JOBS, environ=ENV) == 2
    )


def test_cron_install_refuses_an_invalid_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, minimal_config(schedule={"queue": "* * * * 9"}))
    assert (
        main(
            ["--config", str(path), "cron", "install", "--crontab-file", str(tmp_path / "t")],
            environ=ENV,
        )
        == 2
    )
    assert "schedule.queue:" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_sandbox_serve_prints_its_url_and_token_keeps_state_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """`bin/agentos sandbox serve`, as a user runs it: the first line is what a config needs."""
    import signal

    import httpx

    data = tmp_path / "sandbox"
    process = subprocess.Popen(
        [
            str(ROOT / "bin" / "agentos"),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--data",
            str(data),
            "--token",
            "ghp_sandboxtoken",
            "--repo",
            "agentos/demo",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    try:
        assert process.stdout is not None
        url, token = process.stdout.readline().split()
        assert url.startswith("http://127.0.0.1:") and token == "ghp_sandboxtoken"
        repo = httpx.get(
            f"{url}/api/v3/repos/agentos/demo", headers={"Authorization": f"token {token}"}
        )
        assert repo.status_code == 200 and repo.json()["full_name"] == "agentos/demo"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
    assert code == 0 and (data / "state.json").exists()


def test_commands_other_than_sandbox_do_not_import_it() -> None:
    code = (
        "import sys; from orchestrator.cli.main import build_parser; build_parser(['status']);"
        " print(any(m.startswith('orchestrator.sandbox') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_bin_agentos_without_a_venv_says_to_run_make_venv_and_exits_2(tmp_path: Path) -> None:
    """A checkout without .venv used to fall back to the system python3 and die on an import."""
    shim = tmp_path / "bin" / "agentos"
    shim.parent.mkdir()
    shim.write_bytes((ROOT / "bin" / "agentos").read_bytes())
    shim.chmod(0o755)
    done = subprocess.run(
        [str(shim), "status"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert done.returncode == 2
    missing = tmp_path / ".venv" / "bin" / "python"
    assert done.stderr == f"agentos: {missing} not found: run `make venv` in {tmp_path}\n"
    assert done.stdout == ""

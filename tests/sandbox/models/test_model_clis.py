"""The CLI plumbing: pinned binaries, isolated environments, the Codex config, how a run is read."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from orchestrator.sandbox.models.clis import find_cli, pinned_version
from tests.support import model_clis
from tests.support.clis import cli


@pytest.mark.parametrize(
    "name, printed", [("claude", "{} (Claude Code)"), ("codex", "codex-cli {}")]
)
def test_the_installed_cli_is_the_pinned_version(name: str, printed: str) -> None:
    binary = cli(name)
    done = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == printed.format(pinned_version(name))


def test_only_the_pinned_clis_can_be_looked_up() -> None:
    with pytest.raises(ValueError, match="no pinned CLI named 'gemini'"):
        find_cli("gemini")


def test_the_claude_environment_keeps_the_host_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "do-not-pass")
    invocation = model_clis.prepare_claude(
        Path("/bin/claude"), "http://127.0.0.1:9", "hi", tmp_path, tmp_path / "home", max_retries=0
    )
    assert "SECRET_TOKEN" not in invocation.env and invocation.env["HOME"] == str(tmp_path / "home")
    assert invocation.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"
    assert invocation.env["ANTHROPIC_API_KEY"] == model_clis.SANDBOX_KEY
    assert invocation.env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert invocation.argv[1:] == (
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--allowedTools",
        "Bash,Write,Edit,Read",
        "--model",
        "claude-sonnet-4-5",
    )
    assert invocation.stdin == "hi"


def test_the_codex_home_points_at_the_sandbox_with_the_responses_wire(tmp_path: Path) -> None:
    invocation = model_clis.prepare_codex(
        Path("/bin/codex"), "http://127.0.0.1:9/v1", "hi", tmp_path, tmp_path / "home"
    )
    config = tomllib.loads((tmp_path / "home" / ".codex" / "config.toml").read_text())
    provider = config["model_providers"][config["model_provider"]]
    assert provider["base_url"] == "http://127.0.0.1:9/v1" and provider["wire_api"] == "responses"
    assert invocation.env[provider["env_key"]] == model_clis.SANDBOX_KEY
    assert invocation.env["CODEX_HOME"] == str(tmp_path / "home" / ".codex")
    assert config["features"] == {"plugins": False, "remote_plugin": False, "apps": False}
    assert "request_max_retries" not in provider
    assert invocation.argv[-1] == "hi" and invocation.stdin is None


def test_a_run_keeps_the_json_lines_and_skips_the_rest(tmp_path: Path) -> None:
    script = (
        'print("{\\"type\\": \\"a\\"}"); print("not json"); print("[1]"); '
        'print("{\\"type\\": \\"b\\"}")'
    )
    invocation = model_clis.Invocation((sys.executable, "-c", script), {}, tmp_path, None)
    outcome = model_clis.run(invocation)
    assert outcome.events == ({"type": "a"}, {"type": "b"}) and outcome.of_type("b") == [
        {"type": "b"}
    ]

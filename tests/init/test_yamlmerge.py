"""The ruamel.yaml round trip init edits configs with, and the env file it keeps secrets in."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.config.load import read_env_file
from orchestrator.errors import ConfigError
from orchestrator.init import yamlmerge
from orchestrator.init.writeconfig import write_env_file

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"
INDENTED_FOUR = """\
# four-space style, sequences flush with their key
repos:
- key: app
  github: acme/app
limits:
    max_attempts: 3      # ours
telegram:
    allowed_chat_ids: [1, 2]
    model: ~
"""


@pytest.mark.parametrize(
    "text", [EXAMPLE.read_text(encoding="utf-8"), INDENTED_FOUR], ids=["example", "four"]
)
def test_an_untouched_round_trip_gives_back_the_same_bytes(text: str) -> None:
    doc = yamlmerge.load(text)
    assert doc.faithful and doc.dump() == text


def test_edits_change_only_the_lines_they_touch() -> None:
    doc = yamlmerge.load(INDENTED_FOUR)
    assert yamlmerge.append_unique(doc.data["telegram"], "allowed_chat_ids", [2, 3])
    assert not yamlmerge.append_unique(doc.data["telegram"], "allowed_chat_ids", [3])
    assert not yamlmerge.set_value(doc.data["limits"], "max_attempts", 5, only_if_absent=True)
    assert yamlmerge.set_value(yamlmerge.child(doc.data, "schedule"), "queue", "*/2 * * * *")
    doc.data["repos"].append(
        yamlmerge.mapping([("key", "web"), ("github", "acme/web")], {"key": "added"})
    )
    assert (
        doc.dump()
        == INDENTED_FOUR.replace("[1, 2]", "[1, 2, 3]").replace(
            "limits:", "- key: web  # added\n  github: acme/web\nlimits:"
        )
        + "schedule:\n    queue: '*/2 * * * *'\n"
    )


def test_a_layout_ruamel_cannot_reproduce_is_reported() -> None:
    odd = "limits:\n   max_attempts: 3\nrepos:\n      - key: app\n"
    doc = yamlmerge.load(odd)
    assert not doc.faithful


@pytest.mark.parametrize(
    "text, problem",
    [
        ("a: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping at the top, got CommentedSeq"),
    ],
)
def test_a_file_that_is_not_a_yaml_mapping_is_a_config_error(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        yamlmerge.load(text, "config.yaml")


def test_the_env_file_keeps_other_lines_replaces_a_variable_and_ends_up_0600(
    tmp_path: Path,
) -> None:
    env = tmp_path / ".env"
    env.write_text("# mine\nexport OTHER=1\nGITHUB_TOKEN=old\n")
    os.chmod(env, 0o644)
    write_env_file(env, {"GITHUB_TOKEN": "ghp_new", "TELEGRAM_BOT_TOKEN": "1:a b'c"})
    assert (
        env.read_text()
        == '# mine\nexport OTHER=1\nGITHUB_TOKEN=ghp_new\nTELEGRAM_BOT_TOKEN="1:a b\'c"\n'
    )
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert read_env_file(env) == {
        "OTHER": "1",
        "GITHUB_TOKEN": "ghp_new",
        "TELEGRAM_BOT_TOKEN": "1:a b'c",
    }
    fresh = tmp_path / "new.env"
    write_env_file(fresh, {"X": "y"})
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and read_env_file(fresh) == {"X": "y"}

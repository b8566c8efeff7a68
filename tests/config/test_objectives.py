"""objectives/<repo key>.yaml: read into frozen values, or one line per problem naming the file,
the key and the bad value; a missing file is no objectives."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.config import objectives
from orchestrator.config.files import read_yaml
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.config.objectives import (
    Direction,
    LedgerMeasure,
    MetricSourceType,
    load_objectives,
)
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

ROOT = Path(__file__).resolve().parents[2]
VALID: dict[str, Any] = {
    "version": 1,
    "repo": "app",
    "product_name": "Example App",
    "primary_outcome": "New users finish a first project\nin under ten minutes.\n",
    "evaluation_window_days": 14,
    "metrics": [
        {
            "id": "activation_rate",
            "name": "Share of sign-ups who finish a first project",
            "weight": 0.6,
            "direction": "increase",
            "source": {"type": "file", "path": "metrics/activation.yaml"},
        },
        {
            "id": "p95-onboarding",
            "name": "95th percentile minutes to a first project",
            "weight": 2,
            "direction": "decrease",
            "source": {"type": "command", "argv": ["./bin/p95", "--json"], "timeout_seconds": 5},
        },
        {
            "id": "merged",
            "name": "Agent work that lands",
            "weight": 1,
            "direction": "increase",
            "source": {"type": "ledger", "measure": "merged_rate"},
        },
    ],
    "constraints": [
        "Never change the billing code without a human-reviewed issue.",
        "Keep the public API backwards compatible\n  within a major version.",
    ],
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path), ENV)


def write(config: Config, data: Any, key: str = "app") -> Path:
    file = config.source.parent / "objectives" / f"{key}.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return file


def problems_of(config: Config, data: Any, key: str = "app") -> tuple[Path, list[str]]:
    file = write(config, data, key)
    with pytest.raises(ConfigError) as caught:
        load_objectives(config, key)
    assert caught.value.source == str(file)
    return file, list(caught.value.problems)


def changed(path: str, value: Any) -> dict[str, Any]:
    """VALID with the value at a dotted path (`metrics.0.weight`) replaced, or removed (DROP)."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DROP:
        del node[key]
    else:
        node[key] = value
    return data


class _Drop:
    def __repr__(self) -> str:  # a stable test id under xdist
        return "DROP"


DROP = _Drop()


def test_a_valid_file_is_read_into_frozen_values(config: Config) -> None:
    file = write(config, VALID)
    found = load_objectives(config, "app")
    assert found is not None and found.source == file and found.repo == "app"
    assert found.product_name == "Example App"
    assert found.primary_outcome == "New users finish a first project\nin under ten minutes."
    assert found.evaluation_window_days == 14
    activation, p95, merged = found.metrics
    assert (activation.id, activation.weight, activation.direction) == (
        "activation_rate",
        0.6,
        Direction.INCREASE,
    )
    assert activation.source.type is MetricSourceType.FILE
    assert activation.source.path == config.source.parent / "metrics" / "activation.yaml"
    assert p95.source.argv == ("./bin/p95", "--json") and p95.source.timeout_seconds == 5.0
    assert p95.direction is Direction.DECREASE and p95.weight == 2.0
    assert merged.source.measure is LedgerMeasure.MERGED_RATE
    assert found.constraints == (
        "Never change the billing code without a human-reviewed issue.",
        "Keep the public API backwards compatible within a major version.",
    )
    assert found.ids == ("primary", "activation_rate", "p95-onboarding", "merged")
    assert "- merged (increase, weight 1): Agent work that lands" in found.text()
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.repo = "web"  # type: ignore[misc]


def test_optional_keys_take_their_defaults(config: Config) -> None:
    file = write(
        config, {k: VALID[k] for k in ("version", "repo", "product_name", "primary_outcome")}
    )
    found = load_objectives(config, "app")
    assert found is not None and found.source == file
    assert (found.evaluation_window_days, found.metrics, found.constraints) == (28, (), ())


def test_a_missing_file_means_no_objectives(config: Config) -> None:
    assert load_objectives(config, "app") is None
    assert objectives.constraints_for(config, "app") == ()
    assert objectives.problems(config) == []


def test_the_committed_example_is_valid(tmp_path: Path) -> None:
    file = ROOT / "objectives" / "example.yaml"
    found = objectives.parse(read_yaml(file), file, "app", ["app"], tmp_path)
    assert [m.source.type for m in found.metrics] == [
        MetricSourceType.FILE,
        MetricSourceType.COMMAND,
        MetricSourceType.LEDGER,
    ]
    assert found.constraints


SLUG = "expected a slug (a-z, 0-9, '-', '_'; at most 64; not 'primary')"
BAD = [
    ("version", 2, "version: expected 1, got 2"),
    ("version", True, "version: expected 1, got true"),
    ("version", DROP, "version: is required (expected 1)"),
    ("repo", "web", "repo: expected 'app' (the file's name), got 'web'"),
    ("repo", DROP, "repo: is required (expected a non-empty string)"),
    ("product_name", "  ", "product_name: expected a non-empty string, got '  '"),
    ("product_name", "x" * 201, "product_name: expected at most 200 characters, got 201"),
    ("primary_outcome", DROP, "primary_outcome: is required (expected a non-empty string)"),
    (
        "primary_outcome",
        ["a"],
        "primary_outcome: expected a non-empty string, got a list of 1 string",
    ),
    ("evaluation_window_days", 0, "evaluation_window_days: expected a positive integer, got 0"),
    ("evaluation_window_days", 366, "evaluation_window_days: expected at most 365, got 366"),
    (
        "evaluation_window_days",
        "4w",
        "evaluation_window_days: expected a positive integer, got '4w'",
    ),
    ("metrics", {"id": "x"}, "metrics: expected a list of metrics, got a mapping with key id"),
    (
        "metrics.0",
        "activation",
        "metrics[0]: expected a mapping of id, name, weight, direction, source, got 'activation'",
    ),
    (
        "metrics.0.id",
        "Activation Rate",
        f"metrics[0].id: {SLUG}, got 'Activation Rate'",
    ),
    (
        "metrics.0.id",
        "primary",
        f"metrics[0].id: {SLUG}, got 'primary'",
    ),
    (
        "metrics.1.id",
        "activation_rate",
        "metrics[1].id: duplicate id 'activation_rate' (metrics[0])",
    ),
    ("metrics.0.name", DROP, "metrics[0].name: is required (expected a non-empty string)"),
    ("metrics.0.weight", 0, "metrics[0].weight: expected a positive number, got 0"),
    ("metrics.0.weight", -1.5, "metrics[0].weight: expected a positive number, got -1.5"),
    ("metrics.0.weight", "heavy", "metrics[0].weight: expected a positive number, got 'heavy'"),
    ("metrics.0.weight", 5000, "metrics[0].weight: expected at most 1000, got 5000"),
    ("metrics.0.weight", DROP, "metrics[0].weight: is required (a number > 0)"),
    (
        "metrics.0.direction",
        "up",
        "metrics[0].direction: expected one of increase | decrease, got 'up'",
    ),
    ("metrics.0.direction", DROP, "metrics[0].direction: is required (one of increase | decrease)"),
    (
        "metrics.0.colour",
        "red",
        "metrics[0].colour: unknown key (known: direction, id, name, source, weight)",
    ),
    (
        "metrics.0.source",
        DROP,
        "metrics[0].source: is required (a mapping with type: file | command | ledger)",
    ),
    (
        "metrics.0.source",
        "~/m.yaml",
        "metrics[0].source: expected a mapping with type: file | command | ledger, got '~/m.yaml'",
    ),
    (
        "metrics.0.source.type",
        "web",
        "metrics[0].source.type: expected one of file | command | ledger, got 'web'",
    ),
    (
        "metrics.0.source.path",
        DROP,
        "metrics[0].source.path: is required (expected a non-empty string)",
    ),
    ("metrics.0.source.argv", ["x"], "metrics[0].source.argv: unknown key (known: path, type)"),
    (
        "metrics.1.source.argv",
        "./bin/p95 --json",
        "metrics[1].source.argv: expected a list of words, the program first, "
        "got './bin/p95 --json'",
    ),
    (
        "metrics.1.source.argv",
        [],
        "metrics[1].source.argv: expected a list of words, the program first, got an empty list",
    ),
    (
        "metrics.1.source.argv",
        DROP,
        "metrics[1].source.argv: is required (a list of words, the program first)",
    ),
    (
        "metrics.1.source.timeout_seconds",
        601,
        "metrics[1].source.timeout_seconds: expected at most 600, got 601",
    ),
    (
        "metrics.1.source.timeout_seconds",
        0,
        "metrics[1].source.timeout_seconds: expected a positive number, got 0",
    ),
    (
        "metrics.2.source.measure",
        "happiness",
        "metrics[2].source.measure: expected one of merged_rate | lead_time_hours | "
        "cost_per_merged_pr | change_failure_rate | escalated_share, got 'happiness'",
    ),
    ("metrics.2.source.path", "x", "metrics[2].source.path: unknown key (known: measure, type)"),
    ("constraints", "be nice", "constraints: expected a list of short rules, got 'be nice'"),
    ("constraints.1", 5, "constraints[1]: expected a non-empty string, got 5"),
    ("constraints.1", "", "constraints[1]: expected a non-empty string, got ''"),
    ("constraints", ["rule"] * 21, "constraints: expected at most 20 rules, got 21"),
    ("contraints", ["rule"], "contraints: unknown key (did you mean 'constraints'?)"),
]


@pytest.mark.parametrize("path, value, expected", BAD, ids=[f"{p}={v!r}"[:40] for p, v, _ in BAD])
def test_each_bad_value_is_one_line_naming_the_file_the_key_and_the_value(
    config: Config, path: str, value: Any, expected: str
) -> None:
    _, found = problems_of(config, changed(path, value))
    assert found == [expected]


def test_a_constraint_past_300_characters_is_refused_with_its_start_shown(config: Config) -> None:
    rule = "Never touch billing. " * 15  # 315 characters, 314 once its end is trimmed
    _, found = problems_of(config, changed("constraints.0", rule))
    [line] = found
    assert line.startswith("constraints[0]: expected at most 300 characters, got 314: 'Never touch")
    assert line.endswith("...") and len(line) < 140


def test_every_problem_is_reported_at_once(config: Config) -> None:
    data = changed("metrics.0.weight", 0) | {"version": 3, "extra": 1}
    _, found = problems_of(config, data)
    assert len(found) == 3 and any(p.startswith("extra: unknown key") for p in found)


def test_a_file_for_a_repo_the_config_does_not_have_is_refused(config: Config) -> None:
    _, found = problems_of(config, {**VALID, "repo": "web"}, key="web")
    assert found == ["repo: expected a key of repos in the config (app), got 'web'"]


@pytest.mark.parametrize(
    "content, expected",
    [
        (bytes(range(256)) * 4, "line 2: byte 0x80 is not UTF-8; save it as UTF-8"),
        (b"version: 1\x00\n", "line 1: holds the character '\\x00'"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe garbage", "line 1: byte 0x89 is not UTF-8; save it as UTF-8"),
        (b"- a\n- list\n", "expected a mapping at the top level, got list"),
        (b"version: [1\n", "line 2, column 1: did not find expected ',' or ']'"),
        (b"", "version: is required (expected 1)"),
    ],
)
def test_a_damaged_file_is_one_line_naming_it(
    config: Config, content: bytes, expected: str
) -> None:
    file = config.source.parent / "objectives" / "app.yaml"
    file.parent.mkdir()
    file.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_objectives(config, "app")
    assert caught.value.source == str(file)
    assert caught.value.problems[0] == expected
    assert all("\n" not in p for p in caught.value.problems)


def test_check_lists_every_file_s_problems_and_skips_the_example(config: Config) -> None:
    write(config, {**VALID, "version": 2})
    write(config, VALID, key="example")  # repo: app in example.yaml: never read as a repo's
    bad = write(config, {**VALID, "repo": "gone"}, key="gone")
    (bad.parent / "app.yml").write_text("version: 1\n")
    (bad.parent / "notes.md").write_text("# not an objectives file\n")
    folder = bad.parent
    assert objectives.problems(config) == [
        f"{folder / 'app.yaml'}: version: expected 1, got 2",
        f"{folder / 'app.yml'}: is never read (name it app.yaml)",
        f"{folder / 'gone.yaml'}: repo: expected a key of repos in the config (app), got 'gone'",
    ]


def test_paths_objectives_dir_moves_the_folder(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, minimal_config(paths={"objectives_dir": "goals"})), ENV
    )
    assert config.paths.objectives_dir == tmp_path / "goals"
    (tmp_path / "goals").mkdir()
    (tmp_path / "goals" / "app.yaml").write_text(yaml.safe_dump(VALID))
    found = load_objectives(config, "app")
    assert found is not None and found.source == tmp_path / "goals" / "app.yaml"
    assert load_config(write_config(tmp_path), ENV).paths.objectives_dir == tmp_path / "objectives"


def test_paths_objectives_dir_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "goals").write_text("a file")
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, minimal_config(paths={"objectives_dir": "goals"})), ENV)
    assert caught.value.problems == (
        f"paths.objectives_dir: {str(tmp_path / 'goals')!r} is a file, expected a directory",
    )

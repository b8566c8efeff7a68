"""The `planner` section: defaults, a repo's own cadence over them, and one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.config.model import Autonomy, PlanCadence, PlannerConfig
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

BACKENDS = {
    "backends": {
        "script": {"type": "command", "argv": ["true"]},
        "api": {"type": "anthropic", "api_key": "$GITHUB_TOKEN"},
    },
    "chains": {"default": ["script"]},
}


def _load(tmp_path: Path, planner: object) -> PlannerConfig:
    settings = minimal_config(agents=BACKENDS, planner=planner)
    return load_config(write_config(tmp_path, settings), ENV).planner


def test_absent_means_no_plans(tmp_path: Path) -> None:
    planner = load_config(write_config(tmp_path), ENV).planner
    assert planner == PlannerConfig() and planner.with_backend is None
    assert planner.cadence("app") == PlanCadence(cadence_days=7, autonomy=Autonomy.ASK)


def test_a_repos_own_settings_are_read_over_the_defaults(tmp_path: Path) -> None:
    planner = _load(
        tmp_path,
        {
            "with": "api",
            "expires_hours": 12,
            "cadence_days": 14,
            "max_new": 0,
            "repos": {"app": {"autonomy": "auto", "max_ready": 2}},
        },
    )
    assert planner.with_backend == "api" and planner.expires_hours == 12
    own = planner.cadence("app")
    assert (own.cadence_days, own.max_ready, own.max_new, own.autonomy) == (
        14,
        2,
        0,
        Autonomy.AUTO,
    )
    assert planner.cadence("other").max_ready == 5


BAD = [
    (
        {"with": "script"},
        "planner.with: expected the name of an anthropic backend in "
        "agents.backends (api), got 'script'",
    ),
    ({"cadence_days": 0}, "planner.cadence_days: expected a positive integer, got 0"),
    ({"autonomy": "yolo"}, "planner.autonomy: expected one of ask | auto, got 'yolo'"),
    ({"max_new": 11}, "planner.max_new: expected at most 10, got 11"),
    ({"repos": {"web": {}}}, "planner.repos.web: expected a key of repos (app), got 'web'"),
    (
        {"repos": {"app": {"enabled": "no"}}},
        "planner.repos.app.enabled: expected true or false, got 'no'",
    ),
    (
        {"repos": ["app"]},
        "planner.repos: expected a mapping of repo key to settings, got a list of 1 string",
    ),
    ({"cadence": 7}, "planner.cadence: unknown key (did you mean 'cadence_days'?)"),
]


@pytest.mark.parametrize("planner, expected", BAD, ids=[e.split(":")[0] for _, e in BAD])
def test_each_bad_value_is_one_line_naming_it(
    tmp_path: Path, planner: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, planner)
    assert [p for p in caught.value.problems if p.startswith("planner")] == [expected]

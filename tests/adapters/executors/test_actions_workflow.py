"""The rendered workflow reads back as YAML with job.sh and the command exactly as given, and
refuses settings it could not carry."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from orchestrator.adapters.executors import actions_workflow
from orchestrator.config.executor_model import ActionsSettings, ExecutorConfig, ExecutorKind

COMMAND = """claude -p "$(cat "$AGENTOS_PROMPT_FILE")" --flag 'a: b' # {x} \\ "q" é"""
CONFIG = ExecutorConfig(
    name="gha",
    kind=ExecutorKind.GITHUB_ACTIONS,
    command=COMMAND,
    timeout_minutes=30,
    actions=ActionsSettings(
        runs_on=("self-hosted", "linux.x64"),
        setup=("npm i -g @anthropic-ai/claude-code: yes", "echo 'it''s' # ok"),
        secrets=("ANTHROPIC_API_KEY",),
        retention_days=3,
    ),
)


def test_the_workflow_round_trips_through_yaml() -> None:
    doc = yaml.safe_load(actions_workflow.render(CONFIG))
    assert doc["name"] == "Agent OS task" and doc["run-name"] == "agentos ${{ inputs.task_id }}"
    inputs = doc[True]["workflow_dispatch"]["inputs"]
    assert {k: (v["required"], v["type"]) for k, v in inputs.items()} == {
        "task_id": (True, "string"),
        "start": (True, "string"),
    }
    assert doc["permissions"] == {"contents": "read"}
    (job,) = doc["jobs"].values()
    assert job["runs-on"] == ["self-hosted", "linux.x64"] and job["timeout-minutes"] == 45
    checkout, one, two, agent, upload = job["steps"]
    assert checkout["with"] == {
        "ref": "refs/agentos/tasks/${{ inputs.task_id }}",
        "fetch-depth": 2,
        "persist-credentials": False,
    }
    assert [one["run"], two["run"]] == list(CONFIG.actions.setup)  # type: ignore[union-attr]
    assert "env" not in one and "env" not in two
    assert agent["run"] == actions_workflow.JOB_SCRIPT.read_text(encoding="utf-8")
    assert agent["env"] == {
        "AGENTOS_COMMAND": COMMAND,
        "AGENTOS_START": "${{ inputs.start }}",
        "AGENTOS_OUT": "${{ runner.temp }}/agentos-out",
        "AGENTOS_TIMEOUT": "1800",
        "ANTHROPIC_API_KEY": "${{ secrets.ANTHROPIC_API_KEY }}",
    }
    assert upload == {
        "uses": "actions/upload-artifact@v4",
        "if": "always()",
        "with": {
            "name": "agentos-${{ inputs.task_id }}",
            "path": "${{ runner.temp }}/agentos-out/",
            "retention-days": 3,
            "if-no-files-found": "ignore",
        },
    }


@pytest.mark.parametrize(
    "change, said",
    [
        ({"secrets": ("lower",)}, "secret name 'lower'"),
        ({"secrets": ("GITHUB_TOKEN",)}, "secret name 'GITHUB_TOKEN'"),
        ({"runs_on": ("ubuntu latest",)}, "runs_on label 'ubuntu latest'"),
        ({"runs_on": ()}, "runs_on names no runner label"),
        ({"setup": ("echo ${{ secrets.X }}",)}, "which Actions expands"),
    ],
)
def test_settings_the_workflow_cannot_carry_are_refused(
    change: dict[str, object], said: str
) -> None:
    actions = replace(ActionsSettings(), **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=said.replace("$", r"\$")) as refused:
        actions_workflow.render(replace(CONFIG, actions=actions))
    assert "\n" not in str(refused.value)


def test_only_an_actions_executor_renders() -> None:
    with pytest.raises(ValueError, match="of kind kubernetes"):
        actions_workflow.render(replace(CONFIG, kind=ExecutorKind.KUBERNETES))

"""The GitHub Actions workflow an `executors` entry of kind github_actions runs a task with.

`render` fills `templates/agentos-task.yml.j2`: dispatched on the base branch with two inputs
(the task id and the start commit), read-only `permissions`, a checkout of the task's ref that
keeps no credential, the entry's setup lines, then `job.sh` (embedded verbatim) with the agent's
command and the named secrets as env, and the parcel uploaded as the artifact
`agentos-<task id>`. Strings go in as JSON, which YAML reads back unchanged; the script goes in
as a block scalar.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestrator.config.executor_model import ActionsSettings, ExecutorConfig, ExecutorKind

HERE = Path(__file__).resolve().parent
JOB_SCRIPT = HERE / "job.sh"
TEMPLATE = "agentos-task.yml.j2"
WORKFLOWS = ".github/workflows"
ARTIFACT_PREFIX = "agentos-"  # the parcel's artifact: agentos-<task id>
RUN_NAME_PREFIX = "agentos "  # a run's display title: agentos <task id>
MARGIN_MINUTES = 15  # the job's deadline past the agent's own timeout: checkout, setup, upload
SCRIPT_INDENT = " " * 10  # the agent step's `run: |` block, under `steps:`
_SECRET = re.compile(r"[A-Z_][A-Z0-9_]*")
_LABEL = re.compile(r"[A-Za-z0-9._-]+")


def settings(executor: ExecutorConfig) -> ActionsSettings:
    """Return the entry's Actions settings; ValueError for an entry of another kind."""
    if executor.kind is not ExecutorKind.GITHUB_ACTIONS:
        raise ValueError(f"executor {executor.name} is of kind {executor.kind.value}")
    return executor.actions or ActionsSettings()


def workflow_path(executor: ExecutorConfig) -> str:
    """Return where the workflow lives in the repo."""
    return f"{WORKFLOWS}/{settings(executor).workflow}"


def run_name(task_id: str) -> str:
    """Return the display title GitHub gives the run of a task (the workflow's `run-name`)."""
    return RUN_NAME_PREFIX + task_id


def render(executor: ExecutorConfig) -> str:
    """Return the workflow's text; ValueError (one line) for a setting it cannot carry."""
    actions = settings(executor)
    for name in actions.secrets:
        if not _SECRET.fullmatch(name) or name.startswith("GITHUB_"):
            raise ValueError(
                f"executor {executor.name}: secret name {name!r} is not [A-Z_][A-Z0-9_]*"
            )
    for label in actions.runs_on:
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"executor {executor.name}: runs_on label {label!r} is not [A-Za-z0-9._-]"
            )
    if not actions.runs_on:
        raise ValueError(f"executor {executor.name}: runs_on names no runner label")
    for text in (executor.command, *actions.setup):
        if "${{" in text:
            raise ValueError(
                f"executor {executor.name}: {text!r} holds ${{{{, which Actions expands"
            )
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML, not HTML: every value goes in as JSON
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE).render(
        runs_on=json.dumps(list(actions.runs_on)),
        job_minutes=math.ceil(executor.timeout_minutes) + MARGIN_MINUTES,
        setup=[json.dumps(line) for line in actions.setup],
        command=json.dumps(executor.command),
        timeout_s=math.ceil(executor.timeout_minutes * 60),
        secrets=list(actions.secrets),
        script=_block(JOB_SCRIPT.read_text(encoding="utf-8")),
        retention_days=actions.retention_days,
    )


def _block(script: str) -> str:
    """Return the script as the lines of a `|` block scalar (its last newline is the block's)."""
    if not script.endswith("\n") or script.endswith("\n\n") or "\t" in script:
        raise ValueError("job.sh must end with one newline and hold no tab to be embedded")
    if "${{" in script:
        raise ValueError("job.sh holds ${{, which Actions would expand")
    lines = script.removesuffix("\n").split("\n")
    return "\n".join(SCRIPT_INDENT + line if line else "" for line in lines)

"""`agentos init`: the guided bootstrap from nothing to a repo, board, paired chat, config and cron.

`main` builds the prompt layer (a terminal, or an answers file) and the services, and hands
them to the runner; the steps are one module each (preflight.py ... done.py).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from orchestrator.errors import UsageError
from orchestrator.init.context import Checker, Options
from orchestrator.init.questions import Answers, Prompter, Terminal, flatten
from orchestrator.jobs import JobSpec
from orchestrator.ports_init import Services


def main(
    config_path: Path,
    *,
    root: Path,
    environ: Mapping[str, str],
    jobs: Mapping[str, JobSpec],
    check: Checker,
    answers: Path | None = None,
    dry_run: bool = False,
    crontab_file: Path | None = None,
    services: Services | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    pairing_wait: int = 300,
    now: datetime | None = None,
) -> int:
    """Run init; return the exit code (0 done, 2 bad answers or config, 130 interrupted).

    `check` is `cli.commands.offline_problems`: step 8 judges the config it wrote with it.
    """
    from orchestrator.init import runner

    out = stdout or sys.stdout
    source = (
        Answers(load_answers(answers), out, environ)
        if answers
        else Terminal(stdin or sys.stdin, out)
    )
    if services is None:
        from orchestrator.wiring import init_services

        services = init_services()
    options = Options(
        config_path=config_path,
        root=root,
        dry_run=dry_run,
        environ=environ,
        jobs=jobs,
        now=now or datetime.now(UTC),
        check=check,
        crontab_file=crontab_file,
        pairing_wait=pairing_wait,
    )
    try:
        code = runner.run(options, services, Prompter(source, out))
    except EOFError:
        raise UsageError(
            "the input ended before init finished (give the remaining answers, "
            "or use --answers FILE)"
        ) from None
    if isinstance(source, Answers) and source.unused():
        out.write(
            f"Note: the answers file has keys no question asked for: {', '.join(source.unused())}\n"
        )
    return code


def load_answers(path: Path) -> dict[str, object]:
    """Read an answers file: YAML whose nested keys are the questions' dotted keys."""
    import yaml

    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--answers: {path} does not exist") from None
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(
            f"--answers: {path} is not readable YAML: {' '.join(str(error).split())}"
        ) from None
    if not isinstance(tree, dict):
        raise UsageError(f"--answers: {path} must be a mapping of question keys to answers")
    return flatten(tree)

"""The `agentos` command line: parse, dispatch to a command, turn errors into exit codes.

Exit codes: 0 ok or skipped, 1 runtime failure (or a failed `check --live`), 2 usage or config
error, 3 a service refused its credential (a job's tick that GitHub or Telegram answered 401, or
403 for no access: `run.unauthorized`; see `agentos doctor`). Errors are printed as one line on
stderr (a config error as one line per problem).
"""

from __future__ import annotations

import os
import sys

from orchestrator.config.files import config_path
from orchestrator.errors import AgentOSError, UsageError
from orchestrator.jobs import JOBS, JobSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse and typing are not imported on a cron tick's path
    import argparse
    from collections.abc import Mapping, Sequence

EXAMPLES = """examples:
  agentos check                      validate config.yaml, tokens and tools
  agentos doctor --bundle help.tar.gz  check --live, plus a redacted bundle to share
  agentos off                        stop starting work; running agents finish
  agentos off --now                  stop running agents too; their tasks are requeued
  agentos repo off app               stop working on one repo
  agentos run dispatcher --dry-run   show what one tick would do
  agentos cron install               install the crontab block
  agentos init                       guided setup: repo, board, Telegram, config, cron
  agentos sandbox serve --port 8765  a local GitHub to try things on
  agentos demo                       the whole loop, offline, on the sandboxes
  agentos bot                        the Telegram control bot, long polling (systemd)
  agentos audit verify               check the audit log's chain and its head
  agentos report --since 30d         merged rate, cost and lead time per agent and repo
  agentos plan import PLAN.md       epics, sub-issues and dependencies from a markdown plan
  agentos why app#12                 why issue 12 is or is not running (as /why says it)
  agentos dashboard --out site/      a static, redacted copy of the dashboard to publish
  agentos executor install app       commit the Actions workflow of app's remote executor
"""


def build_parser(words: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Return the parser for every subcommand.

    `sandbox serve` gets its options only when `words` name it.
    """
    import argparse
    from typing import NoReturn

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(message)

    p = _Parser(
        prog="agentos",
        description="Run a GitHub backlog with coding agents.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", help="config file (default: $AGENTOS_CONFIG or config.yaml at the root)"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, what in (
        ("check", "validate config, credentials and tools; changes nothing"),
        ("doctor", "check --live: ask GitHub, Telegram and each tool whether they work"),
    ):
        checking = sub.add_parser(
            name,
            help=what,
            epilog="examples:\n  agentos check --live\n  agentos doctor --bundle help.tar.gz",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "check":
            checking.add_argument(
                "--live",
                action="store_true",
                help="also call GitHub, Telegram and the tools (exit 1 when one fails)",
            )
        checking.add_argument(
            "--bundle",
            metavar="FILE",
            help="write a redacted support bundle (.tar.gz, or .zip): no token, no env file",
        )
        checking.add_argument("--crontab-file", help="look for the cron block in this file")
    sub.add_parser("on", help="turn Agent OS on")
    off = sub.add_parser(
        "off", help="turn Agent OS off: no new tick or task; running agents finish (a drain)"
    )
    off.add_argument(
        "--now", action="store_true", help="also stop running agents; their tasks are requeued"
    )
    sub.add_parser("status", help="switches, mailbox and each job's last run")
    report = sub.add_parser(
        "report",
        help="how the fleet did: merged rate, cost and lead time per agent and repo (the ledger)",
        epilog="examples:\n  agentos report\n  agentos report --since 30d --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "--since", default="7d", metavar="AGE", help="the window: 7d, 24h, 90m (default 7d)"
    )
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    plan = sub.add_parser(
        "plan",
        help="bring a markdown plan (PLAN.md) onto GitHub: epics, sub-issues, dependencies",
        epilog="examples:\n  agentos plan import PLAN.md --dry-run\n"
        "  agentos plan import docs/PLAN.md --repo app",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if "plan" in words:  # its module imports the adapters
        from orchestrator.cli.plan import add_plan_arguments

        add_plan_arguments(plan)
    why = sub.add_parser(
        "why",
        help="why an issue is or is not running: /why's answer, in the terminal; writes nothing",
        epilog="examples:\n  agentos why 12\n  agentos why app#12\n"
        "  agentos why https://github.com/acme/app/issues/12",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if "why" in words:  # the same: its module reads GitHub through the adapters
        from orchestrator.cli.why import add_why_arguments

        add_why_arguments(why)
    dashboard = sub.add_parser(
        "dashboard",
        help="write a static copy of the dashboard (redacted; war-room records left out)",
        epilog="examples:\n  agentos dashboard --out site/\n"
        "  agentos dashboard --out /var/www/agentos --include-rooms --days 90",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if "dashboard" in words:  # the same: its module imports jinja2 and the dashboard
        from orchestrator.cli.dashboard import add_dashboard_arguments

        add_dashboard_arguments(dashboard)
    executor = sub.add_parser(
        "executor",
        help="install the GitHub Actions workflow a repo's remote executor runs tasks with",
        epilog="examples:\n  agentos executor install app\n"
        "  agentos executor install acme/app --executor gha",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if "executor" in words:  # its module imports the GitHub adapters
        from orchestrator.cli.executor import add_executor_arguments

        add_executor_arguments(executor)
    for noun, what in (("repo", "KEY"), ("job", "NAME")):
        s = sub.add_parser(noun, help=f"turn one {noun} on or off")
        s.add_argument("state", choices=("on", "off"))
        s.add_argument("name", metavar=what)
        if noun == "repo":
            s.add_argument(
                "--now", action="store_true", help="with off: also stop the repo's running agents"
            )
    tick = sub.add_parser(
        "run",
        help="one tick of a job (what cron calls)",
        epilog="example:\n  agentos run dispatcher --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tick.add_argument("job", metavar="JOB")
    tick.add_argument("--dry-run", action="store_true", help="decide and print, change nothing")
    cron = sub.add_parser(
        "cron",
        help="install, remove or show the crontab block",
        epilog="example:\n  agentos cron install\n  agentos cron show --systemd",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cron.add_argument("action", choices=("install", "remove", "show"))
    cron.add_argument(
        "--systemd", action="store_true", help="with show: print systemd units instead"
    )
    cron.add_argument("--crontab-file", help="edit this file instead of the user's crontab")
    init = sub.add_parser(
        "init",
        help="guided setup: repo, board, Telegram, config, cron (re-run to add a project)",
        epilog="examples:\n  agentos init\n  agentos init --dry-run\n"
        "  agentos init --answers answers.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument(
        "--answers", metavar="FILE", help="take the answers from this YAML file instead of asking"
    )
    init.add_argument("--dry-run", action="store_true", help="show every change, make none")
    init.add_argument(
        "--crontab-file", help="install the cron block in this file instead of the user's crontab"
    )
    serving = sub.add_parser(
        "serve",
        help="every job on its schedule in one long-running process (instead of cron)",
        epilog="examples:\n  agentos serve\n  agentos serve --unit > ~/.config/systemd/user/"
        "agentos.service",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serving.add_argument(
        "--grace",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="after SIGTERM, how long running ticks get to end (default 120)",
    )
    serving.add_argument(
        "--poll",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also run the dispatcher every SECONDS (0: on its schedule only; each run reads "
        "the boards: mind GitHub's GraphQL budget on large boards)",
    )
    serving.add_argument(
        "--webhooks",
        type=int,
        nargs="?",
        const=-1,
        metavar="PORT",
        help="also receive GitHub's webhooks (the config's `webhooks` section; PORT overrides "
        "its port): each wakes the jobs it concerns",
    )
    serving.add_argument(
        "--dashboard",
        type=int,
        nargs="?",
        const=0,
        metavar="PORT",
        help="also serve the dashboard (docs/dashboard.md) on 127.0.0.1 (PORT: default 8767)",
    )
    serving.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="serve the dashboard on ADDRESS; anything but loopback needs "
        "AGENTOS_DASHBOARD_TOKEN (in the environment or the env file)",
    )
    serving.add_argument("--unit", action="store_true", help="print a systemd service unit")
    sub.add_parser(
        "bot",
        help="the Telegram control bot, long polling (for systemd; runs while off)",
        epilog="example:\n  agentos bot --config /etc/agentos/config.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit = sub.add_parser(
        "audit",
        help="the tamper-evident log of pushes, merges, switches: verify, show or repair it",
        epilog="examples:\n  agentos audit verify\n  agentos audit show --last 50",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument(
        "action",
        choices=("verify", "show", "repair"),
        help="verify the chain; show the last acts; repair: remove torn lines, recorded",
    )
    audit.add_argument("--last", type=int, default=20, metavar="N", help="with show: how many")
    sandbox = sub.add_parser("sandbox", help="the local GitHub stand-in, for trying things by hand")
    serve = sandbox.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_Parser
    ).add_parser(
        "serve",
        help="serve REST, GraphQL and git on 127.0.0.1 until Ctrl-C; prints BASE_URL TOKEN first",
        epilog=(
            "example:\n"
            "  agentos sandbox serve --port 8765 --data runtime/sandbox --repo agentos/demo"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # its options come from the sandbox package, too heavy to import for other commands
    if "sandbox" in words:
        from orchestrator.sandbox.github.cli import add_arguments

        add_arguments(serve)
    demo = sub.add_parser(
        "demo",
        help="the whole loop, offline, on the sandboxes: issues to merged PRs",
        epilog="examples:\n  agentos demo\n  agentos demo --data /tmp/demo --agent claude",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if "demo" in words:  # the same: its module imports the sandboxes
        from orchestrator.demo import run

        run.add_arguments(demo)
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    jobs: Mapping[str, JobSpec] = JOBS,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one command and return its exit code."""
    env = os.environ if environ is None else environ
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        quick = quick_run(words)
        if quick is not None:  # the cron hot path: no argparse
            from orchestrator.cli.runner import run_job

            config, job, dry_run = quick
            return run_job(job, config_path(config, env), jobs, env, dry_run=dry_run)
        return _dispatch(build_parser(words).parse_args(words), jobs, env)
    except AgentOSError as exc:
        _say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        return 1
    except Exception as exc:  # the one catch-all: a bug must still end in one readable line
        _say(
            f"unexpected error: {type(exc).__name__}: {exc} (set AGENTOS_DEBUG=1 for the traceback)"
        )
        if env.get("AGENTOS_DEBUG") == "1":
            raise
        return 1


def _say(message: str) -> None:
    from orchestrator.core.redact import redact

    print(f"agentos: {redact(message)}", file=sys.stderr)


def quick_run(words: list[str]) -> tuple[str | None, str, bool] | None:
    """Recognise `[--config PATH] run JOB [--dry-run]`; return None for anything else."""
    config = None
    if words[:1] == ["--config"] and len(words) > 1:
        config, words = words[1], words[2:]
    elif words[:1] and words[0].startswith("--config="):
        config, words = words[0].partition("=")[2], words[1:]
    if len(words) == 2 and words[0] == "run" and not words[1].startswith("-"):
        return config, words[1], False
    if (
        len(words) == 3
        and words[0] == "run"
        and words[2] == "--dry-run"
        and not words[1].startswith("-")
    ):
        return config, words[1], True
    return None


def _dispatch(args: argparse.Namespace, jobs: Mapping[str, JobSpec], env: Mapping[str, str]) -> int:
    from pathlib import Path

    from orchestrator.cli import commands

    if args.command == "sandbox":  # needs no config
        from orchestrator.sandbox.github.cli import serve

        return serve(args)
    if args.command == "demo":  # makes its own config
        from orchestrator.demo import run

        return run.main(args)
    path = config_path(args.config, env)
    if args.command == "run":
        from orchestrator.cli.runner import run_job

        return run_job(args.job, path, jobs, env, dry_run=args.dry_run)
    if args.command == "why":
        from orchestrator.cli import why

        return why.run(args, Path(path), env)
    if args.command == "executor":
        from orchestrator.cli import executor

        return executor.run(args, Path(path), env)
    if args.command == "dashboard":
        from orchestrator.cli import dashboard

        return dashboard.run(args, Path(path), env)
    handler = getattr(commands, args.command)
    result: int = handler(args, Path(path), jobs, env)
    return result


if __name__ == "__main__":
    sys.exit(main())

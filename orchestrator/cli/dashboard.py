"""`agentos dashboard --out DIR [--include-rooms] [--days N]`: a static copy of the dashboard.

DIR gets index.html and a page per task it links to, each self-contained, written atomically
(orchestrator/dashboard/publish.py), redacted, without the war-room records unless
`--include-rooms`. A DIR that is a file, not writable, or a folder with other things in it is a
usage error (exit 2, one line). `agentos serve --dashboard` serves the same pages live.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.config.load import load_config
from orchestrator.dashboard import collect, publish
from orchestrator.errors import OverridesError, UsageError


def add_dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of `dashboard` (main.py declares the command itself)."""
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="the folder to write the copy to"
    )
    parser.add_argument(
        "--include-rooms",
        action="store_true",
        help="also copy each task's war-room record (prompt, channel, result): left out otherwise",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=collect.DAYS,
        metavar="N",
        help=f"the window of the figures and charts, in days (default {collect.DAYS})",
    )


def run(args: argparse.Namespace, path: Path, env: Mapping[str, str]) -> int:
    """Write the static copy; print where it went."""
    if not 1 <= args.days <= collect.MAX_DAYS:
        raise UsageError(f"--days {args.days}: expected 1 to {collect.MAX_DAYS}")
    publish.check_target(args.out.absolute())  # before the config: a bad DIR says so first
    try:  # an unset $VAR is no obstacle: what it would hide was never written out
        config = load_config(path, env, need_secrets=False)
    except OverridesError:  # chat's settings do not change what the dashboard shows
        config = load_config(path, env, need_secrets=False, overrides={})
    done = publish.publish(
        config, args.out, datetime.now(UTC), days=args.days, include_rooms=args.include_rooms
    )
    rooms = "with" if args.include_rooms else "without"
    print(
        f"wrote {done.path}: index.html and {done.task_pages} task pages, {rooms} war-room records"
    )
    return 0

"""Step 9 with `serve`: the systemd user unit of `bin/agentos serve`, woken by webhooks or polling.

Init writes `agentos-serve.service` (the unit `agentos serve --unit` prints, with `--webhooks`
when GitHub can reach this machine, else `--poll SECONDS`) to the user's systemd folder, and
says how to enable it: it never runs systemctl. This checkout's crontab block is redundant
beside serve (the two never run one job twice: each tick takes its job's lock), so init offers
to remove it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cli import cron, serve
from orchestrator.errors import StateError
from orchestrator.init import webhooks
from orchestrator.init.context import Context
from orchestrator.store.files import atomic_write

UNIT = "agentos-serve.service"
GRACE = 120.0  # seconds the ticks get to end after SIGTERM: `serve --grace`'s default
POLL = 30  # seconds: without webhooks, a card moved to Ready reaches an agent within about this
ENABLE = f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT}"
_POLL = re.compile(r" --poll (\d+)")


@dataclass
class ServePlan:
    """The unit to write (or not), the crontab block to remove (or not), the webhooks."""

    path: Path
    text: str
    current: str | None  # the unit installed now
    command: str  # `bin/agentos serve` and its flags, as the unit runs it
    remove_block: bool = False
    hooks: webhooks.WebhookPlan | None = None

    def changes(self, ctx: Context) -> list[str]:
        """Return a line per change, in the order `apply` makes them."""
        lines = self.hooks.local_changes(ctx.options.config_path) if self.hooks else []
        if self.text != self.current:
            lines.append(
                f"{'write' if self.current is None else 'replace'} {self.path} (the unit above: "
                f"`{self.command}` as a systemd user service)"
            )
        if self.remove_block:
            lines.append(
                f"remove this checkout's block from {ctx.options.crontab_file or 'your crontab'} "
                "(`bin/agentos cron remove`; the rest of the crontab is kept)"
            )
        return lines + (self.hooks.hook_changes() if self.hooks else [])


def unit_path(ctx: Context) -> Path:
    """Return where systemd looks for the user's units: $XDG_CONFIG_HOME or ~/.config."""
    env = ctx.options.environ
    base = env.get("XDG_CONFIG_HOME") or ""
    if not Path(base).is_absolute():
        base = str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "systemd" / "user" / UNIT


def default_method(ctx: Context) -> str:
    """Return `serve` once its unit is installed (a re-run keeps it), else `cron`."""
    return "serve" if unit_path(ctx).is_file() else "cron"


def plan(ctx: Context) -> ServePlan:
    """Ask about webhooks (or the poll), show the unit, and note a crontab block beside it."""
    path = unit_path(ctx)
    try:
        current: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    hooks = webhooks.plan(ctx, wanted=current is not None and " --webhooks" in current)
    poll = 0 if hooks is not None else _poll(ctx, current)
    text = serve.unit(
        ctx.options.root,
        ctx.options.config_path,
        GRACE,
        ctx.options.environ,
        webhooks=hooks is not None,
        poll=poll,
    )
    if text == current:
        ctx.say(f"  ✓ {path} is installed and up to date")
    else:
        ctx.say(f"The unit {path}:\n" + "\n".join(f"  | {line}" for line in text.splitlines()))
    flags = (" --webhooks" if hooks is not None else "") + (f" --poll {poll}" if poll else "")
    return ServePlan(path, text, current, f"bin/agentos serve{flags}", _remove_block(ctx), hooks)


def _poll(ctx: Context, current: str | None) -> int:
    """Ask how often serve reads the boards when no webhook wakes it (the unit's value first)."""
    found = _POLL.search(current or "")
    default = (
        int(found.group(1)) if found else (0 if current and "--webhooks" not in current else POLL)
    )
    ctx.say(
        "  Without webhooks the boards are polled: the dispatcher reads them on its schedule "
        "(every minute by default), and `serve --poll SECONDS` also every SECONDS in between, "
        "so a card moved to Ready reaches an agent within about that (measured with --poll 20: "
        "12 s median, 19 s at most). Each poll reads the boards in full: on a large Projects "
        "board poll slowly (GitHub's GraphQL budget), or answer 0."
    )
    return ctx.prompter.integer(
        "cron.poll", "Read the boards every how many seconds (0: on the schedule only)", default, 0
    )


def _remove_block(ctx: Context) -> bool:
    """Say that this checkout's crontab block is redundant beside serve; ask to remove it."""
    try:
        installed = cron.show(ctx.options.root, tabfile=ctx.options.crontab_file)
    except StateError:  # no crontab here (or a broken block, said when cron is chosen)
        return False
    if installed.startswith("not installed"):
        return False
    ctx.say(
        f"  - This checkout's crontab block is installed in "
        f"{ctx.options.crontab_file or 'your crontab'}. cron and serve never run one job twice "
        "(each tick takes its job's lock), but beside serve the block is redundant: "
        "`bin/agentos cron remove` takes it out."
    )
    return ctx.prompter.confirm("cron.remove_block", "Remove the crontab block?", True)


def apply(ctx: Context, plan: ServePlan) -> None:
    """Write the secret and the config's section, the unit, drop the block, make the hooks."""
    if plan.hooks is not None:
        webhooks.write_local(ctx, plan.hooks)
    if plan.text != plan.current:
        atomic_write(plan.path, plan.text)
        ctx.say(f"  ✓ {plan.path} written")
    if plan.remove_block:
        cron.remove(ctx.options.root, tabfile=ctx.options.crontab_file)
        ctx.say("  ✓ the crontab block removed: serve runs every job")
    if plan.hooks is not None:
        webhooks.save_hooks(ctx, plan.hooks)


def enable_hint(ctx: Context, plan: ServePlan) -> None:
    """Say how to start the unit once it is there (init does not run systemctl)."""
    if not plan.path.is_file():
        return
    ctx.say(f"Enable it with: {ENABLE}")
    ctx.say(
        "  (`loginctl enable-linger` keeps it running while you are logged out; its output is "
        "in `journalctl --user -u agentos-serve`; `bin/agentos status` shows what runs)"
    )

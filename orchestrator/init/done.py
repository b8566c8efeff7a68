"""Step 10, done: where the board and config are, and what happens next (which seed runs first)."""

from __future__ import annotations

from orchestrator.init.context import Context
from orchestrator.init.writeconfig import check_command


def run(ctx: Context) -> None:
    """Print the summary; changes nothing."""
    s = ctx.session
    if s.repository is not None:
        ctx.say(
            f"Repository: {s.repository.html_url or s.repository.full_name} "
            f"(key {s.repository.key})"
        )
    if s.board is not None:
        ctx.say(f"Board:      {s.board.url or f'{s.board.owner} (not created: dry run)'}")
    ctx.say(
        f"Config:     {s.written.config if s.written else ctx.options.config_path}"
        + ("" if s.written else " (not written in this run)")
    )
    if s.pairing is not None and s.pairing.chat_id is not None:
        ctx.say(f"Telegram:   @{s.pairing.bot}, chat {s.pairing.chat_id}")
    ctx.say("")
    for line in next_steps(ctx):
        ctx.say(line)


def next_steps(ctx: Context) -> list[str]:
    """Return what the user does next and what Agent OS then does, in order."""
    s, lines = ctx.session, ["What happens next:"]
    if s.written is not None and s.written.problems:
        lines.append(
            f"  0. Fix the {len(s.written.problems)} problem(s) `bin/agentos check` found in the "
            f"config (step 8 lists them); `{check_command(ctx)}` says ok once they are fixed."
        )
    charter = s.charter
    if charter is not None and charter.issues:
        first = charter.issues[charter.first]
        name = f"#{first.number} {first.title!r}" if first.number else repr(first.title)
        how = (
            f"Move {name} to Ready on the board"
            if s.board is not None
            else f"Label {name} status:ready"
        )
        lines.append(f"  1. {how}: it is the seed issue with no blockers, so it runs first.")
        waiting = [i for i in charter.issues if i.blocked_by]
        if waiting:
            lines.append(
                f"     The other {len(waiting)} wait for the issues they depend on to close."
            )
    else:
        lines.append(
            "  1. Put an issue in Ready on the board: the dispatcher takes it on its next tick."
        )
    lines.append(
        "  2. The dispatcher (every minute) queues Ready issues whose blockers are closed; "
        "the queue runs an agent in a worktree and opens a pull request; "
        "the PR monitor merges it when CI passes."
    )
    lines.append(
        "  3. `bin/agentos status` shows what runs and what waits; "
        "`bin/agentos off` stops everything."
    )
    if ctx.dry_run:
        lines.append(
            "This was a dry run: nothing was changed. "
            "Run `bin/agentos init` without --dry-run to do it."
        )
    return lines

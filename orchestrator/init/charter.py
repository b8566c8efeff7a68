"""Step 5, charter: NORTH_STAR.md and PLAN.md in the repository, and 3-5 seed issues in Backlog.

The seed issues depend on one another.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import yaml

from orchestrator.core import charter
from orchestrator.core.model import BoardStatus, Issue
from orchestrator.core.redact import redact
from orchestrator.errors import Rejected, TrackerError
from orchestrator.init import credentials
from orchestrator.init.context import Context
from orchestrator.init.intake import describe
from orchestrator.init.session import CharterRecord, Intake, SeedIssue
from orchestrator.ports_init import Edit

MODEL = "claude-sonnet-4-6"
TEMPLATES = Path(__file__).with_name("templates")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def run(ctx: Context) -> None:
    """Draft the charter (model or templates), show it, then commit it and open the issues."""
    intake, repo = ctx.session.intake, ctx.session.repository
    assert intake is not None and repo is not None
    drafted = _draft(ctx, intake)
    ctx.say(
        "Seed issues "
        f"({'drafted by the model' if drafted.source == 'model' else 'from templates'}):"
    )
    for i in charter.order(drafted.seeds):
        seed = drafted.seeds[i]
        after = (
            f" (after {', '.join(str(b + 1) for b in seed.blocked_by)})" if seed.blocked_by else ""
        )
        ctx.say(f"  {i + 1}. {seed.title} [{seed.label}]{after}")
    board = ctx.session.board
    where = " and put them on the board in Backlog" if board else ""
    changes = [
        f"commit NORTH_STAR.md and PLAN.md to {repo.full_name} ({repo.default_branch}), "
        "keeping either file if it is already there",
        f"open {len(drafted.seeds)} issues in {repo.full_name}, record their dependencies{where}",
    ]
    first = charter.first(drafted.seeds)
    planned = CharterRecord(
        source=drafted.source,
        first=first,
        draft=charter.to_draft(drafted),
        issues=[SeedIssue(s.title, None, list(s.blocked_by)) for s in drafted.seeds],
    )
    if not ctx.apply("charter", changes):
        ctx.session.charter = planned
        return
    _apply(ctx, drafted, planned, _render_files(intake, drafted))


def _draft(ctx: Context, intake: Intake) -> charter.Charter:
    """Return the model's draft if there is a key and it works; else the templates', saying why."""
    earlier = ctx.session.charter
    if earlier is not None and earlier.draft is not None:
        ctx.say("Using the draft from the interrupted run.")
        return charter.from_draft(earlier.draft, earlier.source)
    var, model = _anthropic(ctx)
    key = ctx.lookup(var)
    if key is None:
        ctx.say(
            f"No Anthropic API key (${var} is not set): drafting from templates instead of a model."
        )
        return template_charter(intake)
    if not ctx.prompter.confirm(
        "charter.use_model", f"Draft the charter with {model} (uses ${var})?", True
    ):
        ctx.say("Drafting from templates.")
        return template_charter(intake)
    ctx.say("Asking the model for a draft…")
    base_url = ctx.options.environ.get("ANTHROPIC_BASE_URL") or None
    try:
        return charter.from_draft(
            ctx.services.drafter.draft(key, base_url, model, describe(intake)), "model"
        )
    except (Rejected, ValueError) as problem:
        ctx.say(f"  ! the model's draft is unusable ({problem}): drafting from templates instead.")
        return template_charter(intake)


def _anthropic(ctx: Context) -> tuple[str, str]:
    """Return the key's variable and the model: the config's anthropic backend's, else defaults."""
    backends = ctx.section("agents").get("backends")
    for backend in backends.values() if isinstance(backends, dict) else []:
        if isinstance(backend, dict) and backend.get("type") == "anthropic":
            return (
                credentials.reference(backend.get("api_key"), "ANTHROPIC_API_KEY"),
                str(backend.get("model") or MODEL),
            )
    return "ANTHROPIC_API_KEY", MODEL


def template_charter(intake: Intake) -> charter.Charter:
    """Return the charter the built-in templates make from the intake."""
    seeds = yaml.safe_load((TEMPLATES / "seeds.yaml").read_text(encoding="utf-8"))
    issues = [
        {
            **seed,
            "title": _ENV.from_string(seed["title"]).render(intake=intake).strip(),
            "body": _ENV.from_string(seed["body"]).render(intake=intake).strip(),
        }
        for seed in seeds
    ]
    north_star = _ENV.get_template("NORTH_STAR.md.j2").render(intake=intake)
    return charter.from_draft(
        {"north_star": north_star, "plan": "(rendered)", "issues": issues}, "template"
    )


def _render_files(intake: Intake, drafted: charter.Charter) -> dict[str, str]:
    note = (
        "Drafted by a model from the intake; edit freely."
        if drafted.source == "model"
        else "Drafted from Agent OS's templates (no model was used); edit freely."
    )
    plan = (
        drafted.plan
        if drafted.source == "model"
        else _ENV.get_template("PLAN.md.j2").render(seeds=drafted.seeds, source_note=note)
    )
    north = drafted.north_star if drafted.north_star.endswith("\n") else drafted.north_star + "\n"
    return {"NORTH_STAR.md": north, "PLAN.md": plan if plan.endswith("\n") else plan + "\n"}


def _apply(
    ctx: Context, drafted: charter.Charter, planned: CharterRecord, files: dict[str, str]
) -> None:
    repo = ctx.session.repository
    assert repo is not None
    ctx.session.charter = planned  # saved first: a resumed run reuses this draft and these issues
    ctx.save()
    gh = credentials.github_client(ctx)
    info = gh.repository(repo.full_name)
    if info is None:
        raise Rejected(f"{repo.full_name} is gone")
    edits = {name: _unless_present(redact(text)) for name, text in files.items()}
    try:
        committed = gh.publish(info, edits, "Charter: NORTH_STAR.md and PLAN.md, from agentos init")
        ctx.say(
            f"  ✓ {'committed' if committed else 'kept the existing'} NORTH_STAR.md and PLAN.md"
        )
    except TrackerError as problem:
        # a protected branch, say: the issues matter more than the files
        ctx.say(f"  ! {problem}; NORTH_STAR.md and PLAN.md were not committed")
    issues = _open_issues(ctx, drafted, planned)
    for i, seed in enumerate(drafted.seeds):
        have = set(gh.blockers(issues[i]))
        for b in seed.blocked_by:
            if issues[b].ref not in have:
                gh.add_blocker(issues[i].ref, issues[b])
    ctx.say("  ✓ dependencies recorded")
    board = ctx.session.board
    if board is not None and board.number is not None:
        tools = credentials.board_tools(ctx)
        cards = tools.board(tools.admin.project(board.owner, board.number), repo.full_name)
        for issue in issues:
            cards.set_status(cards.add(issue), BoardStatus.BACKLOG)
        ctx.say(f"  ✓ on the board {board.url} in Backlog")


def _open_issues(ctx: Context, drafted: charter.Charter, planned: CharterRecord) -> list[Issue]:
    """Open each seed once: an open issue with its title (from an interrupted run) is reused."""
    repo = ctx.session.repository
    assert repo is not None
    gh = credentials.github_client(ctx)
    by_title = {issue.title.casefold(): issue for issue in gh.open_issues(repo.full_name)}
    issues: dict[int, Issue] = {}
    for i in charter.order(drafted.seeds):
        seed = drafted.seeds[i]
        issue = by_title.get(redact(seed.title).casefold())
        if issue is None:
            needs = "".join(f"\nDepends on #{issues[b].number}" for b in seed.blocked_by)
            body = f"{seed.body}\n{needs}\n" if needs else seed.body
            issue = gh.create_issue(repo.full_name, redact(seed.title), redact(body), [seed.label])
            ctx.say(f"  ✓ opened #{issue.number} {seed.title}")
        issues[i] = issue
        planned.issues[i].number = issue.number
        ctx.save()
    return [issues[i] for i in range(len(drafted.seeds))]


def _unless_present(text: str) -> Edit:
    """Return an edit that writes `text` only where the file does not exist yet."""
    return lambda before: before if before is not None else text

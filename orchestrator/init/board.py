"""Step 4, board: create or adopt a Projects (v2) board and link it to the repository.

The board's Status field is given the six options.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from orchestrator.core.model import BoardStatus, Project
from orchestrator.errors import InvalidAnswer, TrackerError
from orchestrator.init import credentials
from orchestrator.init.context import Context
from orchestrator.init.questions import parse_integer
from orchestrator.init.session import BoardRecord

# Backlog, Ready, In Progress, In Review, Blocked, Done
STATUSES = tuple(status.value for status in BoardStatus)


def run(ctx: Context) -> None:
    """Ask which board, show what will change on it, and make the changes."""
    repo = ctx.session.repository
    assert repo is not None
    p = ctx.prompter
    earlier = ctx.session.board  # made by an interrupted run: adopt it rather than make another
    configured = (
        (earlier.owner, earlier.number)
        if earlier and earlier.number
        else _configured(ctx, repo.full_name)
    )
    action = p.choice(
        "board.action",
        "Create a new Projects board or use an existing one",
        ("create", "adopt"),
        "adopt" if configured else "create",
    )
    owner = p.text(
        "board.owner",
        "Who owns the board (a user or an organization)",
        configured[0] if configured else repo.full_name.split("/", 1)[0],
        check=owner_check(ctx),
    )
    if action == "adopt":
        found: Project = p.ask(
            "board.number",
            f"Board number (the N in {projects_page(ctx, owner)}/N)",
            existing_board(ctx, owner),
            str(configured[1]) if configured else None,
        )
        _apply(ctx, found, owner, found.title)
    else:
        title = p.text("board.title", "Title of the new board", repo.full_name.split("/", 1)[1])
        _apply(ctx, None, owner, title)


def _configured(ctx: Context, full: str) -> tuple[str, int] | None:
    repos = (ctx.existing or {}).get("repos")
    for entry in repos if isinstance(repos, list) else []:
        board = entry.get("board") if isinstance(entry, dict) else None
        if isinstance(board, dict) and str(entry.get("github", "")).lower() == full.lower():
            return str(board.get("owner")), int(board.get("number") or 0)
    return None


def owner_check(ctx: Context) -> Callable[[str], str]:
    """Return a check that the owner exists and, for an organization, that the token may read it."""

    def check(text: str) -> str:
        gh = credentials.github_client(ctx)
        kind = gh.owner_type(text)
        if kind is None:
            raise InvalidAnswer(f"no user or organization named {text!r}")
        if kind == "Organization":
            problem = credentials.scope_problem(
                gh.identity(), ("project", "read:org"), ctx.api_url()
            )
            if problem:
                raise InvalidAnswer(f"{text} is an organization and {problem}")
        return text

    return check


def projects_page(ctx: Context, owner: str) -> str:
    """Return the web page listing the owner's boards."""
    api = urlsplit(ctx.api_url())
    web = "https://github.com" if api.netloc == "api.github.com" else f"{api.scheme}://{api.netloc}"
    kind = "orgs" if credentials.github_client(ctx).owner_type(owner) == "Organization" else "users"
    return f"{web}/{kind}/{owner}/projects"


def existing_board(ctx: Context, owner: str) -> Callable[[str], Project]:
    """Return a parser for a board number that must name one of the owner's boards."""

    def parse(text: str) -> Project:
        number = parse_integer(text)
        try:
            return credentials.board_tools(ctx).admin.project(owner, number)
        except TrackerError as problem:
            raise InvalidAnswer(f"{problem} (see {projects_page(ctx, owner)})") from None

    return parse


def _apply(ctx: Context, found: Project | None, owner: str, title: str) -> None:
    repo = ctx.session.repository
    assert repo is not None
    changes = (
        []
        if found
        else [f"create the board {title!r} for {owner} (or take the open one with that title)"]
    )
    changes += [
        f"link the board to {repo.full_name}",
        f"make sure its Status field has the options {', '.join(STATUSES)} "
        "(adding what is missing, "
        "keeping every option it has and every card's status)",
    ]
    if not ctx.apply("board", changes):
        ctx.session.board = BoardRecord(
            owner=owner,
            number=found.number if found else None,
            title=title,
            url=found.url if found else "",
        )
        return
    admin = credentials.board_tools(ctx).admin
    board = found or admin.find_or_create(owner, title)
    ctx.session.board = BoardRecord(
        owner=owner, number=board.number, title=board.title, url=board.url
    )
    if found is None:
        ctx.say(f"  ✓ board {board.url}")
        ctx.save()  # a run interrupted from here adopts this board instead of creating another
    admin.link(board, repo.full_name)
    field = admin.ensure_statuses(board)
    missing = [status.value for status in BoardStatus if status not in field.options]
    ctx.say(
        f"  ✓ linked to {repo.full_name}; Status has "
        + ("all six options" if not missing else f"every option but {', '.join(missing)}")
    )

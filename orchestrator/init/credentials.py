"""Find the GitHub token (environment, env file, or asked for) and check its scopes.

For a bad one, say how to fix it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from orchestrator.core.model import Identity
from orchestrator.errors import AgentOSError, InvalidAnswer, Rejected
from orchestrator.init.context import Context
from orchestrator.ports_init import BoardTools, GitHubSetup

NEEDED = ("repo", "project")
_REFERENCE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def reference(value: object, default: str) -> str:
    """Return the variable a `$VAR` config value names, or `default`."""
    match = _REFERENCE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else default


def token_var(ctx: Context) -> str:
    """Return the variable that holds the GitHub token: the config's, else GITHUB_TOKEN."""
    if ctx.session.preflight is not None:
        return ctx.session.preflight.token_var
    return reference(ctx.section("github").get("token"), "GITHUB_TOKEN")


def token_page(api_url: str) -> str:
    """Return where to create a classic token with the scopes Agent OS needs."""
    api = urlsplit(api_url)
    web = (
        "https://github.com"
        if api.netloc in ("api.github.com", "")
        else f"{api.scheme}://{api.netloc}"
    )
    return f"{web}/settings/tokens/new?scopes=repo,project,read:org&description=Agent+OS"


def scope_problem(identity: Identity, needed: tuple[str, ...], api_url: str) -> str | None:
    """Say which needed scopes the token lacks and how to get them.

    None when it has them (or when that cannot be told).
    """
    if identity.scopes is None:
        return None
    missing = [scope for scope in needed if scope not in identity.scopes]
    if not missing:
        return None
    names = " and ".join(f"'{scope}'" for scope in missing)
    return (
        f"this token lacks the {names} scope{'s' if len(missing) > 1 else ''}: create one at "
        f"{token_page(api_url)} or run `gh auth refresh -s {','.join(missing)}`"
    )


def check(ctx: Context, token: str) -> tuple[GitHubSetup, Identity]:
    """Return a client and the token's identity, or raise InvalidAnswer saying what is wrong."""
    try:
        client = ctx.services.github(ctx.api_url(), token)
        identity = client.identity()
    except (Rejected, AgentOSError) as error:
        raise InvalidAnswer(str(error)) from None
    problem = scope_problem(identity, NEEDED, ctx.api_url())
    if problem:
        raise InvalidAnswer(problem)
    return client, identity


def ask_token(ctx: Context, var: str) -> tuple[GitHubSetup, Identity]:
    """Ask for a token until one passes the check; keep it in memory for the env file."""
    holder: dict[str, str] = {}

    def parse(text: str) -> tuple[GitHubSetup, Identity]:
        result = check(ctx, text)
        holder["token"] = text
        return result

    result = ctx.prompter.secret(
        "github.token",
        f"GitHub token (scopes: {', '.join(NEEDED)}; read:org for organization boards)",
        parse,
    )
    ctx.secrets[var] = holder["token"]
    return result


def github_token(ctx: Context) -> str:
    """Return the token's value, asked for when neither the environment nor the env file has it."""
    var = token_var(ctx)
    value = ctx.lookup(var)
    if value is None:
        ctx.say(f"${var} is not set here (the interrupted run had the token only in memory).")
        ask_token(ctx, var)
        value = ctx.secrets[var]
    return value


def github_client(ctx: Context) -> GitHubSetup:
    """Return the run's GitHub client.

    The token is asked for again if the interrupted run had it only in memory.
    """
    if "github" not in ctx.clients:
        ctx.clients["github"] = ctx.services.github(ctx.api_url(), github_token(ctx))
    client: GitHubSetup = ctx.clients["github"]
    return client


def board_tools(ctx: Context) -> BoardTools:
    """Return the Projects (v2) clients on the GraphQL endpoint that goes with the REST root."""
    if "board" not in ctx.clients:
        ctx.clients["board"] = ctx.services.board(ctx.api_url(), github_token(ctx))
    tools: BoardTools = ctx.clients["board"]
    return tools

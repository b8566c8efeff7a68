"""Step 3, repository: create or adopt one, ignore the agent result file, add Agent OS's labels."""

from __future__ import annotations

import re
from collections.abc import Callable

from orchestrator.core import labels
from orchestrator.core.agent import RESULT_FILE
from orchestrator.core.model import RepoInfo
from orchestrator.errors import InvalidAnswer, TrackerError
from orchestrator.init import credentials
from orchestrator.init.context import Context
from orchestrator.init.session import Repository
from orchestrator.ports_init import GitHubSetup

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def run(ctx: Context) -> None:
    """Ask which repository, show what will change in it, and make the changes."""
    gh, p = credentials.github_client(ctx), ctx.prompter
    login = (
        ctx.session.preflight.login
        if ctx.session.preflight and ctx.session.preflight.login
        else gh.identity().login
    )
    earlier = ctx.session.repository  # an interrupted run's choice: offered again as the default
    action = p.choice(
        "repository.action",
        "Create a new repository or adopt an existing one",
        ("create", "adopt"),
        "adopt" if earlier and not earlier.created else "create",
    )
    before = earlier.full_name if earlier else None
    if action == "adopt":
        info: RepoInfo | None = p.ask(
            "repository.name", "Repository to adopt (owner/name)", lambda s: existing(gh, s), before
        )
        assert info is not None
        full, private = info.full_name, False
    else:
        full, info = p.ask(
            "repository.name",
            f"New repository (owner/name, or a name for {login})",
            new_name(ctx, gh, login),
            before,
        )
        private = info is None and p.confirm("repository.private", "Make it private?", True)
    key = p.text(
        "repository.key",
        "Short key for it in commands (agentos repo off KEY)",
        _configured_key(ctx, full) or default_key(full),
        check=key_check(ctx, full),
    )
    _apply(ctx, gh, full, key, info, private, created=action == "create")


def existing(gh: GitHubSetup, text: str) -> RepoInfo:
    """Return the repository `text` names, or raise InvalidAnswer saying why it can't be adopted."""
    full = _full_name(text)
    info = gh.repository(full)
    if info is None:
        raise InvalidAnswer(f"{full} not found, or the token cannot see it")
    if not info.can_push:
        raise InvalidAnswer(f"the token cannot push to {full} (it needs write access)")
    if not info.has_issues:
        raise InvalidAnswer(f"issues are turned off in {full}: turn them on in its settings first")
    return info


def new_name(
    ctx: Context, gh: GitHubSetup, login: str
) -> Callable[[str], tuple[str, RepoInfo | None]]:
    """Return a parser for a new repository's name: free, for the user or an organization."""

    def parse(text: str) -> tuple[str, RepoInfo | None]:
        full = _full_name(text if "/" in text else f"{login}/{text}")
        owner = full.split("/", 1)[0]
        found = gh.repository(full)
        if found is not None:
            earlier = ctx.session.repository
            if earlier is not None and earlier.full_name == full and earlier.created:
                return full, found  # the interrupted run created it
            raise InvalidAnswer(f"{full} already exists: adopt it instead, or choose another name")
        if owner.lower() != login.lower() and gh.owner_type(owner) != "Organization":
            raise InvalidAnswer(
                f"no organization named {owner} (create it for yourself, {login}, or for an "
                "organization you belong to)"
            )
        return full, None

    return parse


def _full_name(text: str) -> str:
    owner, _, name = (
        text.strip().removeprefix("https://github.com/").removesuffix(".git").partition("/")
    )
    if not _OWNER.match(owner) or not _NAME.match(name):
        raise InvalidAnswer(f"expected owner/name (letters, digits, '-', '.', '_'), got {text!r}")
    return f"{owner}/{name}"


def default_key(full: str) -> str:
    """Return a command key from a repository name: lower-case, safe characters only."""
    key = re.sub(r"[^a-z0-9._-]+", "-", full.split("/", 1)[1].lower()).strip("-._")
    return (key or "repo")[:64]


def _configured(ctx: Context) -> list[dict[str, object]]:
    repos = (ctx.existing or {}).get("repos")
    return [r for r in repos if isinstance(r, dict)] if isinstance(repos, list) else []


def _configured_key(ctx: Context, full: str) -> str | None:
    for repo in _configured(ctx):
        if str(repo.get("github", "")).lower() == full.lower():
            return str(repo.get("key"))
    return None


def key_check(ctx: Context, full: str) -> Callable[[str], str]:
    """Return a check that the key is well-formed and not taken by another repository."""

    def check(text: str) -> str:
        if not _KEY.match(text):
            raise InvalidAnswer(
                f"expected lower-case letters, digits, '.', '_' or '-', got {text!r}"
            )
        for repo in _configured(ctx):
            if repo.get("key") == text and str(repo.get("github", "")).lower() != full.lower():
                raise InvalidAnswer(
                    f"the key {text!r} is taken by {repo.get('github')} in the config"
                )
        return text

    return check


def _apply(
    ctx: Context,
    gh: GitHubSetup,
    full: str,
    key: str,
    info: RepoInfo | None,
    private: bool,
    *,
    created: bool,
) -> None:
    branch = info.default_branch if info else "main"
    present = gh.labels(full) if info else set()
    missing = {name: colour for name, colour in labels.COLOURS.items() if name not in present}
    changes = [] if info else [f"create the {'private' if private else 'public'} repository {full}"]
    changes.append(
        f"make sure .gitignore on {branch} lists {RESULT_FILE} (one commit, pushed, if it does not)"
    )
    if missing:
        changes.append(f"create the labels {', '.join(missing)}")
    planned = Repository(
        full_name=full,
        key=key,
        default_branch=branch,
        html_url=info.html_url if info else "",
        created=created,
        exists=info is not None,
    )
    if not ctx.apply("repository", changes):
        ctx.session.repository = planned
        return
    if info is None:
        ctx.session.repository = (
            planned  # saved first: a run interrupted after the create adopts it
        )
        ctx.save()
        owner, name = full.split("/", 1)
        info = gh.create_repository(owner, name, private)
        ctx.say(f"  ✓ created {info.html_url}")
    try:
        committed = gh.publish(
            info,
            {".gitignore": ignore_result_file},
            f"Ignore {RESULT_FILE}, the agents' result file",
        )
        ctx.say(f"  ✓ .gitignore {'now lists' if committed else 'already listed'} {RESULT_FILE}")
    except TrackerError as problem:
        # a protected branch, say: the worktrees exclude the file anyway
        ctx.say(
            f"  ! {problem}; add {RESULT_FILE} to .gitignore by hand "
            "(worktrees exclude it meanwhile)"
        )
    if missing:
        gh.ensure_labels(full, missing)
        ctx.say(f"  ✓ labels created: {', '.join(missing)}")
    ctx.session.repository = Repository(
        full_name=info.full_name,
        key=key,
        default_branch=info.default_branch,
        html_url=info.html_url,
        created=created,
        exists=True,
    )


def ignore_result_file(text: str | None) -> str:
    """Return .gitignore with the result file listed (unchanged when it already is)."""
    current = text or ""
    if any(line.strip() in (RESULT_FILE, "/" + RESULT_FILE) for line in current.splitlines()):
        return current
    prefix = current if not current or current.endswith("\n") else current + "\n"
    return (
        f"{prefix}# Written by each coding agent, read by Agent OS; never committed.\n"
        f"{RESULT_FILE}\n"
    )

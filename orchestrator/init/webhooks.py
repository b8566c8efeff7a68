"""Step 9's webhooks: GitHub wakes `agentos serve --webhooks` at once (docs/webhooks.md).

Asked only when the jobs run from `serve` and GitHub can reach this machine (a public URL, a
tunnel or a reverse proxy). Init takes the public URL, keeps the hooks' secret in the env file
(generated once with `secrets.token_hex(32)`, never shown, logged or written anywhere else), adds
a `webhooks:` section naming it to the config, and gives every configured repository a hook with
the events a repository hook can receive: created, or, when one with the same URL is there,
updated, never a second one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orchestrator.config.load import read_env_file
from orchestrator.config.model import WebhooksConfig
from orchestrator.errors import InvalidAnswer, TrackerError
from orchestrator.init import yamlmerge
from orchestrator.init.context import Context
from orchestrator.init.credentials import github_client, reference
from orchestrator.init.writeconfig import backup_name, validate, write_env_file
from orchestrator.ports_init import RepoHook
from orchestrator.serve.webhooks import WAKES
from orchestrator.store.files import atomic_write

# Sent to organisation hooks and GitHub Apps only: a repository hook never receives them.
NOT_ON_REPO_HOOKS = ("projects_v2_item", "merge_group")
EVENTS = tuple(event for event in WAKES if event not in NOT_ON_REPO_HOOKS)
VAR = "WEBHOOK_SECRET"
LOOPBACK = ("127.0.0.1", "localhost")  # the only hosts reached over plain http (the sandbox)
DEFAULT_PATH = "/github"
DEFAULT_PORT = next(f.default for f in fields(WebhooksConfig) if f.name == "port")
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,99}$")  # what the config's `webhooks.path` takes


@dataclass
class WebhookPlan:
    """What the webhooks need: the secret, the config's section, a hook per repository."""

    url: str  # where GitHub posts: the public URL, ending in the receiver's path
    var: str  # the variable that holds the secret
    secret: str = field(repr=False)
    secret_change: str  # "" when the env file holds it already; else what writing it does
    env_file: Path = Path(".env")
    config_text: str | None = None  # the config with the section; None: it has it already
    section: list[str] = field(default_factory=list)  # the keys added or changed
    backup: Path | None = None
    hooks: list[tuple[str, RepoHook | None]] = field(default_factory=list)  # None: create

    def local_changes(self, config: Path) -> list[str]:
        """Return a line per change `write_local` makes: the env file, the config."""
        lines = [self.secret_change] if self.secret_change else []
        if self.config_text is not None:
            lines.append(
                f"set in {config}: webhooks {{{', '.join(self.section)}}}, after checking it "
                "with the loader `check` uses"
                + (f"; the old file is copied to {self.backup.name}" if self.backup else "")
            )
        return lines

    def hook_changes(self) -> list[str]:
        """Return a line per hook `save_hooks` creates or updates."""
        lines = []
        for repo, hook in self.hooks:
            lines.append(
                f"create a webhook on {repo}: {self.url} (JSON, signed with ${self.var}; "
                f"events {', '.join(EVENTS)})"
                if hook is None
                else f"update the webhook {self.url} on {repo} (JSON, signed with ${self.var}; "
                f"events {', '.join(EVENTS)})"
            )
        return lines


def parse_public_url(text: str) -> str:
    """Return where GitHub posts (a bare host gets /github), or raise InvalidAnswer naming it."""
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is no number
    except ValueError:
        raise InvalidAnswer(
            f"expected a URL such as https://agentos.example.com/github, got {text!r}"
        ) from None
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)):
        raise InvalidAnswer(
            "expected an https URL GitHub can reach (http only for 127.0.0.1 or localhost), "
            f"got {text!r}"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidAnswer(f"expected a URL without user, password, ?query or #part, got {text!r}")
    path = parts.path.rstrip("/") or DEFAULT_PATH
    if not _URL_PATH.match(path):
        raise InvalidAnswer(
            f"expected a URL path such as /github (letters, digits, . _ ~ - /), got {text!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def plan(ctx: Context, *, wanted: bool) -> WebhookPlan | None:
    """Ask whether GitHub can reach this machine and where; return what to change (None: no)."""
    path = ctx.options.config_path
    old = path.read_text(encoding="utf-8") if path.exists() else None
    doc = yamlmerge.load(old or "", str(path))
    had = doc.data.get("webhooks")
    section: dict[str, Any] = dict(had) if isinstance(had, dict) else {}
    if not ctx.prompter.confirm(
        "cron.webhooks",
        "Can GitHub reach this machine (a public URL, a tunnel or a reverse proxy)?",
        wanted or bool(section),
    ):
        return None
    if old is None and not ctx.dry_run:
        ctx.say(
            f"  ! {path} does not exist (step 8 writes it), so it cannot get a webhooks "
            "section: serve polls instead"
        )
        return None
    repos = _repos(ctx, doc.data)
    found = {repo: _hooks(ctx, repo) for repo in repos}
    url = ctx.prompter.text(
        "cron.webhook_url",
        "The public URL GitHub sends the webhooks to (e.g. https://agentos.example.com/github)",
        _known_url(found, str(section.get("path") or DEFAULT_PATH)) if section else None,
        parse_public_url,
    )
    var = reference(section.get("secret"), VAR)
    env_file = _env_file(path, doc.data)
    in_file = read_env_file(env_file).get(var) if env_file.is_file() else None
    secret = in_file or ctx.options.environ.get(var) or secrets.token_hex(32)
    generated = not in_file and not ctx.options.environ.get(var)
    result = WebhookPlan(url, var, secret, _secret_change(var, env_file, in_file, generated))
    result.env_file = env_file
    _section(ctx, result, doc, section, old)
    for repo, hooks in found.items():
        if hooks is None:
            continue
        same = next((h for h in hooks if h.url.rstrip("/") == url), None)
        if same is not None and not generated and _current(same):
            ctx.say(f"  ✓ the webhook on {repo} is up to date ({url})")
        else:
            result.hooks.append((repo, same))
    return result


def _secret_change(var: str, env_file: Path, in_file: str | None, generated: bool) -> str:
    if in_file:
        return ""
    if generated:
        return (
            f"generate the hooks' secret and write it to {env_file} as {var} (mode 0600; "
            f"never shown: the config names only ${var})"
        )
    return f"copy ${var}, set only in this shell, into {env_file} (mode 0600): serve needs it"


def _section(
    ctx: Context, result: WebhookPlan, doc: yamlmerge.Document, had: dict[str, Any], old: str | None
) -> None:
    """Plan the config's `webhooks:` section: the secret's reference, the port and the path."""
    parts = urlsplit(result.url)
    port = (
        parts.port if parts.hostname in LOOPBACK and parts.port else had.get("port", DEFAULT_PORT)
    )
    fresh = "webhooks" not in doc.data
    node = yamlmerge.child(doc.data, "webhooks")
    if fresh:
        doc.data.yaml_add_eol_comment(
            "GitHub's webhooks wake `agentos serve` (docs/webhooks.md)", "webhooks"
        )
    for key, value in (("secret", f"${result.var}"), ("port", port), ("path", parts.path)):
        if yamlmerge.set_value(node, key, value, only_if_absent=key == "secret"):
            result.section.append(f"{key}: {value}")
    if parts.hostname not in LOOPBACK:
        bind = str(had.get("bind") or "127.0.0.1")
        ctx.say(
            f"  - Your reverse proxy or tunnel forwards {result.url} to http://{bind}:{port}"
            f"{parts.path}, where serve listens (docs/webhooks.md)."
        )
    if not result.section:
        ctx.say(f"  ✓ {ctx.options.config_path} has the webhooks section")
        return
    result.config_text = doc.dump()
    path = ctx.options.config_path
    if old is not None:
        secret = {result.var: result.secret}
        validate(ctx, path, result.config_text, secret, env_written=False)
        written = ctx.session.written
        if written is None or written.config != str(path):  # else step 8 kept the user's file
            result.backup = backup_name(path, ctx)


def _env_file(config: Path, data: dict[str, Any]) -> Path:
    named = data.get("env_file")
    return config.parent / (named if isinstance(named, str) and named else ".env")


def _repos(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Return the configured repositories, and this run's when the config lacks it (dry run)."""
    entries = data.get("repos")
    names = [
        str(e["github"])
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and e.get("github")
    ]
    repo = ctx.session.repository
    if repo is not None and repo.full_name.lower() not in {n.lower() for n in names}:
        names.append(repo.full_name)
    return names


def _hooks(ctx: Context, repo: str) -> list[RepoHook] | None:
    """Return the repository's hooks ([] for one a dry run has not created; None: unreadable)."""
    pending = ctx.session.repository
    if pending is not None and not pending.exists and pending.full_name == repo:
        return []
    try:
        return github_client(ctx).webhooks(repo)
    except TrackerError as problem:
        ctx.say(
            f"  ! cannot read the webhooks of {repo} ({problem}); a hook needs admin rights on "
            "the repository: add it by hand (docs/webhooks.md)"
        )
        return None


def _known_url(found: dict[str, list[RepoHook] | None], path: str) -> str | None:
    """Return the URL of the hooks init made before (one URL ending in the path), if any."""
    urls = {
        h.url.rstrip("/")
        for hooks in found.values()
        for h in hooks or ()
        if urlsplit(h.url).path.rstrip("/") == path and _current(h)
    }
    return urls.pop() if len(urls) == 1 else None


def _current(hook: RepoHook) -> bool:
    """True when the hook sends what serve needs, as serve reads it, signed."""
    events = set(hook.events)
    return (
        hook.active
        and hook.content_type == "json"
        and hook.has_secret
        and ("*" in events or set(EVENTS) <= events)
    )


def write_local(ctx: Context, plan: WebhookPlan) -> None:
    """Write the secret to the env file, then the config's section (atomically, backed up)."""
    if plan.secret_change:
        write_env_file(plan.env_file, {plan.var: plan.secret})
        ctx.say(f"  ✓ ${plan.var} written to {plan.env_file}")
    if plan.config_text is not None:
        path = ctx.options.config_path
        if plan.backup is not None:
            atomic_write(plan.backup, path.read_text(encoding="utf-8"))
        atomic_write(path, plan.config_text)
        ctx.say(
            f"  ✓ {path}: webhooks section written"
            + (f"; the old one is {plan.backup}" if plan.backup else "")
        )


def save_hooks(ctx: Context, plan: WebhookPlan) -> None:
    """Create or update each hook; one GitHub refuses is said, and the others still made."""
    gh = github_client(ctx)
    for repo, hook in plan.hooks:
        extra = [e for e in hook.events if e not in EVENTS] if hook is not None else []
        done = "created" if hook is None else "updated"
        try:
            gh.save_webhook(
                repo, plan.url, plan.secret, [*EVENTS, *extra], None if hook is None else hook.id
            )
        except TrackerError as problem:
            ctx.say(
                f"  ! the webhook on {repo} was not {done}: {problem}; run init again, or add "
                "it by hand (docs/webhooks.md)"
            )
            continue
        ctx.say(f"  ✓ webhook {done} on {repo}: {plan.url}")
    if any(hook is None for _, hook in plan.hooks):
        ctx.say("  (GitHub pings a new hook at once: that ping fails until serve runs, harmlessly)")

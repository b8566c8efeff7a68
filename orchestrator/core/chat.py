"""Chat text -> a command value, who may give commands, and the fixed words the bot answers with.

`/cmd@botname` is accepted for this bot and ignored when addressed to another. Arguments are
checked here, so a handler only ever sees a well-formed command or a `UsageHint` reply to send.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

MODES = ("full", "dispatcher_only")
PROTECTED_JOB = "telegram_control"  # the control plane itself: never switched off from chat

# name -> (arguments, what it does): the order is /help's.
SPECS: dict[str, tuple[str, str]] = {
    "status": ("", "switch, running tasks, queue, open agent PRs, last run of each job"),
    "on": ("", "turn Agent OS on"),
    "off": ("[now]", "turn Agent OS off: agents finish; now: stop them, requeue their tasks"),
    "repos": ("", "each repo: on or off, mode"),
    "repo": (
        "on|off KEY [now]  or  mode KEY full|dispatcher_only",
        "switch a repo, or set its mode",
    ),
    "jobs": ("", "each job: on or off"),
    "job": ("on|off NAME", "switch one job"),
    "queue": ("", "what waits, and why"),
    "why": ("N", "why issue N is or is not running"),
    "retry": ("N", "re-queue an escalated or failed issue with fresh attempts"),
    "report": ("", "the fleet's scores for the last day, and what needs you"),
    "plan": ("[show] [KEY]", "ask for a sprint plan now; show: the last plan"),
    "producers": ("", "what Agent OS filed by itself this week, by producer"),
    "help": ("", "this list"),
    "start": ("", "say hello"),
}
_HEAD = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{3,64}))?$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a repo key
_TARGET = re.compile(
    r"^(?:(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9._-]+)?)#|#)?(?P<number>\d{1,9})$"
)


@dataclass(frozen=True, slots=True)
class Simple:
    """A command without arguments: status, on, off, repos, jobs, queue, report, help, start."""

    name: str


@dataclass(frozen=True, slots=True)
class Off:
    """`/off`: a drain (running agents finish); `/off now` also stops them."""

    now: bool = False

    @property
    def name(self) -> str:
        return "off"


@dataclass(frozen=True, slots=True)
class Switch:
    """`/repo on|off KEY [now]` or `/job on|off NAME`."""

    name: str  # "repo" | "job"
    target: str
    on: bool
    now: bool = False  # `/repo off KEY now`: stop the repo's running agents too


@dataclass(frozen=True, slots=True)
class RepoMode:
    """`/repo mode KEY full|dispatcher_only`."""

    key: str
    mode: str  # one of MODES

    @property
    def name(self) -> str:
        return "repo"


@dataclass(frozen=True, slots=True)
class Target:
    """An issue as typed in chat: `12`, `#12`, `app#12` (a repo key) or `acme/app#12`."""

    number: int
    repo: str | None = None


@dataclass(frozen=True, slots=True)
class IssueCommand:
    name: str  # "why" | "retry"
    target: Target


@dataclass(frozen=True, slots=True)
class PlanCommand:
    """`/plan [KEY]`: plan now; `/plan show [KEY]`: the last plan. KEY: a repo key, when several."""

    show: bool = False
    repo: str | None = None

    @property
    def name(self) -> str:
        return "plan"


@dataclass(frozen=True, slots=True)
class UsageHint:
    """A known command with bad arguments: the reply says how to use it."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Unknown:
    name: str


Command = Simple | Off | Switch | RepoMode | IssueCommand | PlanCommand
Parsed = Command | UsageHint | Unknown


def parse(text: str, bot_username: str) -> Parsed | None:
    """Return the command in `text`; None when it is no command, or one for another bot."""
    words = text.strip().split()
    match = _HEAD.match(words[0]) if words else None
    if match is None:
        return None
    if match["bot"] and match["bot"].lower() != bot_username.lower():
        return None
    name, args = match["name"].lower(), words[1:]
    if name not in SPECS:
        return Unknown(name)
    return _arguments(name, args)


def _arguments(name: str, args: list[str]) -> Parsed:
    usage = UsageHint(name, f"Usage: /{name} {SPECS[name][0]}".rstrip())
    if name == "off" and [a.lower() for a in args] in ([], ["now"]):
        return Off(now=bool(args))
    if name in ("repo", "job"):
        if len(args) == 2 and args[0].lower() in ("on", "off"):
            return Switch(name, args[1], args[0].lower() == "on")
        if name == "repo" and [a.lower() for i, a in enumerate(args) if i != 1] == ["off", "now"]:
            return Switch(name, args[1], False, now=True)
        if (
            name == "repo"
            and len(args) == 3
            and args[0].lower() == "mode"
            and args[2].lower() in MODES
        ):
            return RepoMode(args[1], args[2].lower())
        return usage
    if name in ("why", "retry"):
        target = parse_target(args[0]) if len(args) == 1 else None
        return IssueCommand(name, target) if target else usage
    if name == "plan":
        show = bool(args) and args[0].lower() == "show"
        rest = args[1:] if show else args
        if len(rest) > 1 or (rest and not _KEY.match(rest[0])):
            return usage
        return PlanCommand(show, rest[0] if rest else None)
    return Simple(name) if not args else usage


def parse_target(word: str) -> Target | None:
    """Return the issue a word names (`12`, `#12`, `app#12`, `acme/app#12`), or None."""
    match = _TARGET.match(word.strip())
    if match is None:
        return None
    return Target(int(match["number"]), match["repo"])


@dataclass(frozen=True, slots=True)
class Authorization:
    allowed: bool
    reason: str  # "allowed" | "chat_not_allowed" | "user_not_allowed" | "no_user" | "channel"


def authorize(
    chat_id: int,
    chat_type: str,
    user_id: int | None,
    allowed_chats: Collection[int],
    allowed_users: Collection[int],
) -> Authorization:
    """Decide whether a message or button press may act.

    Its chat must be allowed, and in a group its user too.
    """
    if chat_type == "channel":
        return Authorization(False, "channel")
    if chat_id not in allowed_chats:
        return Authorization(False, "chat_not_allowed")
    if user_id is None:
        return Authorization(False, "no_user")
    if chat_type in ("group", "supergroup") and user_id not in allowed_users:
        return Authorization(False, "user_not_allowed")
    if chat_type == "private" and user_id != chat_id:
        return Authorization(False, "user_not_allowed")
    return Authorization(True, "allowed")


def help_text() -> str:
    """Return the reply to /help: every command, one line each."""
    lines = ["Agent OS commands:"]
    lines += [f"/{name} {args}".rstrip() + f" - {what}" for name, (args, what) in SPECS.items()]
    return "\n".join(lines)


def greeting() -> str:
    """Return the reply to /start, which only greets (it never turns anything on)."""
    return (
        "Hello. This is the Agent OS control bot. "
        "/help lists the commands; /status shows what runs."
    )


def unknown(name: str) -> str:
    """Return the reply to a command the bot does not know."""
    return f"Unknown command /{name}. /help lists the commands."


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a button press did: a toast for the presser, whether its row goes, a chat line."""

    toast: str  # answerCallbackQuery text (Telegram shows at most 200 characters)
    remove: bool = True  # False when it failed and may be pressed again
    announce: str = ""  # a message to the chat, so everyone sees what was done


@dataclass(frozen=True, slots=True)
class Round:
    """One poll round's counts."""

    updates: int = 0
    messages: int = 0

"""Step 9 with `serve`: the systemd user unit, polling or GitHub's webhooks, against the sandbox.

The unit lands under the test's HOME; the hooks are made on the sandbox repository through the
real client, and a ping GitHub sends them is verified by Agent OS's own receiver with the secret
init put in the env file.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github
from github.Repository import Repository

from orchestrator.cli import serve
from orchestrator.config.load import load_config, read_env_file
from orchestrator.errors import InvalidAnswer, UsageError
from orchestrator.init.webhooks import EVENTS, parse_public_url
from orchestrator.serve.webhooks import WebhookReceiver
from tests.init.conftest import World, git, only

ENABLE = "systemctl --user daemon-reload && systemctl --user enable --now agentos-serve.service"
SETUP = ("preflight", "repository", "config", "cron")  # a repository, a config, and step 9


def _unit(world: World) -> Path:
    return world.home / ".config" / "systemd" / "user" / "agentos-serve.service"


def _exec_start(world: World) -> str:
    return next(
        line for line in _unit(world).read_text().splitlines() if line.startswith("ExecStart=")
    )


def _hooks(world: World) -> list[dict[str, Any]]:
    with world.github.store.lock:
        hooks = world.github.store.repo("agentos", "shop").get("hooks") or {}
        return [json.loads(json.dumps(hook)) for hook in hooks.values()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(world: World, *steps: str, **answers: Any) -> dict[str, Any]:
    tree = only(world, *steps, **{"cron.method": "serve", **answers})
    return tree


def _cron_step_only(world: World, **answers: Any) -> dict[str, Any]:
    """A later run of step 9 alone; `cron.method` left to its default unless given."""
    tree = only(world, "cron", **answers)
    if "cron.method" not in answers:
        del tree["cron"]["method"]
    return tree


def _repo(world: World) -> Repository:
    gh = Github(auth=Auth.Token(world.github.token), base_url=world.github.api_url)
    return gh.get_repo("agentos/shop")


def test_serve_without_webhooks_writes_a_polling_unit_and_touches_nothing_on_github(
    world: World,
) -> None:
    assert world.init(only(world, *SETUP)) == 0, world.output  # cron first: the block is in
    assert "# >>> agentos" in world.crontab.read_text()

    assert world.init(_cron_step_only(world, **{"cron.method": "serve"})) == 0, world.output
    assert "Run the jobs from [serve/CRON/systemd/none]: serve" in world.output
    assert (
        "Can GitHub reach this machine (a public URL, a tunnel or a reverse proxy)? [y/N]: \n"
        in world.output
    )
    assert "Read the boards every how many seconds (0: on the schedule only) [30]: \n" in (
        world.output
    )
    assert "cron and serve never run one job twice (each tick takes its job's lock)" in (
        world.output
    )
    assert "`bin/agentos cron remove` takes it out" in world.output
    assert _unit(world).read_text() == serve.unit(
        world.root, world.config, 120, world.environ, poll=30
    )
    assert _exec_start(world).endswith(f"serve --config {world.config} --poll 30")
    assert "--webhooks" not in _unit(world).read_text()
    assert "# >>> agentos" not in world.crontab.read_text()  # removed, as offered
    assert f"Enable it with: {ENABLE}" in world.output
    assert _hooks(world) == [] and "webhooks" not in world.read_config()

    # Again, taking every default: serve is kept, and nothing changes.
    unit_before, config_before = _unit(world).read_bytes(), world.config.read_bytes()
    assert world.init(_cron_step_only(world)) == 0, world.output
    assert "Run the jobs from [SERVE/cron/systemd/none]: \n" in world.output
    assert f"✓ {_unit(world)} is installed and up to date" in world.output
    assert "Nothing to change." in world.output and f"Enable it with: {ENABLE}" in world.output
    assert _unit(world).read_bytes() == unit_before
    assert world.config.read_bytes() == config_before


def test_serve_with_webhooks_makes_one_hook_keeps_the_secret_in_env_and_updates_on_rerun(
    world: World,
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/github"
    hooked = {"cron.webhooks": True, "cron.webhook_url": url}
    assert world.init(_serve(world, *SETUP, **hooked)) == 0, world.output

    # The secret: in the 0600 env file only; the config names it.
    env_file = world.config.parent / ".env"
    secret = read_env_file(env_file)["WEBHOOK_SECRET"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert world.read_config()["webhooks"] == {
        "secret": "$WEBHOOK_SECRET",
        "port": port,
        "path": "/github",
    }
    state = world.config.parent / "runtime" / "state" / "init.json"
    for text in (world.output, world.config.read_text(), state.read_text()):
        assert secret not in text
    assert secret not in _unit(world).read_text()
    assert not list(world.config.parent.glob("config.yaml.bak.*"))  # step 8 wrote it this run

    # The unit runs serve with the receiver, no extra polling.
    assert _exec_start(world).endswith(f"serve --config {world.config} --webhooks")
    assert "Read the boards" not in world.output

    # One hook on GitHub, JSON, signed with that secret, with the events a repo hook gets.
    [hook] = _hooks(world)
    assert hook["config"]["url"] == url and hook["config"]["content_type"] == "json"
    assert hook["config"]["secret"] == secret and hook["active"]
    assert hook["events"] == list(EVENTS)
    assert "projects_v2_item" not in EVENTS and {"issues", "pull_request", "check_run"} <= set(
        EVENTS
    )
    assert f"✓ webhook created on agentos/shop: {url}" in world.output

    # What serve --webhooks would run: GitHub's ping, signed with the secret, is answered 200.
    config = load_config(world.config, environ={})
    receiver = WebhookReceiver.from_config(config, lambda jobs, why: None, logging.getLogger("t"))
    receiver.start()
    try:
        repo = _repo(world)
        repo.get_hook(hook["id"]).ping()
        assert world.github.webhooks.wait_idle(10)
        assert [(d.event, d.status_code) for d in repo.get_hook_deliveries(hook["id"])][0] == (
            "ping",
            200,
        )
    finally:
        receiver.stop()

    # Again with the same answers: up to date, nothing changed, no second hook.
    files = {p: p.read_bytes() for p in (env_file, world.config, _unit(world))}
    assert world.init(_cron_step_only(world, **hooked)) == 0, world.output
    assert (
        "Can GitHub reach this machine (a public URL, a tunnel or a reverse proxy)? [Y/n]: yes"
        in world.output
    )
    assert f"✓ the webhook on agentos/shop is up to date ({url})" in world.output
    assert f"✓ {world.config} has the webhooks section" in world.output
    assert "Nothing to change." in world.output
    assert {p: p.read_bytes() for p in files} == files and len(_hooks(world)) == 1

    # Someone narrowed the hook on GitHub: the next run updates that hook, and makes none.
    with world.github.store.lock:
        stored = world.github.store.repo("agentos", "shop")["hooks"][str(hook["id"])]
        stored["events"] = ["issues", "push"]
    assert world.init(_cron_step_only(world, **hooked)) == 0, world.output
    assert f"update the webhook {url} on agentos/shop" in world.output
    assert f"✓ webhook updated on agentos/shop: {url}" in world.output
    [again] = _hooks(world)
    assert again["id"] == hook["id"] and again["events"] == [*EVENTS, "push"]
    assert again["config"]["secret"] == secret
    assert secret not in world.output


def _hand_written_config(world: World) -> None:
    world.config.write_text(
        f"github:\n  token: $GITHUB_TOKEN\n  api_url: {world.github.api_url}\n"
        "repos:\n  - key: shop\n    github: agentos/shop\n"
    )


@pytest.mark.parametrize("bad", ["ftp://x", "http://example.com"])
def test_a_url_github_cannot_use_stops_with_one_line_naming_it(world: World, bad: str) -> None:
    _hand_written_config(world)
    tree = _serve(world, "cron", **{"cron.webhooks": True, "cron.webhook_url": bad})
    with pytest.raises(UsageError) as raised:
        world.init(tree)
    assert str(raised.value) == (
        "answers file: cron.webhook_url: expected an https URL GitHub can reach "
        f"(http only for 127.0.0.1 or localhost), got '{bad}'"
    )
    assert "\n" not in str(raised.value)
    assert not _unit(world).exists() and not (world.config.parent / ".env").exists()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://agentos.example.com", "https://agentos.example.com/github"),
        ("https://agentos.example.com:8443/hooks/", "https://agentos.example.com:8443/hooks"),
        ("http://localhost:8787/github", "http://localhost:8787/github"),
    ],
)
def test_public_urls_github_can_use(given: str, kept: str) -> None:
    assert parse_public_url(given) == kept


@pytest.mark.parametrize(
    "bad", ["https://", "https://x/a?b=1", "https://user:pw@x/github", "https://x/a b", "x.org"]
)
def test_other_bad_urls_are_named(bad: str) -> None:
    with pytest.raises(InvalidAnswer, match=re.escape(f"got {bad!r}")):
        parse_public_url(bad)


def _snapshot(world: World) -> dict[str, object]:
    with world.github.store.lock:
        data = json.loads(json.dumps(world.github.store.data))
    for repo in data["repos"].values():  # the sandbox files an empty `hooks` on the first read
        if not repo.get("hooks"):
            repo.pop("hooks", None)
    records = json.dumps(data, sort_keys=True, indent=1)
    files = {
        str(p): p.read_bytes()
        for folder in (world.config.parent, world.home)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    return {
        "github": records,
        "files": files,
        "crontab": world.crontab.read_bytes() if world.crontab.exists() else None,
        "git config": (world.root / ".git" / "config").read_bytes(),
    }


def test_a_dry_run_of_serve_with_webhooks_shows_every_change_and_makes_none(
    world: World,
) -> None:
    assert world.init(only(world, *SETUP)) == 0, world.output
    before = _snapshot(world)
    url = "https://agentos.example.com/github"
    tree = _cron_step_only(
        world, **{"cron.method": "serve", "cron.webhooks": True, "cron.webhook_url": url}
    )
    assert world.init(tree, dry_run=True) == 0, world.output
    assert _snapshot(world) == before and not _unit(world).exists()
    for change in (
        "generate the hooks' secret and write it to",
        f"set in {world.config}: webhooks {{secret: $WEBHOOK_SECRET, port: 8787, path: /github}}",
        f"create a webhook on agentos/shop: {url}",
        f"write {_unit(world)} (the unit above: `bin/agentos serve --webhooks`",
        "remove this checkout's block from",
        "(dry run: nothing done)",
        f"forwards {url} to http://127.0.0.1:8787/github, where serve listens",
    ):
        assert change in world.output, change
    assert "ExecStart=" in world.output and "Enable it with" not in world.output
    assert git(world.root, "config", "--get", "core.hooksPath").strip() == "hooks"

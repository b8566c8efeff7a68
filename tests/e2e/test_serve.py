"""`agentos serve` on the sandbox: a Ready issue's agent starts within seconds by polling, a second
serve on the config refuses, and SIGTERM while an agent runs lets the tick finish its work."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, World

SUB = {"calc/sub.py": "def sub(a, b):\n    return a - b\n"}


def serve(world: World, *args: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "orchestrator.cli.main", "--config", str(world.config_path)]
    return subprocess.Popen(
        [*argv, "serve", *args],
        cwd=ROOT,
        env=world.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def refused(world: World) -> str:
    """Run a second serve on the same config; return what it said, once it exited 1."""
    argv = [sys.executable, "-m", "orchestrator.cli.main", "--config", str(world.config_path)]
    done = subprocess.run(
        [*argv, "serve"], cwd=ROOT, env=world.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    return done.stderr


def first_event(path: Path, name: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                event = json.loads(line)
                if event.get("event") == name:
                    return event
        time.sleep(0.1)
    return None


def test_polling_starts_a_ready_issues_agent_within_seconds_and_sigterm_drains_it(
    world: World,
) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({str(issue.number): [{"sleep": 4, "files": SUB}]})
    ready = time.monotonic()
    process = serve(world, "--poll", "2", "--grace", "90")
    try:
        room = world.root / "runtime" / "rooms" / f"app-{issue.number}-g1-a1" / "channel.jsonl"
        started = first_event(room, "attempt.started", timeout=30)
        assert started is not None, "the agent did not start within 30 s"
        latency = time.monotonic() - ready
        assert latency <= 30
        assert "another `agentos serve`" in refused(world)
        process.send_signal(signal.SIGTERM)  # while the agent sleeps
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
    [pr] = world.tracker.open_pulls("acme/app")  # the tick ran to the end: the PR is open
    assert pr.body.startswith(f"Closes #{issue.number}")
    log = world.root / "runtime" / "logs" / "serve.jsonl"
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events[0] == "serve.started" and events[-1] == "serve.stopped"
    assert "serve.signal" in events and "serve.stopping" in events
    print(f"Ready -> agent started by polling: {latency:.1f} s")


def test_a_signed_webhook_starts_a_ready_issues_agent_within_seconds_and_a_forged_one_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import hmac
    import socket
    import urllib.error
    import urllib.request

    import yaml

    from tests.sandbox.github.helpers import client

    with socket.socket() as probe:  # a free port for the receiver
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "test-webhook-secret-1"
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    world.env["WEBHOOK_SECRET"] = secret
    data = yaml.safe_load(world.config_path.read_text())
    data["webhooks"] = {"secret": "$WEBHOOK_SECRET", "port": port}
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    url = f"http://127.0.0.1:{port}/github"
    repo = client(world.sandbox, world.sandbox.token).get_repo("acme/app")
    repo.create_hook(
        "web", {"url": url, "secret": secret, "content_type": "json"}, ["issues"], True
    )
    env = world.env
    argv = [sys.executable, "-m", "orchestrator.cli.main", "--config", str(world.config_path)]
    process = subprocess.Popen(
        [*argv, "serve", "--webhooks", "--grace", "90"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        log = world.root / "runtime" / "logs" / "serve.jsonl"
        assert first_event(log, "webhooks.started", timeout=30) is not None
        time.sleep(1)  # past serve's own first minute: what follows is the webhook's doing
        issue = world.issue("acme/app", "Add subtraction")
        world.set_playbook({str(issue.number): [{"files": SUB}]})
        labeled = time.monotonic()
        room = world.root / "runtime" / "rooms" / f"app-{issue.number}-g1-a1" / "channel.jsonl"
        assert first_event(room, "attempt.started", timeout=30) is not None
        latency = time.monotonic() - labeled
        body = b'{"action": "labeled"}'
        forged = urllib.request.Request(
            url,
            data=body,
            headers={
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": "11111111-2222-3333-4444-555555555555",
                "X-Hub-Signature-256": "sha256="
                + hmac.new(b"wrong", body, hashlib.sha256).hexdigest(),
                "Content-Type": "application/json",
            },
        )
        try:
            urllib.request.urlopen(forged, timeout=10)
            raise AssertionError("a forged delivery was accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        assert first_event(log, "webhook.refused", timeout=10) is not None
        process.send_signal(signal.SIGTERM)
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
    ticks = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if json.loads(line)["event"] == "serve.tick"
    ]
    assert any(t["job"] == "dispatcher" and "webhook" in t["reason"] for t in ticks)
    assert latency <= 15, f"Ready -> agent started by webhook: {latency:.1f} s"
    print(f"Ready -> agent started by webhook: {latency:.1f} s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_hosts_the_dashboard_and_refuses_other_hosts_without_a_token(world: World) -> None:
    import httpx

    world.issue("acme/app", "Add subtraction", status=None)
    port = _free_port()
    process = serve(world, "--dashboard", str(port))
    try:
        page = None
        deadline = time.monotonic() + 30
        while page is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200, "the dashboard never answered"
        assert "Agent OS" in page.text and "<svg" in page.text
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = world.root / "runtime" / "logs" / "serve.jsonl"
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "dashboard.started" in events and "dashboard.stopped" in events
    argv = [sys.executable, "-m", "orchestrator.cli.main", "--config", str(world.config_path)]
    done = subprocess.run(
        [*argv, "serve", "--dashboard", str(port), "--bind", "0.0.0.0"],
        cwd=ROOT,
        env=world.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "0.0.0.0" in line and "token" in line

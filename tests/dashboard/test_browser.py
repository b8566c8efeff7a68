"""The dashboard in a real browser, on a real demo's runtime.

`agentos demo` runs as a user runs it (the real command, in a child process, about 30 s); the
dashboard is served on 127.0.0.1 meanwhile and asked for its page every half second (each must
be a 200: the logs and the ledger are being written under it). Then Debian's chromium, driven by
Playwright's Python API (`executable_path`: no browser is downloaded), loads it at a desktop's
and at a phone's size: the figures must be the ledger's, each chart drawn (a bar per day with
data), the inline style allowed by the page's policy, nothing refused in the console, and the
screenshot (saved in the test's folder, its path printed) not blank. The static copy is opened
the same way, and holds neither a secret of the demo's nor its war-room records.

Skipped, saying why, only when Playwright or chromium is missing (`make chromium`).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.load import load_config, read_env_file
from orchestrator.dashboard import collect
from orchestrator.dashboard.publish import publish
from orchestrator.dashboard.series import money
from orchestrator.dashboard.server import DashboardServer
from orchestrator.store.ledger import Ledger

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (requirements-test.txt)"
)
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
)
if CHROMIUM is None:
    pytest.skip("Debian's chromium is missing: run `make chromium`", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
COLOURS = {  # charts.COLOURS, as a screenshot has them
    "throughput": (47, 133, 90),
    "cost": (192, 86, 33),
    "queue": (43, 108, 176),
    "agents": (44, 122, 123),
}
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@dataclass(frozen=True)
class Demo:
    data: Path
    polled: list[int]  # the status of each page asked for while the demo ran


def run_demo(root: Path) -> Demo:
    """Run the demo to its end, asking for its dashboard every half second meanwhile."""
    data = root / "data"
    env = {"PATH": os.environ["PATH"], "HOME": str(root / "home"), "LANG": "C.UTF-8"}
    polled: list[int] = []
    server: DashboardServer | None = None
    with (root / "demo.out").open("w") as out:
        child = subprocess.Popen(
            [str(ROOT / "bin" / "agentos"), "demo", "--data", str(data), "--timeout", "200"],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            while child.poll() is None:
                if (
                    server is None
                    and (data / "config.yaml").is_file()
                    and (data / ".env").is_file()
                ):
                    server = DashboardServer(
                        load_config(data / "config.yaml", {}), refresh_seconds=0
                    )
                    server.start()
                if server is not None:
                    with urllib.request.urlopen(server.url, timeout=30) as answer:
                        polled.append(answer.status)
                time.sleep(0.5)
        finally:
            if server is not None:
                server.stop()
            if child.poll() is None:
                child.kill()
            child.wait(timeout=60)
    assert child.returncode == 0, (root / "demo.out").read_text()[-3000:]
    return Demo(data, polled)


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def test_the_dashboard_of_a_demo_run_in_chromium(browser: Any, tmp_path: Path) -> None:
    """One test, so the demo runs once whichever worker takes it."""
    demo = run_demo(tmp_path)
    assert len(demo.polled) >= 5 and set(demo.polled) == {200}  # served all along, never a 500
    expected = _expected(demo.data)
    assert expected["merged"] == 5  # the demo's five issues, each closed by a merged PR
    for size in (DESKTOP, PHONE):
        _served(demo, browser, tmp_path, size, expected)
    _static(demo, browser, tmp_path, expected)


def _expected(data: Path) -> dict[str, Any]:
    """What the ledger holds for the dashboard's default window."""
    ledger = Ledger.of(load_config(data / "config.yaml", {}))
    ledger.update()
    since = collect.stamp(collect.window(datetime.now(UTC), collect.DAYS))
    judged = [t for t in ledger.tasks() if t["judged_at"] and t["judged_at"] >= since]
    merges = [m for m in ledger.merges() if m["merged_at"] >= since]
    return {
        "merged": len(merges),
        "attempts": len(judged),
        "cost": money(sum(t["cost_usd"] or 0.0 for t in judged)),
        "merge_days": len({m["merged_at"][:10] for m in merges}),
        "cost_days": len({t["judged_at"][:10] for t in judged}),
        "tasks": sorted(t["task_id"] for t in ledger.tasks()),
    }


def _look(page: Any, url: str, shot: Path) -> list[str]:
    """Load the page, screenshot it whole; return what the console said was wrong."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    return problems


def _colours(shot: Path) -> set[tuple[int, int, int]]:
    from PIL import Image

    with Image.open(shot) as image:
        return {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 24) or []}


def _check_page(page: Any, expected: dict[str, Any]) -> None:
    assert page.locator("#merged").inner_text() == str(expected["merged"])
    assert page.locator("#attempts").inner_text() == str(expected["attempts"])
    assert page.locator("#cost").inner_text() == expected["cost"]
    assert page.locator("svg.chart").count() == 5
    assert page.locator("#chart-throughput rect.bar").count() == expected["merge_days"]
    assert page.locator("#chart-cost rect.bar").count() == expected["cost_days"]
    assert page.locator("#chart-queue circle.point").count() >= 2
    assert page.locator("#chart-agents rect.bar").count() == 1  # the demo's one agent
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 30
    # the inline style was applied: the policy's hash allowed it
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(245, 246, 248)"


def _served(
    demo: Demo, browser: Any, tmp_path: Path, size: dict[str, int], expected: dict[str, Any]
) -> None:
    """The page served live, at one size: its figures, charts, screenshot, a task's page."""
    server = DashboardServer(load_config(demo.data / "config.yaml", {}), token="t" * 24)
    server.start()
    try:
        page = browser.new_page(viewport=size, is_mobile=size is PHONE)
        shot = tmp_path / f"dashboard-{size['width']}.png"
        problems = _look(page, f"{server.url}?token={'t' * 24}", shot)
        assert problems == []
        assert page.url == server.url  # the token left the address for a cookie
        _check_page(page, expected)
        if size is PHONE:  # nothing wider than the phone: the tables scroll in their boxes
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        colours = _colours(shot)
        assert len(colours) > 50 and all(c in colours for c in COLOURS.values())
        page.locator(f"a[href='tasks/{expected['tasks'][0]}.html']").first.click()
        assert page.locator("h1").inner_text() == expected["tasks"][0]
        assert page.locator("#channel tr").count() > 5  # served live, the room is shown
    finally:
        server.stop()


def _static(demo: Demo, browser: Any, tmp_path: Path, expected: dict[str, Any]) -> None:
    """The static copy: no secret, no room unless asked; the same figures in the browser."""
    config = load_config(demo.data / "config.yaml", {})
    secrets = [v for v in read_env_file(demo.data / ".env").values() if len(v) >= 8]
    said = _room_words(demo.data / "runtime" / "rooms")
    assert secrets and said
    done = publish(config, tmp_path / "site", datetime.now(UTC))
    pages = {p: p.read_text(encoding="utf-8") for p in done.path.rglob("*.html")}
    assert len(pages) == done.task_pages + 1 == len(expected["tasks"]) + 1
    for path, text in pages.items():
        assert not any(secret in text for secret in secrets), path
        assert not any(words in text for words in said), path
    page = browser.new_page(viewport=DESKTOP)
    assert _look(page, (done.path / "index.html").as_uri(), tmp_path / "static.png") == []
    _check_page(page, expected)
    with_rooms = publish(config, tmp_path / "rooms", datetime.now(UTC), include_rooms=True)
    texts = "".join(p.read_text(encoding="utf-8") for p in with_rooms.path.rglob("*.html"))
    assert all(words in texts for words in said)
    assert not any(secret in texts for secret in secrets)


def _room_words(rooms: Path) -> list[str]:
    """What the agents said in their rooms (and nowhere else): the channel's messages."""
    said = []
    for channel in rooms.glob("*/channel.jsonl"):
        for line in channel.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            text = event.get("text", "")
            if event.get("event") == "agent.message" and html.escape(text) == text:
                said.append(text)
    return sorted(set(said))[:10]

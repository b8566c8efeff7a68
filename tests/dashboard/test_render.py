"""The pages: hostile strings escaped, secrets redacted, no script, the style allowed by hash."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.dashboard import collect, records, render
from tests.dashboard.world import HOSTILE, SECRET, TOKEN_SHAPED, World, build

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def world(tmp_path: Path) -> World:
    built = build(tmp_path, NOW)
    render.register_secrets(built.config)
    collect.refresh(built.config)
    return built


def test_an_issue_title_of_html_is_shown_escaped(world: World) -> None:
    page = render.overview_page(collect.overview(world.config, NOW))
    assert HOSTILE not in page and ESCAPED in page
    record = records.task_record(world.config, "lib-5-g1-a1", include_room=True)
    assert record is not None
    task = render.task_page(record)
    assert HOSTILE not in task and ESCAPED in task


def test_no_page_carries_a_script(world: World) -> None:
    pages = [render.overview_page(collect.overview(world.config, NOW))]
    for task_id in ("app-1-g1-a1", "lib-5-g1-a1", "app-4-g1-a1"):
        record = records.task_record(world.config, task_id, include_room=True)
        assert record is not None
        pages.append(render.task_page(record))
    pages.append(render.message_page("Not found", HOSTILE))
    for page in pages:
        assert "<script" not in page.lower()
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page)  # no event handler attributes


def test_secrets_are_redacted_even_where_a_value_is_cut(world: World) -> None:
    page = render.overview_page(collect.overview(world.config, NOW))
    assert "pr.failed" in page
    assert SECRET not in page and TOKEN_SHAPED[:12] not in page
    assert "[REDACTED:github-token]" in page


def test_the_inline_style_is_the_one_the_policy_allows(world: World) -> None:
    page = render.overview_page(collect.overview(world.config, NOW))
    [style] = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in render.POLICY
    assert 'http-equiv="Content-Security-Policy"' in page
    assert "default-src &#39;none&#39;" in page  # the meta policy, escaped as an attribute


def test_the_main_page_shows_the_figures_and_links_each_task(world: World) -> None:
    page = render.overview_page(collect.overview(world.config, NOW))
    assert '<span class="value" id="merged">2</span>' in page
    assert '<span class="value" id="cost">$1.25</span>' in page
    assert 'href="tasks/app-4-g1-a1.html"' in page and 'href="tasks/lib-5-g1-a1.html"' in page
    assert page.count('<svg class="chart"') == 5
    assert 'href="?days=7"' in page
    assert 'href="?days=7"' not in render.overview_page(
        collect.overview(world.config, NOW), windows=False
    )


def test_a_task_page_without_its_room_says_it_was_left_out(world: World) -> None:
    record = records.task_record(world.config, "app-1-g1-a1", include_room=False)
    assert record is not None
    page = render.task_page(record)
    assert "left out of this copy" in page and "--include-rooms" in page
    assert 'href="../index.html"' in page

"""The charts: SVG with a bar or a point per value, axes, a hover title each; empty states."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.dashboard import charts
from orchestrator.dashboard.series import Point, Series, Share

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 11, 1, tzinfo=UTC)


def _series(values: list[float], key: str = "throughput", unit: str = "merged") -> Series:
    points = tuple(
        Point(START + timedelta(days=2 * i), v, f"day {i}: {v}") for i, v in enumerate(values)
    )
    return Series(
        key, "A chart", unit, START, START + timedelta(days=30), timedelta(days=1), points,
        "Nothing here yet",
    )  # fmt: skip


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_a_bar_chart_has_one_bar_and_one_title_per_value() -> None:
    root = _parse(charts.timeline(_series([1, 4, 2])))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 3
    assert [b.find(f"{SVG}title").text for b in bars] == ["day 0: 1", "day 1: 4", "day 2: 2"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == max(heights) and heights[0] < heights[2] < heights[1]
    labels = [t.text for t in root.findall(f"{SVG}text")]
    assert {"0", "4"} <= set(labels) and "Nov 1" in labels  # the y axis, the x axis


def test_bars_stand_where_their_day_is() -> None:
    root = _parse(charts.timeline(_series([1, 1])))
    first, second = (float(b.get("x")) for b in root.findall(f"{SVG}rect[@class='bar']"))
    slot = (charts.W - charts.LEFT - charts.RIGHT) / 30
    assert second - first == pytest.approx(2 * slot, abs=0.02)  # two days apart


@pytest.mark.parametrize("shape", ["line", "steps"])
def test_a_line_has_one_point_with_a_title_per_value(shape: str) -> None:
    root = _parse(charts.timeline(_series([3, 0, 5, 1], key="queue", unit="tasks"), shape))
    points = root.findall(f"{SVG}circle[@class='point']")
    assert len(points) == 4 and points[2].find(f"{SVG}title").text == "day 2: 5"
    assert root.find(f"{SVG}path[@class='line']") is not None


def test_an_empty_series_draws_its_empty_state() -> None:
    svg = charts.timeline(_series([]))
    root = _parse(svg)
    assert root.find(f"{SVG}rect[@class='bar']") is None
    assert root.find(f"{SVG}text[@class='empty']").text == "Nothing here yet"
    assert _parse(charts.shares("agents", "Rates", (), "No attempt")).find(f"{SVG}text") is not None


def test_all_zero_values_still_draw_an_axis() -> None:
    root = _parse(charts.timeline(_series([0.0, 0.0], key="cost", unit="USD")))
    assert len(root.findall(f"{SVG}rect[@class='bar']")) == 2
    assert "$0.00" in [t.text for t in root.findall(f"{SVG}text")]


def test_lead_times_are_labelled_in_the_unit_they_read_in() -> None:
    minutes = _parse(charts.timeline(_series([0.5, 1.0], key="lead_time", unit="hours"), "line"))
    assert any((t.text or "").endswith(" min") for t in minutes.findall(f"{SVG}text"))
    days = _parse(charts.timeline(_series([100, 200], key="lead_time", unit="hours"), "line"))
    assert any((t.text or "").endswith(" d") for t in days.findall(f"{SVG}text"))


def test_a_share_chart_has_a_labelled_bar_per_category() -> None:
    found = (Share("claude", 0.75, "claude: 3 of 4"), Share("codex", 0.0, "codex: 0 of 2"))
    root = _parse(charts.shares("agents", "Rates", found, "No attempt"))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert [b.find(f"{SVG}title").text for b in bars] == ["claude: 3 of 4", "codex: 0 of 2"]
    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert {"claude", "codex", "75%", "0%"} <= set(texts)


def test_hostile_labels_are_escaped_in_every_text_and_title() -> None:
    hostile = "<script>alert(1)</script>"
    svg = charts.shares("agents", hostile, (Share(hostile, 0.5, hostile),), "x")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = _parse(svg)
    assert root.find(f"{SVG}rect/{SVG}title").text == hostile  # shown as text, not markup

"""Render the dashboard's pages as HTML: the overview, a task's page, a short message page.

jinja2 templates (templates/), autoescaped: every string from issues, agents and logs is hostile
and reaches the page escaped. The finished page is redacted (the secrets the process knows, in
every encoding, and the shapes of tokens), and so, first, is every value that escaping would
change, so no secret shows even in an escaped form. Each page is one file: the style inline
(allowed by its hash in the Content-Security-Policy, which the page carries in a <meta> too, for
a static copy), the charts inline SVG, no script at all.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from orchestrator.config.model import Config
from orchestrator.core.redact import redact
from orchestrator.dashboard import charts
from orchestrator.dashboard.collect import Overview
from orchestrator.dashboard.records import TaskRecord
from orchestrator.dashboard.series import duration, money, percent

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS = (TEMPLATES / "dashboard.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# What a page may load: nothing but its own inline style (by hash) and data: images. The HTTP
# header adds `frame-ancestors 'none'`, which a <meta> policy cannot carry.
POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
HEADER_POLICY = f"{POLICY}; frame-ancestors 'none'"
_SPECIAL = re.compile("[&<>\"']")  # what escaping changes
SHAPES = (("throughput", "bars"), ("lead_time", "line"), ("cost", "bars"), ("queue", "steps"))


def overview_page(view: Overview, *, windows: bool = True) -> str:
    """Render the main page; `windows` links the 7, 30, 90 and 365 days' views (served only)."""
    shapes = dict(SHAPES)
    drawn = [(s.key, s.title, charts.timeline(s, shapes.get(s.key, "bars"))) for s in view.charts]
    drawn.insert(
        2,
        (
            "agents",
            "Merged rate per agent",
            charts.shares("agents", "Merged rate per agent", view.agents, "No attempt judged"),
        ),
    )
    return _render("index.html.j2", view=view, charts=drawn, windows=windows)


def task_page(record: TaskRecord) -> str:
    """Render one task's page."""
    return _render("task.html.j2", r=record)


def message_page(heading: str, text: str, *, back: bool = True) -> str:
    """Render a page that only says something: not found, a token needed, a failure."""
    return _render("message.html.j2", heading=heading, text=text, back=back)


def register_secrets(config: Config) -> None:
    """Make `redact` hide the values of the config's secrets, and of its env file, from now on."""
    from orchestrator.config.backend_keys import secret_values
    from orchestrator.config.load import read_env_file
    from orchestrator.core.redact import MIN_SECRET, register_values

    values = list(secret_values(config))
    if config.env_file is not None:
        try:
            values += [v for v in read_env_file(config.env_file).values() if len(v) >= MIN_SECRET]
        except (OSError, ValueError):
            pass  # no env file: nothing more to hide
    register_values(values)


def _render(name: str, **values: object) -> str:
    page = _environment().get_template(name).render(css=Markup(CSS), policy=POLICY, **values)
    return redact(page)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_redacted,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=money, percent=percent, duration=duration, elapsed=_elapsed, when=_when
    )
    return env


def _redacted(value: object) -> object:
    """Redact a string a template writes that escaping would change, before it is escaped.

    The others reach the page as they are, and the page's last pass redacts them there: one
    pass over the page costs far less than one per value. Markup (a chart) is done already.
    """
    if isinstance(value, str) and not isinstance(value, Markup) and _SPECIAL.search(value):
        return redact(value)
    return value


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _when(at: datetime | None) -> str:
    return "–" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")

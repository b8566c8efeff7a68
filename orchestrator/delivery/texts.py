"""Render what Agent OS writes on GitHub (PR bodies, escalation comments) from jinja2, redacted.

The templates pass every piece of text an agent or a model wrote through the `defuse` filter
(core.markdown.defuse): quoted, it closes no issue and mentions no one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from orchestrator.core.markdown import defuse
from orchestrator.core.redact import redact

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # StrictUndefined: a missing value fails the render instead of leaving a hole in a comment.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters["defuse"] = lambda value: defuse(str(value))
    return environment


def render(name: str, **values: Any) -> str:
    """Render `templates/<name>` and pass the result through redaction."""
    return redact(_environment().get_template(name).render(**values))

"""docs/init.md keeps up with the code: every question's key has a row in its answers-file table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ASKED = re.compile(r"\.(?:text|integer|choice|confirm|secret|ask)\(\s*\"([a-z_.]+)\"")


def test_every_question_key_is_documented() -> None:
    code = "".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "orchestrator" / "init").glob("*.py"))
    )
    keys = set(_ASKED.findall(code))
    assert len(keys) > 25  # the pattern still finds the questions
    text = (ROOT / "docs" / "init.md").read_text(encoding="utf-8")
    assert not sorted(k for k in keys if f"`{k}`" not in text), (
        "docs/init.md lacks these answer keys"
    )


def test_the_readme_quickstart_leads_with_init() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    assert quickstart.strip().splitlines()[1].startswith("bin/agentos init")

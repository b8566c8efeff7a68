"""What Agent OS reads in the Markdown people write: code fences are examples, not instructions."""

from __future__ import annotations

import re

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def blank_code_blocks(text: str) -> str:
    """Return `text` with every fenced code block's characters turned into spaces.

    Line breaks are kept, so offsets still match the original and nothing inside a fence is read
    as a heading or a line.
    """
    return FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)

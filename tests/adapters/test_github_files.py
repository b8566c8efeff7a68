"""The contents API's answers read as a RepoFile, or refused in one line (github_files)."""

from __future__ import annotations

import base64

import pytest

from orchestrator.adapters.github_files import repo_file
from orchestrator.core.model import RepoFile
from orchestrator.errors import TrackerError

AT = "acme/app:PLAN.md at main"


def _answer(data: bytes, **fields: object) -> dict[str, object]:
    text = base64.b64encode(data).decode()
    content = "".join(f"{text[i : i + 60]}\n" for i in range(0, len(text), 60))
    return {"type": "file", "sha": "abc123", "encoding": "base64", "content": content, **fields}


def test_a_file_is_its_decoded_text_and_its_sha() -> None:
    text = "## Epic {#e}\n" + "- Task ✓\n" * 40
    assert repo_file(_answer(text.encode()), AT) == RepoFile(text, "abc123")
    assert repo_file(_answer(b""), AT) == RepoFile("", "abc123")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ([{"type": "file", "path": "docs/a.md"}], f"{AT} is a directory, not a file"),
        (
            {"type": "symlink", "target": "/etc/passwd"},
            f"{AT} is not a file (GitHub says: symlink)",
        ),
        ({"type": "submodule"}, f"{AT} is not a file (GitHub says: submodule)"),
        (
            {"type": "file", "sha": "abc", "encoding": "none", "content": "", "size": 2_000_000},
            f"{AT} is over 1 MB, more than the contents API sends",
        ),
        (_answer(b"caf\xe9\n"), f"{AT} is not UTF-8 text (byte 3)"),
    ],
)
def test_anything_but_a_text_file_is_refused_in_one_line(answer: object, said: str) -> None:
    with pytest.raises(TrackerError) as caught:
        repo_file(answer, AT)
    assert str(caught.value) == said

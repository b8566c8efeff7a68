"""A job's memo: what it already said. A damaged one is set aside and costs one round of repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.store.memo import Memo


def test_values_survive_a_save_and_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pr_monitor.memo.json"
    memo = Memo(path)
    assert memo.changed("comments", "acme/app#1", "x" * 100)
    assert memo.changed("skips", "7", "draft", digest=False)
    memo.save()
    again = Memo(path)
    assert not again.changed("comments", "acme/app#1", "x" * 100)
    assert again.get("skips", "7") == "draft"


@pytest.mark.parametrize(
    "content",
    [b"[]", b"{", b"\xff\xfe\x00", b'{"skips": []}', b'{"skips": {"7": "a"}, "x": 3}', b"null"],
)
def test_a_damaged_memo_is_set_aside_and_starts_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state" / "queue.memo.json"
    path.parent.mkdir()
    path.write_bytes(content)
    memo = Memo(path)
    assert memo.get("skips", "7") is None and not path.exists()
    [aside] = [p for p in (tmp_path / "quarantine").iterdir() if p.name.endswith("memo.json")]
    assert aside.read_bytes() == content
    memo.changed("skips", "7", "draft")
    memo.save()
    assert Memo(path).get("skips", "7") == "draft"


def test_a_directory_in_place_of_the_memo_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "state" / "queue.memo.json"
    path.mkdir(parents=True)
    memo = Memo(path)
    memo.changed("skips", "7", "draft")
    memo.save()
    assert path.is_file()

"""`agentos dashboard --out DIR`: a static copy, redacted, without the rooms unless asked."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.dashboard.publish import MARKER
from tests.dashboard.world import HOSTILE, ROOM_WORDS, SECRET, TOKEN_SHAPED, World, build
from tests.helpers import ENV


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build(tmp_path / "home", datetime.now(UTC))  # the CLI reads the clock


def publish(world: World, out: Path, *flags: str) -> int:
    return main(
        ["--config", str(world.config.source), "dashboard", "--out", str(out), *flags],
        environ=ENV,
    )


def texts(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_the_copy_holds_every_linked_page_and_no_secret(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert publish(world, out) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: index.html and ")
    pages = texts(out)
    assert {"index.html", MARKER, "tasks/app-1-g1-a1.html", "tasks/lib-5-g1-a1.html"} <= set(pages)
    for name, text in pages.items():
        assert SECRET not in text, name
        assert TOKEN_SHAPED[:12] not in text, name  # not even the part before a cut
        assert HOSTILE not in text, name
    assert "[REDACTED:" in pages["index.html"] and "pr.failed" in pages["index.html"]
    assert "?days=" not in pages["index.html"]  # a copy has one window
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in out.rglob("*.html"))


def test_the_war_rooms_are_left_out_unless_asked_for(world: World, tmp_path: Path) -> None:
    assert publish(world, tmp_path / "bare") == 0
    bare = texts(tmp_path / "bare")
    assert not any(ROOM_WORDS in text for text in bare.values())
    assert "left out of this copy" in bare["tasks/app-1-g1-a1.html"]
    assert publish(world, tmp_path / "full", "--include-rooms") == 0
    full = texts(tmp_path / "full")
    assert ROOM_WORDS in full["tasks/app-1-g1-a1.html"]  # its prompt and result
    assert "attempt.judged" in full["tasks/app-1-g1-a1.html"]  # its channel
    assert not any(SECRET in text for text in full.values())


def test_a_new_copy_replaces_the_last_one_whole(world: World, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert publish(world, out, "--include-rooms") == 0
    (out / "tasks" / "app-99-g1-a1.html").write_text("stale")
    assert publish(world, out) == 0
    assert not (out / "tasks" / "app-99-g1-a1.html").exists()
    assert ROOM_WORDS not in (out / "tasks" / "app-1-g1-a1.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_an_empty_folder_is_filled(world: World, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert publish(world, tmp_path / "empty") == 0
    assert (tmp_path / "empty" / "index.html").is_file()


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda p: p.write_text("a file"), "is a file, not a folder"),
        (lambda p: (p.mkdir(), (p / "mine.txt").write_text("x")), "not empty and not a dashboard"),
        (lambda p: None, "is not a folder"),  # its parent is a file
    ],
)
def test_a_bad_folder_is_one_line_and_exit_2(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, says: str
) -> None:
    out = tmp_path / "target"
    if says == "is not a folder":
        out.write_text("a file")
        out = out / "site"
    else:
        make(out)  # type: ignore[operator]
    assert publish(world, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"agentos: --out {out}: ") and says in err[0]
    if (out / "mine.txt").exists():
        assert (out / "mine.txt").read_text() == "x"  # never replaced


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: no folder is read-only")
def test_a_folder_that_cannot_be_written_is_exit_2(world: World, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert publish(world, locked / "site") == 2
    finally:
        locked.chmod(0o700)


def test_a_bad_window_is_exit_2(world: World, tmp_path: Path) -> None:
    assert publish(world, tmp_path / "site", "--days", "0") == 2

"""The walls on odd layouts: where config, runtime, worktrees, HOME and the programs live.

Each test builds the walls from a real config (or by hand), runs a shell in the box, and reads
what it could see. The mounts go in path-depth order, so a path bound back below a hidden one is
there, and a hidden one below a bound one stays hidden.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.adapters.agents import confine, process
from orchestrator.adapters.agents.environment import rehomed
from orchestrator.config.load import load_config
from orchestrator.config.model import Isolation
from orchestrator.errors import IsolationError
from tests.adapters.agents.conftest import needs_bwrap
from tests.helpers import ENV, minimal_config, write_config

PATH = "/usr/bin:/bin"


def seen(box: confine.Box, body: str, argv: tuple[str, ...] = ()) -> str:
    """Run `body` in a shell (or `argv`) in the box; return what it printed."""
    command = argv or ("/bin/sh", "-c", body)
    with confine.session(box) as confined:
        spec = confined(process.Spec(command, box.worktree, {"PATH": PATH}))
        done = subprocess.run(
            spec.argv, cwd=spec.cwd, env=spec.env, capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


def tree(root: Path, *files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"{name}\n")
    return root


def walls_of(project: Path, home: str, **paths: str) -> confine.Walls:
    """Load a config in `project` with these `paths:` and return its walls under HOME=`home`."""
    data = minimal_config(paths=paths or None)
    config = load_config(write_config(project, data), ENV)
    return confine.Walls.from_config(config, {"HOME": home})


def visible(box: confine.Box, *paths: Path) -> list[bool]:
    """Tell, for each path, whether the box can read it (a file) or list it (a folder)."""
    lines = "".join(
        f'if cat "{p}" >/dev/null 2>&1 || ls "{p}" >/dev/null 2>&1; then echo yes; '
        "else echo no; fi\n"
        for p in paths
    )
    return [word == "yes" for word in seen(box, lines).split()]


@needs_bwrap
def test_worktrees_and_runtime_outside_the_config_folder(tmp_path: Path) -> None:
    project = tree(tmp_path / "project", "agents/helper.txt")
    tree(tmp_path / "rt", "rooms/other/events.jsonl", "clones/app.git/config")
    tree(tmp_path / "wt", "app/t-1/code.py", "app/t-2/theirs.py")
    walls = walls_of(project, str(tmp_path / "home"), runtime_dir="../rt", worktrees_dir="../wt")
    box = confine.Box(walls, tmp_path / "wt" / "app" / "t-1", "t-1")
    assert visible(
        box,
        tmp_path / "wt" / "app" / "t-1" / "code.py",
        tmp_path / "wt" / "app" / "t-2" / "theirs.py",
        tmp_path / "rt" / "rooms" / "other" / "events.jsonl",
        project / "config.yaml",
        project / "agents" / "helper.txt",
    ) == [True, False, False, False, False]


@needs_bwrap
def test_runtime_inside_the_config_folder_with_the_clones_objects_bound_back(
    tmp_path: Path,
) -> None:
    project = tree(
        tmp_path / "project",
        "runtime/clones/app.git/objects/pack/p.pack",
        "runtime/clones/app.git/config",
        "runtime/worktrees/app/t-1/code.py",
    )
    walls = walls_of(project, str(tmp_path / "home"))
    objects = project / "runtime" / "clones" / "app.git" / "objects"
    worktree = project / "runtime" / "worktrees" / "app" / "t-1"
    box = confine.Box(walls, worktree, "t-1", readable=(objects,))
    assert visible(
        box,
        objects / "pack" / "p.pack",
        project / "runtime" / "clones" / "app.git" / "config",
        worktree / "code.py",
        project / "config.yaml",
    ) == [True, False, True, False]
    assert seen(box, "echo x > new.txt && (echo y > " + str(objects / "n") + " || echo refused)")
    assert not (objects / "n").exists() and (worktree / "new.txt").exists()


@needs_bwrap
def test_config_at_the_project_root_with_the_agent_cli_pinned_under_it(tmp_path: Path) -> None:
    """The CLI an npm install pinned under the (hidden) root runs, its whole package with it."""
    root = tree(tmp_path / "agentos", "tools/npm/node_modules/pkg/lib/data.txt")
    cli = root / "tools" / "npm" / "node_modules" / "pkg" / "bin" / "tool.sh"
    cli.parent.mkdir(parents=True)
    cli.write_text('#!/bin/sh\ncat "$(dirname "$(readlink -f "$0")")/../lib/data.txt"\n')
    cli.chmod(0o755)
    link = root / "tools" / "npm" / "node_modules" / ".bin" / "tool"
    link.parent.mkdir()
    link.symlink_to("../pkg/bin/tool.sh")
    walls = walls_of(root, str(tmp_path / "home"))
    worktree = tree(root / "runtime" / "worktrees" / "app" / "t-1", "code.py")
    box = confine.Box(walls, worktree, "t-1")
    assert seen(box, "", (str(link),)) == "tools/npm/node_modules/pkg/lib/data.txt\n"
    assert visible(box, root / "config.yaml", root / "tools") == [False, False]


@needs_bwrap
def test_a_script_in_a_hidden_folder_runs_with_its_interpreter_bound_too(tmp_path: Path) -> None:
    hidden = tmp_path / "project"
    interpreter = hidden / "bin" / "mysh"
    interpreter.parent.mkdir(parents=True)
    shutil.copy("/bin/sh", interpreter)
    agent = hidden / "agent"
    agent.write_text(f"#!{interpreter}\necho interpreted\n")
    agent.chmod(0o755)
    walls = confine.Walls(Isolation.BWRAP, (hidden, Path("/tmp")), (), tmp_path / "homes")
    box = confine.Box(walls, tree(tmp_path / "wt", "f"), "t-1")
    assert seen(box, "", (str(agent),)) == "interpreted\n"


@needs_bwrap
def test_a_home_of_root_is_hidden_and_a_home_of_slash_is_left_alone(tmp_path: Path) -> None:
    project = tree(tmp_path / "project")
    walls = walls_of(project, "/root")
    assert Path("/root") in walls.hidden_dirs and walls.refusal() is None
    box = confine.Box(walls, tree(tmp_path / "wt", "f"), "t-1")
    assert seen(box, "ls -A /root | wc -l").strip() == "0"
    assert Path("/") not in walls_of(project, "/").hidden_dirs


@needs_bwrap
def test_a_hidden_file_outside_every_hidden_folder_is_covered_by_dev_null(tmp_path: Path) -> None:
    env_file = tree(tmp_path, "secrets/agentos.env") / "secrets" / "agentos.env"
    walls = confine.Walls(Isolation.BWRAP, (), (env_file,), tmp_path / "homes")
    box = confine.Box(walls, tree(tmp_path / "wt", "f"), "t-1")
    assert seen(box, f"cat {env_file} 2>/dev/null; echo end") == "end\n"  # refused (nodev)


def test_a_system_folder_cannot_be_hidden_and_says_how_to_opt_out(tmp_path: Path) -> None:
    walls = confine.Walls(Isolation.BWRAP, (Path("/etc"),), (), tmp_path / "homes")
    why = walls.refusal()
    assert why is not None and why.startswith("cannot hide /etc from agents: it is a system folder")
    assert "set agents.isolation: none to run agents unconfined; see docs/security.md" in why
    with pytest.raises(IsolationError, match="cannot hide /etc"):
        with confine.session(confine.Box(walls, tmp_path, "t-1")):
            pass
    assert not (tmp_path / "homes").exists()
    assert replace(walls, isolation=Isolation.NONE).refusal() is None


def test_a_config_at_the_filesystem_root_is_refused(tmp_path: Path) -> None:
    walls = confine.Walls(Isolation.BWRAP, (Path("/"),), (), tmp_path / "homes")
    assert (walls.refusal() or "").startswith("cannot hide / from agents")


def test_probe_says_when_bwrap_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    confine.probe.cache_clear()
    monkeypatch.setattr(confine.shutil, "which", lambda name, path=None: None)
    try:
        assert confine.probe() == "bwrap (bubblewrap) is not installed (apt-get install bubblewrap)"
    finally:
        confine.probe.cache_clear()


def test_a_private_home_name_must_be_one_folder(tmp_path: Path) -> None:
    walls = confine.Walls(Isolation.BWRAP, (), (), tmp_path / "homes")
    for name in ("../escape", "", ".."):
        with pytest.raises(IsolationError, match="cannot name a private home"):
            confine._make_home(confine.Box(walls, tmp_path, name))


def test_xdg_folders_in_hidden_places_are_dropped_and_home_and_tmpdir_moved() -> None:
    env = {
        "XDG_CONFIG_HOME": "/root/.config",
        "XDG_RUNTIME_DIR": "/run/user/0",
        "TMPDIR": "/tmp",
        "HOME": "/root",
        "PATH": PATH,
    }
    moved = rehomed(env, Path("/rt/homes/t-1"), lambda value: value.startswith(("/root", "/tmp")))
    assert moved == {
        "XDG_RUNTIME_DIR": "/run/user/0",
        "HOME": "/rt/homes/t-1",
        "TMPDIR": "/rt/homes/t-1/tmp",
        "PATH": PATH,
    }


@needs_bwrap
def test_the_login_folder_is_bound_and_the_dot_json_copied_never_written_back(
    tmp_path: Path,
) -> None:
    login, dot_json = tree(tmp_path / "host", ".claude/.credentials.json"), tmp_path / "j.json"
    dot_json.write_text('{"numStartups": 1}\n')
    walls = confine.Walls(Isolation.BWRAP, (Path("/tmp"),), (), tmp_path / "homes")
    box = confine.Box(
        walls,
        tree(tmp_path / "wt", "f"),
        "t-1",
        home_binds=((".claude", login / ".claude"),),
        home_copies=((".claude.json", dot_json),),
    )
    body = (
        "cat ~/.claude.json; echo refreshed > ~/.claude/.credentials.json; "
        "echo '{\"numStartups\": 2}' > ~/.claude.json.tmp && mv ~/.claude.json.tmp ~/.claude.json"
    )
    assert seen(box, body) == '{"numStartups": 1}\n'
    assert (login / ".claude" / ".credentials.json").read_text() == "refreshed\n"
    assert dot_json.read_text() == '{"numStartups": 1}\n'
    assert not (tmp_path / "homes" / "t-1").exists() and os.listdir(tmp_path / "homes") == []

"""What a program needs bound inside an agent's box to run, and which programs a command names.

A program may be a link to a link into a prefix under the real HOME (a venv's python into pyenv,
an npm CLI into nvm), which the box hides: `program_paths` returns the program's file, each link
on the way to it, its venv or `node_modules` tree, its prefix's `lib/`, and its `#!` interpreter
with the same; `confine` binds them read-only. `command_programs` reads a shell command line
(the repo's test command) for the programs it runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path


def program_paths(program: str, path_var: str = "") -> tuple[Path, ...]:
    """Return what a program needs bound to run: itself, its npm tree or venv, its interpreter."""
    found = shutil.which(program, path=path_var or None) if "/" not in program else program
    if not found or not Path(found).exists():
        return ()
    paths = [Path(os.path.abspath(found)), *_hops(Path(found)), *_trees(Path(found))]
    interpreter = _interpreter(_real(Path(found)))
    if interpreter:
        named = interpreter if "/" in interpreter else shutil.which(interpreter, path=path_var)
        if named and Path(named).exists():
            paths += [Path(named), *_trees(Path(named))]
    return tuple(dict.fromkeys(paths))


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _hops(program: Path) -> list[Path]:
    """Return the symbolic links a program's path passes through on the way to its file.

    A venv's `python` links to `python3`, which links into pyenv under the hidden HOME: each hop
    must exist inside the box too (as a link to the file), or the chain breaks there.
    """
    hops, path = [], Path(os.path.abspath(program))
    for _ in range(40):  # the kernel's own limit on links followed
        if not path.is_symlink():
            break
        path = Path(os.path.abspath(path.parent / os.readlink(path)))
        hops.append(path)
    return hops[:-1]  # the last is the file itself, bound already


def command_programs(command: str) -> list[str]:
    """Return the programs a shell command line runs: the first word of each simple command.

    `a && b | c; d` names a, b, c and d; `X=1 prog` names prog. A word the shell expands
    (`$PY`, a glob) is left out: only what it says literally can be found and bound.
    """
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:  # unbalanced quotes: the shell will say so
        return []
    programs, starts = [], True
    for word in words:
        if word and set(word) <= set("();&|"):
            starts = True
        elif starts and not _ASSIGNMENT.match(word):
            if not any(c in word for c in "$`*?[~"):
                programs.append(word)
            starts = False
    return programs


def _trees(program: Path) -> list[Path]:
    """Return the `node_modules` tree (outermost), the venv, and the installation's `lib`.

    A program in some prefix's `bin/` (pyenv's python, a node under nvm, ~/.local) needs that
    prefix's `lib/` (the standard library); it may be under the real HOME, which is hidden.
    """
    trees = []
    real = _real(program)
    modules = [p for p in real.parents if p.name == "node_modules"]
    if modules:
        trees.append(modules[-1])
    if real.parent.name == "bin" and (real.parent.parent / "lib").is_dir():
        trees.append(real.parent.parent / "lib")
    for candidate in (program, real):
        venv = next((p for p in list(candidate.parents)[:3] if (p / "pyvenv.cfg").is_file()), None)
        if venv is not None:
            trees.append(venv)
    return trees


def _interpreter(program: Path) -> str:
    """Return the program a `#!` line names (`env NAME` gives NAME), or "" for none."""
    try:
        with open(program, "rb") as file:
            first = file.readline(256)
    except OSError:
        return ""
    if not first.startswith(b"#!"):
        return ""
    words = first[2:].decode("utf-8", "replace").split()
    if words and Path(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    return words[0] if words else ""


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))

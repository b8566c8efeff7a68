"""Read and change the sandbox's bare repos with the git CLI (the REST API's source of truth)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ZERO = "0" * 40


class GitError(Exception):
    """A git command failed; `stderr` says why."""


def git(
    repo: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `git --git-dir=repo ARGS` and return the finished process."""
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    done = subprocess.run(
        ["git", f"--git-dir={repo}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done


def identity(name: str, email: str, date: str | None = None) -> dict[str, str]:
    """Return the environment that makes git write `name <email>` as author and committer."""
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    if date:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = date
    return env


def init_bare(repo: Path, branch: str) -> None:
    """Create an empty bare repository whose HEAD names `branch`."""
    repo.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "-q", "--bare", f"--initial-branch={branch}", str(repo)],
        check=True,
        capture_output=True,
    )
    git(repo, "config", "http.receivepack", "true")


def commit_files(
    repo: Path, branch: str, files: dict[str, str], message: str, author: dict[str, str]
) -> str:
    """Commit `files` (path -> text) on top of `branch` (or as its root) and return the new sha."""
    parent = resolve(repo, f"refs/heads/{branch}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if parent:
            git(repo, "read-tree", parent, env=env)
        for path, text in files.items():
            blob = git(repo, "hash-object", "-w", "--stdin", stdin=text).stdout.strip()
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(repo, "write-tree", env=env).stdout.strip()
    sha = commit_tree(repo, tree, [parent] if parent else [], message, author)
    git(repo, "update-ref", f"refs/heads/{branch}", sha, parent or ZERO)
    return sha


def commit_tree(
    repo: Path, tree: str, parents: list[str], message: str, author: dict[str, str]
) -> str:
    """Write a commit object for `tree` and return its sha."""
    args = [arg for p in parents for arg in ("-p", p)]
    return git(repo, "commit-tree", tree, *args, stdin=message, env=author).stdout.strip()


def resolve(repo: Path, rev: str) -> str | None:
    """Return the commit sha `rev` names, or None."""
    done = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def refs(repo: Path, prefix: str = "refs/") -> list[tuple[str, str]]:
    """Return (refname, sha) for every ref under `prefix`, sorted by name."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", prefix).stdout
    return [(name, sha) for name, sha in (line.split(" ") for line in out.splitlines())]


def set_ref(repo: Path, ref: str, sha: str, old: str | None = None) -> None:
    """Point `ref` at `sha`, checking its old value when given."""
    git(repo, "update-ref", ref, sha, *([old] if old else []))


def delete_ref(repo: Path, ref: str) -> None:
    """Delete `ref`."""
    git(repo, "update-ref", "-d", ref)


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """Return whether `older` is reachable from `newer` (a fast-forward from older to newer)."""
    return git(repo, "merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def merge_base(repo: Path, a: str, b: str) -> str | None:
    """Return the best common ancestor of two commits, or None."""
    done = git(repo, "merge-base", a, b, check=False)
    return done.stdout.strip() or None


def commits_between(repo: Path, base: str, head: str) -> list[str]:
    """Return the shas in `base..head`, oldest first."""
    return git(repo, "rev-list", "--reverse", f"{base}..{head}").stdout.split()


def merge_tree(repo: Path, base: str, head: str) -> str | None:
    """Return the tree of merging `head` into `base`, or None when they conflict."""
    done = git(repo, "merge-tree", "--write-tree", base, head, check=False)
    return done.stdout.split("\n", 1)[0].strip() if done.returncode == 0 else None


@dataclass(frozen=True)
class Commit:
    """The parts of a commit object the REST API shows."""

    sha: str
    tree: str
    parents: list[str]
    author: tuple[str, str, str]
    committer: tuple[str, str, str]
    message: str


_FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"


def commit(repo: Path, sha: str) -> Commit:
    """Return the commit `sha`."""
    fields = git(repo, "show", "-s", f"--format={_FORMAT}", sha).stdout.split("\x00")
    return Commit(
        fields[0],
        fields[1],
        fields[2].split(),
        (fields[3], fields[4], fields[5]),
        (fields[6], fields[7], fields[8]),
        fields[9].rstrip("\n"),
    )


@dataclass(frozen=True)
class FileChange:
    """One file of a diff, as GitHub's diff-entry describes it."""

    filename: str
    status: str
    sha: str
    additions: int
    deletions: int
    previous_filename: str | None
    patch: str


_STATUS = {
    "A": "added",
    "D": "removed",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}


def diff(repo: Path, base: str, head: str) -> list[FileChange]:
    """Return the files changed from `base` to `head`, with counts and patches."""
    raw = git(repo, "diff", "--raw", "--no-abbrev", "-M", "-z", base, head).stdout.split("\x00")
    counts = git(repo, "diff", "--numstat", "-M", "-z", base, head).stdout
    patches = _patches(git(repo, "diff", "-M", base, head).stdout)
    numbers = _numstat(counts)
    changes, i = [], 0
    while i < len(raw) - 1:
        meta, path = raw[i].split(), raw[i + 1]
        kind, i = meta[4][0], i + 2
        previous = None
        if kind in "RC":
            previous, path, i = path, raw[i], i + 1
        sha = meta[3] if kind != "D" else meta[2]
        added, deleted = numbers.get(path, (0, 0))
        changes.append(
            FileChange(
                path,
                _STATUS.get(kind, "modified"),
                sha,
                added,
                deleted,
                previous,
                patches.get(path, ""),
            )
        )
    return changes


def _numstat(text: str) -> dict[str, tuple[int, int]]:
    parts, found, i = text.split("\x00"), {}, 0
    while i < len(parts) - 1:
        added, deleted, path = (parts[i].split("\t") + ["", "", ""])[:3]
        i += 1
        if not path:  # a rename: the old and new paths follow as their own fields
            path, i = parts[i + 1], i + 2
        found[path] = (
            int(added) if added.isdigit() else 0,
            int(deleted) if deleted.isdigit() else 0,
        )
    return found


def _patches(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in text.split("\ndiff --git "):
        header, _, body = chunk.partition("\n@@")
        name = header.split("\n", 1)[0].rsplit(" b/", 1)[-1]
        if body:
            found[name] = "@@" + body.rstrip("\n")
    return found


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree, as `git ls-tree -l` prints it; `size` is 0 for trees and submodules."""

    mode: str  # 100644, 100755, 120000 (symlink), 040000 (tree), 160000 (submodule)
    kind: str  # blob, tree, commit
    sha: str
    size: int
    path: str


def _ls_tree(repo: Path, commit_sha: str, *paths: str) -> list[TreeEntry]:
    literal = {"GIT_LITERAL_PATHSPECS": "1"}  # a path is a path, never a glob
    out = git(
        repo, "ls-tree", "-l", "-z", "--full-tree", commit_sha, "--", *paths, env=literal
    ).stdout
    found = []
    for line in out.split("\x00"):
        if line:
            meta, path = line.split("\t", 1)
            mode, kind, sha, size = meta.split()
            found.append(TreeEntry(mode, kind, sha, int(size) if size.isdigit() else 0, path))
    return found


def tree_entry(repo: Path, commit_sha: str, path: str) -> TreeEntry | None:
    """Return the entry at `path` (no leading or trailing slash) in a commit's tree, or None."""
    found = [e for e in _ls_tree(repo, commit_sha, path) if e.path == path]
    return found[0] if found else None


def list_tree(repo: Path, commit_sha: str, path: str) -> list[TreeEntry]:
    """Return the entries of the directory `path` ("" for the root), sorted as git sorts them."""
    return _ls_tree(repo, commit_sha, *([f"{path}/"] if path else []))


def read_blob(repo: Path, sha: str) -> bytes:
    """Return a blob's bytes (binary files included)."""
    done = subprocess.run(
        ["git", f"--git-dir={repo}", "cat-file", "blob", sha],
        capture_output=True,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
        check=False,
    )
    if done.returncode != 0:
        raise GitError(f"git cat-file blob {sha}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def submodule_url(repo: Path, commit_sha: str, path: str) -> str | None:
    """Return the URL `.gitmodules` gives the submodule at `path`, or None."""
    done = git(
        repo,
        "config",
        "-z",
        "--blob",
        f"{commit_sha}:.gitmodules",
        "--get-regexp",
        "^submodule\\.",
        check=False,
    )
    values = dict(item.split("\n", 1) for item in done.stdout.split("\x00") if "\n" in item)
    for key, value in values.items():
        if key.endswith(".path") and value == path:
            return values.get(key.removesuffix(".path") + ".url")
    return None

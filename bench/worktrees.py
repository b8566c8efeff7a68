"""What a task's git work costs on a repo with 10,000 commits: the first clone, then per task
prepare (fetch + worktree add), commit, push and remove; and four tasks of one repo at once.

Part of issue 4's target of <= 1.5 s orchestration overhead per task. The remote is a bare
repository on disk (no network), made with `git fast-import`; the shared clone is GitWorktrees'
own. Run: `.venv/bin/python bench/worktrees.py [COMMITS] [TASKS]`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.adapters.git import GitWorktrees  # noqa: E402
from orchestrator.adapters.git_clone import CommitAuthor, SharedClone  # noqa: E402

BOT = CommitAuthor("Bench", "bench@example.com")
FILES = 200


def make_remote(path: Path, commits: int) -> None:
    """Create a bare repo whose main has `commits` commits over FILES files.

    It takes one fast-import stream (commits to one branch chain on their own).
    """
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True)
    lines = []
    for n in range(commits):
        blob = f"line {n}\n" * 20
        message = f"change {n}"
        lines += [
            "commit refs/heads/main",
            f"committer Bench <b@example.com> {1_700_000_000 + n} +0000",
            f"data {len(message)}",
            message,
            f"M 100644 inline src/file{n % FILES}.txt",
            f"data {len(blob.encode())}",
            blob,
        ]
    stream = ("\n".join(lines) + "\n").encode()
    subprocess.run(["git", "fast-import", "--quiet"], input=stream, cwd=path, check=True)


def trees(root: Path) -> GitWorktrees:
    clone = SharedClone(
        "app", root / "runtime" / "clones" / "app.git", str(root / "remote.git"), BOT
    )
    return GitWorktrees([clone], root / "worktrees")


def one_task(root: str, n: int) -> dict[str, float]:
    """Prepare, edit, commit, push and remove one task; return seconds per step."""
    wt, times = trees(Path(root)), {}
    start = time.perf_counter()
    ws = wt.prepare("app", f"app-{n}-g1-a1", f"agent/{n}-bench", "main")
    times["prepare"] = time.perf_counter() - start
    (Path(ws.path) / f"new{n}.txt").write_text("new\n")
    start = time.perf_counter()
    wt.commit(ws, f"Task {n}")
    times["commit"] = time.perf_counter() - start
    start = time.perf_counter()
    wt.push(ws)
    times["push"] = time.perf_counter() - start
    start = time.perf_counter()
    wt.remove("app", ws.task_id)
    times["remove"] = time.perf_counter() - start
    return times


def main() -> None:
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update({"HOME": tmp, "GIT_CONFIG_NOSYSTEM": "1"})
        start = time.perf_counter()
        make_remote(root / "remote.git", commits)
        print(
            f"remote: {commits} commits over {FILES} files, "
            f"made in {time.perf_counter() - start:.1f} s"
        )
        first = one_task(tmp, 0)
        print(f"first task (clones): prepare {first['prepare']:.2f} s")
        runs = [one_task(tmp, n) for n in range(1, tasks + 1)]
        for step in ("prepare", "commit", "push", "remove"):
            values = [r[step] for r in runs]
            print(
                f"{step:8} median {statistics.median(values) * 1000:6.0f} ms   "
                f"max {max(values) * 1000:6.0f} ms"
            )
        total = [sum(r.values()) for r in runs]
        print(
            f"per task, all four steps: median {statistics.median(total):.2f} s "
            "(target <= 1.5 s overhead)"
        )
        start = time.perf_counter()
        with ProcessPoolExecutor(4) as pool:
            list(pool.map(one_task, [tmp] * 4, range(100, 104)))
        print(
            f"4 tasks of one repo at once (4 processes): {time.perf_counter() - start:.2f} s wall"
        )


if __name__ == "__main__":
    main()

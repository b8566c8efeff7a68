"""Build a merge train's branch in a scratch worktree, and land it (core.train).

The branch starts at origin/<base>; each car's head is merged onto it in order with a merge
commit, so each PR's head stays an ancestor of the train and GitHub records every PR merged once
the base reaches it. A car whose merge conflicts with the cars before it is left out (the merge
aborted); the others go on. Landing pushes the train's head to the base without force: git
refuses unless it fast-forwards, and GitHub refuses what the base's protection forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.adapters.git_clone import SharedClone, run
from orchestrator.core.train import Car, TrainBuild
from orchestrator.errors import WorktreeError


def build(
    clone: SharedClone, path: Path, repo: str, base_sha: str, cars: Sequence[Car]
) -> TrainBuild:
    """Merge each car onto `base_sha` in the detached worktree at `path`; push nothing."""
    merged, conflicted = [], []
    for car in cars:
        if clone.sha(car.sha) is None:
            conflicted.append(car.number)  # its head is gone from origin: it cannot ride
            continue
        message = f"Merge pull request #{car.number} from {repo.partition('/')[0]}/{car.branch}"
        status, _, err = run(
            path,
            ("merge", "--no-ff", "--no-edit", "--no-verify", "-m", message, car.sha),
            clone.env(),
            check=False,
        )
        if status == 0:
            merged.append(car.number)
            continue
        unmerged = clone.git("diff", "--name-only", "--diff-filter=U", cwd=path, check=False)
        run(path, ("merge", "--abort"), clone.env(), check=False)
        if not unmerged.strip():
            raise WorktreeError(
                f"merging #{car.number} into the train failed: {err.strip()[-300:]}"
            )
        conflicted.append(car.number)
    head = clone.sha("HEAD", cwd=path)
    assert head is not None
    return TrainBuild(base_sha, head, tuple(merged), tuple(conflicted))

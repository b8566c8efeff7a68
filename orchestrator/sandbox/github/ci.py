"""Run a repo's local CI command on pull request heads, reported as the `sandbox-ci` check run.

The run carries the output as its text and the annotations the output asks for, and is served as
a GitHub Actions job with the output as its log (actions.py). `on_done` is told (repo, sha) each
time a run changes: queued (from a thread of its own, so that the caller, maybe the merge queue
building its groups, is never re-entered), started and completed (from the worker); the sandbox
then announces the change (check_events.py) and advances its merge queues.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Importing the workflow modules registers their routes (dispatches, runs, artifacts, secrets).
from orchestrator.sandbox.github import (  # noqa: F401
    actions,
    artifacts,
    gitrepo,
    runner,
    runs,
    secretstore,
    workflows,
)
from orchestrator.sandbox.github.checks import CI_APP, change_check_run, new_check_run
from orchestrator.sandbox.github.state import Json, Store, now_iso

CHECK_NAME = "sandbox-ci"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One CI run to do: a repository, a commit and the check run that reports it."""

    full_name: str
    sha: str
    run_id: int


class LocalCI:
    """A single background worker that runs CI jobs one at a time, in a temporary checkout."""

    def __init__(
        self,
        store: Store,
        timeout: float = 600.0,
        on_change: Callable[[], None] | None = None,
        on_done: Callable[[Json, str], None] | None = None,
    ) -> None:
        self.store, self.timeout = store, timeout
        self._on_change = on_change or store.save
        self._on_done = on_done  # told (repo, sha) when a run is queued, starts and completes
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._queued: queue.Queue[Job | None] = queue.Queue()  # runs made, to tell `on_done` of
        self._busy = 0
        self._idle = threading.Condition()
        self._running: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="sandbox-ci", daemon=True)
        self._thread.start()
        self._teller = threading.Thread(
            target=self._tell_queued, name="sandbox-ci-told", daemon=True
        )
        self._teller.start()

    def enqueue(self, repo: Json, sha: str) -> None:
        """Queue a run of the repository's CI command on `sha` (nothing if it has none)."""
        if not repo.get("ci"):
            return
        with self.store.lock:
            run = new_check_run(
                self.store,
                repo,
                {
                    "name": CHECK_NAME,
                    "head_sha": sha,
                    "status": "queued",
                    "output": {"title": "Queued", "summary": repo["ci"]},
                },
                CI_APP["slug"],
                own_suite=True,  # each run is a workflow run: a check suite of its own
            )
            actions.new_run(self.store, repo, run)  # served as a GitHub Actions job too
        job = Job(f"{repo['owner']}/{repo['name']}", sha, run["id"])
        with self._idle:
            self._busy += 2  # the run, and telling `on_done` it is queued
        self._queued.put(job)
        self._jobs.put(job)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no CI job is queued or running; False if `timeout` passed first."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                return False
        return runner.wait(self.store.data_dir, timeout)  # and dispatched workflow runs

    def stop(self) -> None:
        """End the worker, killing a running CI command (its check run reports the failure)."""
        self._stopping = True
        self._jobs.put(None)
        self._queued.put(None)
        running = self._running
        if running is not None and running.poll() is None:
            _kill(running)
        runner.stop_all(self.store.data_dir)  # dispatched workflow runs are killed too
        self._thread.join(timeout=30)
        self._teller.join(timeout=30)

    def _tell_queued(self) -> None:
        while (job := self._queued.get()) is not None:
            try:
                self._told(job)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._run(job)
            except (
                Exception
            ):  # a broken job must not kill the worker; the check run says what happened
                log.exception("sandbox.ci_crashed")
                self._update(
                    job,
                    {
                        "conclusion": "failure",
                        "output": {
                            "title": "CI crashed",
                            "summary": "the sandbox failed to run CI",
                        },
                    },
                )
            finally:
                self._told(job)
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _told(self, job: Job) -> None:
        """Tell `on_done` a run changed (before the worker counts as idle)."""
        repo = self.store.repos.get(job.full_name)
        if self._on_done is None or repo is None or self._stopping:
            return
        try:
            self._on_done(repo, job.sha)
            self._on_change()
        except Exception:  # the queue's failure must not kill the worker
            log.exception("sandbox.ci_done_failed")

    def _update(self, job: Job, fields: Json) -> None:
        with self.store.lock:
            repo = self.store.repos.get(job.full_name)
            run = repo["check_runs"].get(str(job.run_id)) if repo else None
            if run is not None:
                change_check_run(run, fields)
        self._on_change()

    def _run(self, job: Job) -> None:
        with self.store.lock:
            repo = self.store.repos[job.full_name]
            command, bare = str(repo["ci"]), self.store.git_dir(repo)
        self._update(
            job,
            {
                "status": "in_progress",
                "started_at": now_iso(),
                "output": {"title": "Running", "summary": command},
            },
        )
        self._told(job)
        code, output = self._execute(command, bare, job.sha)
        actions.write_log(self.store, job.run_id, command, output, code)
        self._update(
            job,
            {
                "conclusion": "failure" if code else "success",
                "output": {
                    "title": "Failed" if code else "Passed",
                    "summary": command,
                    "text": output,
                    "annotations": actions.annotations_in(output, failed=bool(code)),
                },
            },
        )

    def _execute(self, command: str, bare: Path, sha: str) -> tuple[int, str]:
        """Run `command` in a fresh checkout of `sha`; return (exit code, combined output)."""
        work = Path(tempfile.mkdtemp(prefix="sandbox-ci-"))
        try:
            checkout = work / "src"
            subprocess.run(
                ["git", "clone", "-q", "--no-checkout", str(bare), str(checkout)],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                ["git", "-C", str(checkout), "checkout", "-q", "--detach", sha],
                check=True,
                capture_output=True,
            )
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(work),
                "CI": "true",
                "SANDBOX_CI_SHA": sha,
                "LANG": "C.UTF-8",
            }
            if self._stopping:
                return 1, "the sandbox stopped before CI ran"
            with subprocess.Popen(
                command,
                shell=True,
                cwd=checkout,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ) as process:
                self._running = process
                try:
                    output, _ = process.communicate(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    _kill(process)
                    output = (
                        process.communicate()[0] + f"\ntimed out after {self.timeout}s".encode()
                    )
                finally:
                    self._running = None
            return process.returncode or 0, output.decode(errors="replace")
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a CI command and everything it started (it runs in its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def head_commits(store: Store, repo: Json, refs: list[str]) -> list[str]:
    """Return the head shas of open pull requests whose branch is among `refs`."""
    heads = {ref.removeprefix("refs/heads/") for ref in refs if ref.startswith("refs/heads/")}
    shas = []
    for issue in repo["issues"].values():
        if issue["pull"] and issue["state"] == "open" and issue["pull"]["head"] in heads:
            sha = gitrepo.resolve(store.git_dir(repo), f"refs/heads/{issue['pull']['head']}")
            if sha and sha not in shas:
                shas.append(sha)
    return shas

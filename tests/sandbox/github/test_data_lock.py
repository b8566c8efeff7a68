"""A data folder is served by one sandbox at a time: a second one refuses with one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.errors import UsageError
from orchestrator.sandbox.github import Sandbox

ROOT = Path(__file__).resolve().parents[3]


def test_a_second_sandbox_on_the_same_folder_refuses_until_the_first_stops(
    tmp_path: Path,
) -> None:
    first = Sandbox(tmp_path)
    try:
        with pytest.raises(UsageError) as refused:
            Sandbox(tmp_path)
        assert str(refused.value) == f"{tmp_path} is in use by another sandbox (pid {os.getpid()})"
    finally:
        first.stop()
    Sandbox(tmp_path).stop()  # free again


def test_sandbox_serve_on_a_folder_in_use_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    with Sandbox(tmp_path):
        assert main(["sandbox", "serve", "--data", str(tmp_path)], environ={}) == 2
    assert capsys.readouterr().err == (
        f"agentos: {tmp_path} is in use by another sandbox (pid {os.getpid()})\n"
    )


def test_the_lock_dies_with_its_server(tmp_path: Path) -> None:
    """flock: a killed server leaves nothing stale behind."""
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.sandbox.github.cli", "--data", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    server.stdout.readline()  # serving
    with pytest.raises(UsageError):
        Sandbox(tmp_path)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    server.stdout.close()
    Sandbox(tmp_path).stop()

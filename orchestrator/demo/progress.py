"""Show the demo as it runs: a timed line whenever an issue's board column, state or PR changes."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from orchestrator.demo.views import IssueView, state_of

POLL_SECONDS = 0.2
TITLE_WIDTH = 36


class ProgressPrinter:
    """A background thread that polls the views and prints what changed; after `stop`, nothing."""

    def __init__(
        self,
        read: Callable[[], Mapping[int, IssueView]],
        blockers: Mapping[int, tuple[int, ...]],
        started: float,
        out: TextIO | None = None,
    ) -> None:
        self.read, self.blockers, self.started = read, blockers, started
        self.out = out or sys.stdout
        self.lock = threading.Lock()  # held for every line written, by the loop's notes too
        self._shown: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-progress", daemon=True)

    def start(self) -> None:
        """Print the first state of every issue and keep watching."""
        self.poll()
        self._thread.start()

    def stop(self) -> None:
        """Print the last changes and stop watching."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()

    def note(self, text: str) -> None:
        """Print a line of the loop's own (a tick that did something), stamped like the rest."""
        with self.lock:
            print(f"{self.stamp()}  {text}", file=self.out, flush=True)

    def stamp(self) -> str:
        """Return the elapsed time, as each line starts."""
        return f"{time.monotonic() - self.started:6.1f}s"

    def poll(self) -> None:
        """Read the views once and print a line for each issue whose line changed."""
        try:
            views = self.read()
        except (FileNotFoundError, KeyError):  # a task file moved, an issue not made yet: next poll
            return
        for number, view in sorted(views.items()):
            text = line(view, _open_blockers(view, self.blockers.get(number, ()), views))
            if self._shown.get(number) != text:
                self._shown[number] = text
                self.note(text)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.poll()


def line(view: IssueView, waiting_for: tuple[int, ...]) -> str:
    """Return one issue's progress line: number, title, board column, state."""
    title = view.title if len(view.title) <= TITLE_WIDTH else view.title[: TITLE_WIDTH - 1] + "…"
    column = f"[{view.column or 'no status'}]"
    return f"#{view.number:<3} {title:<{TITLE_WIDTH}} {column:<14} {state_of(view, waiting_for)}"


def _open_blockers(
    view: IssueView, blockers: tuple[int, ...], views: Mapping[int, IssueView]
) -> tuple[int, ...]:
    return tuple(n for n in blockers if n in views and views[n].is_open)

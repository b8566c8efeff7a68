"""The delivery tests borrow two worlds.

The jobs' in-memory one, and the agent backends' worktree.
"""

from __future__ import annotations

from tests.adapters.agents.conftest import (  # noqa: F401  (fixtures)
    events,
    host_env,
    request_for,
    worktree,
)
from tests.jobs.conftest import world  # noqa: F401  (a fixture)

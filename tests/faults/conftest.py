"""The fault suite runs real jobs on the end-to-end world (the sandbox, real git, real workers)."""

from tests.e2e.conftest import world

__all__ = ["world"]

"""A local GitHub that speaks the real REST, GraphQL and git smart-HTTP protocols.

Its traffic is checked against GitHub's schemas.
"""

from __future__ import annotations

from orchestrator.sandbox.github.accounts import DEFAULT_SCOPES
from orchestrator.sandbox.github.faults import Fault
from orchestrator.sandbox.github.sandbox import Sandbox
from orchestrator.sandbox.github.server import RequestRecord
from orchestrator.sandbox.github.validation import Violation

__all__ = ["DEFAULT_SCOPES", "Fault", "RequestRecord", "Sandbox", "Violation"]

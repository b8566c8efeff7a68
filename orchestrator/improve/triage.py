"""Ask a model to triage the signal clusters no incident rule covers (`improve.triage_with`).

Optional and fallible by design: with no model configured, or nothing unknown, no request is
made; a model that fails (an `AgentOSError` from the LLM port: an API error, a timeout, an empty
answer) or answers anything `core.triage.parse_triage` rejects gives no findings and a `problem`,
and the job applies the rules to those clusters as if no model were configured
(`core.triage.untriaged`). The prompt and the answer's checks are core's; this is the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.core.evidence import SignalGroup
from orchestrator.core.incidents import Incident
from orchestrator.core.redact import redact
from orchestrator.core.triage import parse_triage, triage_prompt
from orchestrator.errors import AgentOSError
from orchestrator.ports import LLM

MAX_TOKENS = 4096  # an answer core reads at all is at most 20,000 characters
UNUSABLE = "model answer unusable"


@dataclass(frozen=True, slots=True)
class TriageOutcome:
    """What the triage gave: the model's findings, whether it was asked, what went wrong."""

    findings: list[Incident] = field(default_factory=list)
    used_model: bool = False  # a request was sent (whatever came back)
    problem: str | None = None  # one line: the model's error, or UNUSABLE

    @property
    def triaged(self) -> bool:
        """Whether the findings are the model's verdict; if not, the rules decide (`untriaged`)."""
        return self.used_model and self.problem is None


def triage(llm: LLM | None, unknown: Sequence[SignalGroup]) -> TriageOutcome:
    """Return the incidents a model finds among the unknown clusters; never raises for the model.

    An empty `findings` with `triaged` true is a verdict too: the model found nothing worth an
    issue.
    """
    if llm is None or not unknown:
        return TriageOutcome()
    system, prompt = triage_prompt(unknown)
    try:
        answer = llm.complete(system, prompt, max_tokens=MAX_TOKENS)
    except AgentOSError as error:
        line = " ".join(redact(str(error) or type(error).__name__).split())[:300]
        return TriageOutcome(used_model=True, problem=line)
    found = parse_triage(answer, unknown)
    if found is None:
        return TriageOutcome(used_model=True, problem=UNUSABLE)
    return TriageOutcome(findings=found, used_model=True)

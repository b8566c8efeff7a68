"""The LLM port on Anthropic's Messages API, with an `anthropic` backend's key, model and endpoint.

The SDK is imported on the first `complete`, not when the adapter is built: a dispatcher tick
with no vague issue never pays for it. `base_url` points it at a proxy or at the scripted
Messages server of orchestrator/sandbox/models.
"""

from __future__ import annotations

from orchestrator.config.model import AgentBackend
from orchestrator.core.redact import redact
from orchestrator.errors import AgentError

DEFAULT_MODEL = "claude-sonnet-4-6"


class AnthropicLLM:
    """ports.LLM: one Messages call per `complete`, text blocks joined; failures are AgentErrors."""

    def __init__(
        self, backend: AgentBackend, *, timeout: float = 60.0, max_retries: int = 2
    ) -> None:
        if backend.api_key is None:
            raise ValueError(f"backend {backend.name!r} has no api_key")
        self.backend, self.timeout, self.max_retries = backend, timeout, max_retries

    @property
    def model(self) -> str:
        """Return the model asked: the backend's, else the default."""
        return self.backend.model or DEFAULT_MODEL

    def complete(self, system: str, prompt: str, max_tokens: int = 1024) -> str:
        """Return the model's text reply.

        Raise AgentError (one line, redacted) when the API fails or says nothing.
        """
        import anthropic

        assert self.backend.api_key is not None
        client = anthropic.Anthropic(
            api_key=self.backend.api_key.reveal(),
            base_url=self.backend.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )
        try:
            with client:
                reply = client.messages.create(
                    model=self.model,
                    max_tokens=max_tokens,
                    system=system,
                    messages=[{"role": "user", "content": prompt}],
                )
        except anthropic.APIStatusError as error:
            raise AgentError(self._line(f"answered {error.status_code}: {error.message}")) from None
        except anthropic.APIError as error:
            raise AgentError(self._line(f"failed: {error.message}")) from None
        text = "".join(block.text for block in reply.content if block.type == "text").strip()
        if not text:
            raise AgentError(self._line(f"answered no text (stop reason {reply.stop_reason})"))
        return text

    def _line(self, what: str) -> str:
        return redact(" ".join(f"the model API of backend {self.backend.name} {what}".split()))[
            :300
        ]

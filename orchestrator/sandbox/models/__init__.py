"""Scripted model APIs (Anthropic Messages, OpenAI Responses) for the real SDK and agent CLIs."""

from __future__ import annotations

from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.openai_server import OpenAISandbox
from orchestrator.sandbox.models.script import (
    Fail,
    Script,
    ScriptBook,
    Step,
    ToolCall,
    ToolResult,
    Turn,
    failed,
    output_contains,
    succeeded,
)
from orchestrator.sandbox.models.server import Exchange, ModelSandbox, Request

__all__ = [
    "AnthropicSandbox",
    "Exchange",
    "Fail",
    "ModelSandbox",
    "OpenAISandbox",
    "Request",
    "Script",
    "ScriptBook",
    "Step",
    "ToolCall",
    "ToolResult",
    "Turn",
    "failed",
    "output_contains",
    "succeeded",
]

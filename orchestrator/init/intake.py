"""Step 2, intake: what is built, of which kind, on which stack; success for its first user."""

from __future__ import annotations

from orchestrator.init.context import Context
from orchestrator.init.session import Intake

KINDS = ("web", "api", "cli", "library", "mobile", "desktop", "game", "other")


def run(ctx: Context) -> None:
    """Ask the five intake questions; nothing is changed."""
    p = ctx.prompter
    idea = p.text("intake.idea", "What are you building? (one or two sentences)")
    kind = p.choice("intake.kind", "What kind of software is it", KINDS, "other")
    stack = p.text(
        "intake.stack", "Language and stack (or 'auto' to let the agents choose)", "auto"
    )
    user = p.text("intake.first_user", "Who is its first user?", "me")
    success = p.text("intake.success", "What must work for that user to call it a success?")
    ctx.session.intake = Intake(idea=idea, kind=kind, stack=stack, first_user=user, success=success)


def describe(intake: Intake) -> str:
    """Return the intake as the text a model drafts the charter from."""
    return (
        f"Idea: {intake.idea}\nKind: {intake.kind}\nStack: {intake.stack}\n"
        f"First user: {intake.first_user}\nThe first user's success: {intake.success}\n"
    )

"""Refuse what the sandbox does not serve, and validate documents with GitHub's rules.

A field without a resolver is answered from the key of the same name in the dict its parent's
resolver built. A key that is absent means the sandbox never modelled the field: the answer is a
NOT_IMPLEMENTED error naming it, never a silent null (a key present with the value None is a real
null). Mutations and root fields without a resolver have no parent dict and are refused alike.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    specified_rules,
)


class Unimplemented(GraphQLError):
    """NOT_IMPLEMENTED: a field or mutation of GitHub's schema the sandbox does not serve."""

    def __init__(self, type_name: str, field: str) -> None:
        super().__init__(
            f"The sandbox does not implement {type_name}.{field}",
            extensions={"type": "NOT_IMPLEMENTED"},
        )


def resolve_key(source: Any, info: GraphQLResolveInfo[Any], **_: Any) -> Any:
    """Return the parent dict's key named after the field; refuse the field if it is absent."""
    if isinstance(source, dict) and info.field_name in source:
        return source[info.field_name]
    raise Unimplemented(info.parent_type.name, info.field_name)


def refuse_unserved(given: dict[str, Any], type_name: str, served: Collection[str]) -> None:
    """Refuse an input field the sandbox does not apply, when it is given (not null, not [])."""
    for key, value in given.items():
        if key not in served and key != "clientMutationId" and value not in (None, []):
            raise Unimplemented(type_name, key)


def refuse_unresolved(schema: GraphQLSchema) -> None:
    """Give every field of every object type without a resolver `resolve_key`.

    Introspection types keep graphql-core's own resolvers.
    """
    for kind in schema.type_map.values():
        if isinstance(kind, GraphQLObjectType) and not kind.name.startswith("__"):
            for field in kind.fields.values():
                if field.resolve is None:
                    field.resolve = resolve_key


# The reasons OverlappingFieldsCanBeMergedRule gives other than differing return types.
_OTHER_CONFLICTS = ("are different fields", "have differing arguments", "stream directives")


class FieldsMergeAsOnGitHub(OverlappingFieldsCanBeMergedRule):
    """OverlappingFieldsCanBeMerged as GitHub (graphql-ruby) applies it.

    GitHub compares the return types of two same-named fields only when their parents may
    overlap, so `... on Issue { state } ... on PullRequest { state }` (IssueState! beside
    PullRequestState!, as `gh issue view` asks) is valid there. graphql-core refuses it; this
    drops a conflict whose every reason is a return-type difference, keeping the others.
    """

    def report_error(self, error: GraphQLError) -> None:
        """Report the conflict unless it is only one of return types."""
        message = error.message
        if "conflicting types" in message and not any(r in message for r in _OTHER_CONFLICTS):
            return
        super().report_error(error)


# The one place GitHub's validation departs from graphql-core's specified rules. Our own
# documents (orchestrator/adapters/graphql) are still checked with every specified rule.
GITHUB_RULES: tuple[type[ASTValidationRule], ...] = tuple(
    FieldsMergeAsOnGitHub if rule is OverlappingFieldsCanBeMergedRule else rule
    for rule in specified_rules
)

"""Count a GraphQL query's cost in points, as GitHub's primary GraphQL rate limit counts it.

GitHub ("Rate limits and query limits for the GraphQL API"): add up the requests needed to fulfil
each unique connection in the call, assuming every request reaches its `first` or `last` limit;
divide by 100 and round to the nearest whole number; the minimum is 1. A connection's requests are
the product of the page sizes of the connections around it (one per parent node), and the nodes it
may return are that product times its own page size (RateLimit.nodeCount).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

# (the type a selection set is read on, the selection set): one node's share of a query.
Selections = list[tuple[GraphQLNamedType, SelectionSetNode]]


@dataclass(frozen=True)
class QueryCost:
    """What a query costs: `requests` GitHub assumes, `nodes` it may return, and whether it is a
    dry run (`rateLimit(dryRun: true)`: GitHub reports the cost without spending it)."""

    requests: int
    nodes: int
    dry_run: bool = False

    @property
    def points(self) -> int:
        """Return the requests / 100, rounded half up to a whole number, at least 1."""
        return max(1, (self.requests + 50) // 100)


@dataclass
class _Walk:
    """What a walk needs besides the selections: the schema, fragments and variables."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> QueryCost:
    """Return the cost of the operation `operation_name` (or the only one) of `document`.

    Fields the schema does not have are skipped (validation refuses them separately). A mutation
    is counted the same way: with no connection in its payload it costs the minimum, 1 point.
    """
    operation = _operation(document, operation_name)
    if operation is None:
        return QueryCost(0, 0)
    root = (
        schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    )
    if root is None:
        return QueryCost(0, 0)
    walk = _Walk(
        schema,
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
        {**_defaults(operation), **(variables or {})},
    )
    requests, nodes = _count(walk, [(root, operation.selection_set)], 1)
    dry_run = operation.operation == OperationType.QUERY and _asks_dry_run(walk, root, operation)
    return QueryCost(requests, nodes, dry_run)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    """Return the operation's variables that have a literal default (`$first: Int = 10`)."""
    found: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            found[definition.variable.name.value] = _literal(definition.default_value, {})
    return found


def _literal(value: ValueNode, variables: dict[str, Any]) -> Any:
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, BooleanValueNode):
        return value.value
    return None


def _count(walk: _Walk, selections: Selections, around: int) -> tuple[int, int]:
    """Return (requests, nodes) of `selections`, read on each of `around` parent nodes.

    Fields with the same response key are one field (GraphQL merges them), including those of
    different fragments: `... on Issue { labels(first: 10) } ... on PullRequest { labels(...) }`
    is one connection of whichever type the node is, at the larger page size.
    """
    groups: dict[str, list[tuple[GraphQLField, FieldNode]]] = {}
    for parent, selection_set in selections:
        for kind, node in _fields(walk, parent, selection_set, set()):
            definition = _definition(kind, node.name.value)
            if definition is not None:
                key = node.alias.value if node.alias else node.name.value
                groups.setdefault(key, []).append((definition, node))
    requests = nodes = 0
    for group in groups.values():
        inner: Selections = [
            (get_named_type(d.type), n.selection_set) for d, n in group if n.selection_set
        ]
        each = around
        if get_named_type(group[0][0].type).name.endswith("Connection"):
            size = max(_page(walk, n) for _, n in group)
            requests, nodes, each = requests + around, nodes + around * size, around * size
        more_requests, more_nodes = _count(walk, inner, each) if inner else (0, 0)
        requests, nodes = requests + more_requests, nodes + more_nodes
    return requests, nodes


def _fields(
    walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode, seen: set[str]
) -> list[tuple[GraphQLNamedType, FieldNode]]:
    """Return the fields a selection set asks, with the type each is read on, fragments followed
    (a fragment spread inside itself, which validation refuses, is followed once)."""
    found: list[tuple[GraphQLNamedType, FieldNode]] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append((parent, selection))
        elif isinstance(selection, InlineFragmentNode):
            kind = _condition(walk, selection.type_condition, parent)
            found += _fields(walk, kind, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walk.fragments.get(name)
            if fragment is not None and name not in seen:
                kind = _condition(walk, fragment.type_condition, parent)
                found += _fields(walk, kind, fragment.selection_set, seen | {name})
    return found


def _condition(walk: _Walk, condition: Any, parent: GraphQLNamedType) -> GraphQLNamedType:
    kind = walk.schema.get_type(condition.name.value) if condition is not None else None
    return kind or parent


def _definition(kind: GraphQLNamedType, name: str) -> GraphQLField | None:
    """Return the field `name` of an object or interface type (None: __typename, or unknown)."""
    field: GraphQLField | None = None
    if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType)):
        field = kind.fields.get(name)
    return field


def _page(walk: _Walk, node: FieldNode) -> int:
    """Return a connection's page size: its `first`, else its `last`; 0 when it has neither (a
    `totalCount` alone), so nothing under it is counted: it reads no nodes."""
    arguments = {a.name.value: _literal(a.value, walk.variables) for a in node.arguments or ()}
    size = arguments.get("first")
    if size is None:
        size = arguments.get("last")
    return size if isinstance(size, int) and size > 0 else 0


def _asks_dry_run(walk: _Walk, root: GraphQLObjectType, operation: OperationDefinitionNode) -> bool:
    """Return whether the query asks `rateLimit(dryRun: true)` (the schema's default is false)."""
    for _, node in _fields(walk, root, operation.selection_set, set()):
        if node.name.value == "rateLimit":
            arguments = {
                a.name.value: _literal(a.value, walk.variables) for a in node.arguments or ()
            }
            if arguments.get("dryRun") is True:
                return True
    return False

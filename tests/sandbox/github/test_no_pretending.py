"""The sandbox never pretends: every field and mutation of GitHub's schema is served or refused.

A field without a resolver is answered from its parent's key; an absent key is a NOT_IMPLEMENTED
error naming the field, never a silent null (nor, for a non-null field, an HTTP 500). The walk
covers every object type, field and mutation of the vendored schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)

from orchestrator.sandbox.github import Sandbox, accounts, graph
from orchestrator.sandbox.github.api import Hooks
from orchestrator.sandbox.github.gqlcore import RESOLVERS
from orchestrator.sandbox.github.gqlrefuse import Unimplemented, resolve_key
from orchestrator.sandbox.github.state import Store

SCALARS: dict[str, Any] = {"Int": 0, "Float": 0.0, "Boolean": False, "BigInt": "0"}


def object_types() -> list[GraphQLObjectType]:
    return [
        t
        for t in graph.schema().type_map.values()
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
    ]


def test_every_field_is_resolved_or_refused_when_its_key_is_absent() -> None:
    types = object_types()
    registered = refused = 0
    for kind in types:
        for name, field in kind.fields.items():
            if (kind.name, name) in RESOLVERS:
                assert field.resolve is RESOLVERS[(kind.name, name)]
                registered += 1
                continue
            assert field.resolve is resolve_key, f"{kind.name}.{name} would pretend"
            info = SimpleNamespace(field_name=name, parent_type=kind)
            with pytest.raises(Unimplemented) as raised:
                resolve_key({"__typename": kind.name}, info)
            assert raised.value.message == f"The sandbox does not implement {kind.name}.{name}"
            assert raised.value.extensions == {"type": "NOT_IMPLEMENTED"}
            refused += 1
    assert len(types) > 900 and registered + refused > 6000


def test_a_key_present_with_none_is_a_real_null() -> None:
    info = SimpleNamespace(field_name="milestone", parent_type=graph.schema().type_map["Issue"])
    assert resolve_key({"milestone": None}, info) is None


def minimal(kind: GraphQLInputType) -> Any:
    """Return the smallest valid value of an input type: required fields only."""
    if isinstance(kind, GraphQLNonNull):
        return minimal(kind.of_type)
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: minimal(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType)
    return SCALARS.get(kind.name, "MDQ6VXNlcjE=")  # a node id that names nothing here


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path)
    accounts.add_user(store, "agentos")
    return store


def test_every_mutation_is_served_or_refused(store: Store) -> None:
    """Each mutation runs with minimal arguments: refused by name, or answered with an error."""
    hooks = Hooks(pull_opened=lambda *_: None, pushed=lambda *_: None, rate=lambda _: {})
    mutations = graph.schema().mutation_type
    assert mutations is not None and len(mutations.fields) > 200
    with store.batch():  # one save at the end, not one per mutation
        for name, field in mutations.fields.items():
            check_mutation(store, hooks, name, field.args["input"].type)


def check_mutation(store: Store, hooks: Hooks, name: str, input_type: Any) -> None:
    """Run one mutation with minimal arguments and check it is refused or answered an error."""
    document = f"mutation($input: {input_type}) {{ {name}(input: $input) {{ __typename }} }}"
    body = json.dumps({"query": document, "variables": {"input": minimal(input_type)}})
    status, answer = graph.respond(store, "agentos", "http://x", body.encode(), hooks=hooks)
    assert status == 200 and answer["data"] == {name: None}, (name, answer)
    (error,) = answer["errors"]
    if ("Mutation", name) in RESOLVERS:
        assert error.get("type") != "NOT_IMPLEMENTED", (name, error)
    else:
        assert error == {
            "type": "NOT_IMPLEMENTED",
            "path": [name],
            "locations": error["locations"],
            "message": f"The sandbox does not implement Mutation.{name}",
        }


def test_an_unserved_field_is_an_error_over_http_never_a_500(sandbox: Sandbox) -> None:
    sandbox.create_repo("agentos/demo")
    response = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {sandbox.token}"},
        json={
            "query": '{ repository(owner: "agentos", name: "demo") '
            "{ name hasIssuesEnabled mirrorUrl } }"
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "repository": {"name": "demo", "hasIssuesEnabled": True, "mirrorUrl": None}
    }
    assert [(e["type"], e["path"], e["message"]) for e in body["errors"]] == [
        (
            "NOT_IMPLEMENTED",
            ["repository", "mirrorUrl"],
            "The sandbox does not implement Repository.mirrorUrl",
        )
    ]
    non_null = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {sandbox.token}"},
        json={"query": '{ repository(owner: "agentos", name: "demo") { name sshUrl } }'},
    )
    assert non_null.status_code == 200
    assert non_null.json()["data"] == {"repository": None}
    assert non_null.json()["errors"][0]["path"] == ["repository", "sshUrl"]


def test_an_unserved_input_field_is_refused_not_ignored(sandbox: Sandbox) -> None:
    sandbox.create_repo("agentos/demo")
    headers = {"Authorization": f"bearer {sandbox.token}"}
    repo_id = httpx.post(
        sandbox.graphql_url,
        headers=headers,
        json={"query": '{ repository(owner: "agentos", name: "demo") { id } }'},
    ).json()["data"]["repository"]["id"]
    body = httpx.post(
        sandbox.graphql_url,
        headers=headers,
        json={
            "query": 'mutation($r: ID!) { createIssue(input: {repositoryId: $r, title: "t", '
            'milestoneId: "M1"}) { issue { number } } }',
            "variables": {"r": repo_id},
        },
    ).json()
    assert body["errors"][0]["type"] == "NOT_IMPLEMENTED"
    assert body["errors"][0]["message"] == (
        "The sandbox does not implement CreateIssueInput.milestoneId"
    )
    assert not sandbox.store.repos["agentos/demo"]["issues"]

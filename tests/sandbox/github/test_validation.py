"""The vendored description is sound, and every operation is served.

The loader fixes do what they say.
"""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from orchestrator.sandbox.github import rest  # noqa: F401 (registers the routes)
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.validation import (
    SPEC_PATH,
    Exchange,
    check_request,
    check_response,
    patch_array_discriminators,
    patch_nullable,
)
from orchestrator.sandbox.schemas import make_subset

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(SPEC_PATH.read_text())


def test_vendored_subset_is_a_valid_openapi_document(document: dict) -> None:
    validate(document)


def test_subset_is_closed_under_its_references(document: dict) -> None:
    """Cutting the subset again with the same operations changes nothing.

    No reference is missing.
    """
    again = make_subset.subset(document, make_subset.OPERATION_IDS)
    assert again["paths"] == document["paths"] and again["components"] == document["components"]


def test_every_described_operation_is_served_and_every_served_one_is_described(
    document: dict,
) -> None:
    described = {
        (m.upper(), op["operationId"])
        for item in document["paths"].values()
        for m, op in item.items()
        if m in METHODS
    }
    served = {(r.method, r.operation_id) for r in ROUTES.routes if r.operation_id}
    assert served == described


def test_nullable_enums_and_nullable_one_ofs_accept_null() -> None:
    schema = {
        "a": {"nullable": True, "enum": ["x"]},
        "b": {"nullable": True, "oneOf": [{"type": "object"}]},
        "c": {"enum": ["y"]},
        "d": {"nullable": True, "type": "object", "oneOf": [{}]},
    }
    patch_nullable(schema)
    assert schema["a"]["enum"] == ["x", None]
    assert schema["b"]["oneOf"][-1] == {"enum": [None]}
    assert schema["c"]["enum"] == ["y"] and schema["d"]["oneOf"] == [{}]


def test_multi_segment_parameters_are_percent_encoded() -> None:
    route = next(r for r in ROUTES.routes if r.operation_id == "git/get-ref")
    assert (
        route.spec_path({"owner": "o", "repo": "r", "ref": "heads/agent/12-x"})
        == "/repos/o/r/git/ref/heads%2Fagent%2F12-x"
    )


def exchange(operation: str, method: str, path: str, body: object = None) -> Exchange:
    return Exchange(
        operation,
        method,
        path,
        {},
        {"content-type": "application/json"},
        json.dumps(body).encode() if body is not None else b"",
    )


def test_pygithubs_bare_label_array_is_an_allowed_deviation() -> None:
    assert (
        check_request(exchange("issues/add-labels", "POST", "/repos/o/r/issues/1/labels", ["bug"]))
        is None
    )
    assert (
        check_request(exchange("issues/add-labels", "POST", "/repos/o/r/issues/1/labels", [1]))
        is not None
    )
    assert (
        check_request(exchange("issues/create", "POST", "/repos/o/r/issues", ["bug"])) is not None
    )


def test_response_checks_name_the_field() -> None:
    problem = check_response(
        exchange("issues/get-label", "GET", "/repos/o/r/labels/bug"),
        200,
        {"Content-Type": "application/json"},
        b'{"id": 1}',
    )
    assert problem is not None and "'name' is a required property" in problem


def test_the_list_of_all_operations_agrees_with_the_subset(document: dict) -> None:
    """Both are cut from the same description: each served operation is listed the same way."""
    from orchestrator.sandbox.github import described
    from orchestrator.sandbox.schemas import make_operations

    listed = {(op.method, op.template, op.operation_id, op.docs) for op in described.load()}
    assert {tuple(row) for row in make_operations.operations(document)} <= listed


def test_a_discriminator_that_maps_array_is_dropped() -> None:
    schema = {
        "oneOf": [{"type": "array"}, {"type": "object"}],
        "discriminator": {"propertyName": "type", "mapping": {"array": "#/a", "file": "#/f"}},
        "other": {"oneOf": [], "discriminator": {"propertyName": "kind", "mapping": {"x": "#/x"}}},
    }
    patch_array_discriminators(schema)
    assert "discriminator" not in schema and "discriminator" in schema["other"]


def test_get_contents_answers_validate() -> None:
    entry = {
        "type": "file",
        "size": 1,
        "name": "a",
        "path": "a",
        "sha": "0" * 40,
        "url": "http://h/a",
        "git_url": None,
        "html_url": None,
        "download_url": None,
        "_links": {"self": "http://h/a", "git": None, "html": None},
    }
    root = exchange("repos/get-content", "GET", "/repos/o/r/contents/")
    for body in ([], [entry], {**entry, "content": "", "encoding": "base64"}):
        json_type = {"Content-Type": "application/json; charset=utf-8"}
        assert check_response(root, 200, json_type, json.dumps(body).encode()) is None
    raw = {"Content-Type": "application/vnd.github.v3.raw; charset=utf-8"}
    assert check_response(root, 200, raw, b"bytes") is None

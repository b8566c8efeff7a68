"""GraphQL points as GitHub counts them, charged to a budget of their own.

GitHub ("Rate limits and query limits for the GraphQL API"): add up the requests each connection
needs (every one reaching its `first`/`last`), divide by 100, round to the nearest whole number;
at least 1. The budget (5,000 points an hour for a user) is apart from REST's core requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from orchestrator.adapters.github_graphql import document
from orchestrator.errors import RateLimited
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.gqlcost import QueryCost, query_cost
from orchestrator.sandbox.github.graph import schema
from tests.contract.board_worlds import graphql_client
from tests.support.github_sandbox import running_sandbox

# The docs' worked example: 1 + 100 + 5,000 requests = 5,101, so 51 points.
DOCS_EXAMPLE = """query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id
        issues(first: 50) { edges { node { id
          labels(first: 60) { edges { node { id name } } }
        } } }
      } }
    }
  }
}"""
# The docs' node-limit example: 50 repositories + 50 x 10 issues = 550 nodes.
NODES_EXAMPLE = """query {
  viewer {
    repositories(first: 50) {
      edges { repository: node { name
        issues(first: 10) { totalCount edges { node { title bodyHTML } } }
      } }
    }
  }
}"""
ISSUES_WITH_LABELS = """query($n: Int!) {
  repository(owner: "o", name: "r") {
    issues(first: $n) { nodes { number labels(first: 10) { nodes { name } } } }
  }
}"""
# The same as ISSUES_WITH_LABELS(n: 100), through a fragment and an inline fragment.
THROUGH_FRAGMENTS = """query {
  repository(owner: "o", name: "r") { ...Issues }
}
fragment Issues on Repository {
  issues(first: 100) { nodes { ... on Issue { number labels(first: 10) { totalCount } } } }
}"""


def cost(text: str, **variables: Any) -> QueryCost:
    return query_cost(schema(), parse(text), variables)


def post(sandbox: Sandbox, query: str, token: str | None = None, **variables: Any) -> Any:
    return httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {token or sandbox.token}"},
        json={"query": query, "variables": variables},
        timeout=60,
    )


def test_the_docs_examples() -> None:
    assert cost(DOCS_EXAMPLE) == QueryCost(requests=5101, nodes=305_100)
    assert cost(DOCS_EXAMPLE).points == 51
    assert cost(NODES_EXAMPLE) == QueryCost(requests=51, nodes=550)
    assert cost(ISSUES_WITH_LABELS, n=100) == QueryCost(requests=101, nodes=1100)
    assert cost(ISSUES_WITH_LABELS, n=100).points == 1


def test_fragments_variables_and_aliases_are_followed() -> None:
    assert cost(THROUGH_FRAGMENTS) == cost(ISSUES_WITH_LABELS, n=100)
    assert cost(ISSUES_WITH_LABELS, n=40).requests == 41
    twice = """{ a: repository(owner: "o", name: "r") { issues(first: 100) { totalCount } }
                 b: repository(owner: "o", name: "s") { issues(first: 100) { totalCount } } }"""
    assert cost(twice).requests == 2  # two connections, one request each


def test_rounding_is_to_the_nearest_point_and_at_least_one() -> None:
    assert [QueryCost(r, 0).points for r in (0, 1, 149, 150, 249, 250)] == [1, 1, 1, 2, 2, 3]
    assert cost('{ viewer { login } repository(owner: "o", name: "r") { name } }').points == 1


def test_a_mutation_costs_one_point() -> None:
    mutation = """mutation($i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue(
        input: {projectId: $i, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}})
        { projectV2Item { id } } }"""
    assert cost(mutation, i="x", f="y", o="z").points == 1


def test_the_products_board_read_costs_three_points_a_hundred_items() -> None:
    """items 1 + labels 100 + subIssues 100 + blockedBy 100 = 301 requests: 3 points."""
    board = document("board_items").document
    full = query_cost(schema(), board, {"owner": "o", "number": 1, "status": "S", "first": 100})
    assert (full.requests, full.points) == (301, 3)
    half = query_cost(schema(), board, {"owner": "o", "number": 1, "status": "S", "first": 50})
    assert (half.requests, half.points) == (151, 2)


RATE = "{ rateLimit { cost limit nodeCount remaining resetAt used } }"
ISSUES = """query($dry: Boolean!) {
  rateLimit(dryRun: $dry) { cost nodeCount remaining used }
  repository(owner: "agentos", name: "demo") {
    issues(first: 100) { nodes { labels(first: 100) { totalCount } } }
  }
}"""


def test_each_query_is_charged_to_the_graphql_budget(sandbox: Sandbox) -> None:
    sandbox.create_repo("agentos/demo")
    first = post(sandbox, RATE)
    assert first.status_code == 200
    limit = first.json()["data"]["rateLimit"]
    assert {k: v for k, v in limit.items() if k != "resetAt"} == {
        "cost": 1,
        "limit": 5000,
        "nodeCount": 0,
        "remaining": 4999,
        "used": 1,
    }
    assert limit["resetAt"].endswith("Z")
    assert first.headers["X-RateLimit-Resource"] == "graphql"
    assert (first.headers["X-RateLimit-Used"], first.headers["X-RateLimit-Remaining"]) == (
        "1",
        "4999",
    )

    dry = post(sandbox, ISSUES, dry=True).json()["data"]["rateLimit"]
    assert dry == {"cost": 1, "nodeCount": 10_100, "remaining": 4999, "used": 1}
    spent = post(sandbox, ISSUES, dry=False)
    assert spent.json()["data"]["rateLimit"] == {
        "cost": 1,
        "nodeCount": 10_100,
        "remaining": 4998,
        "used": 2,
    }
    assert spent.headers["X-RateLimit-Used"] == "2"
    assert sandbox.rate_limits.status("agentos", "graphql")["used"] == 2

    overview = httpx.get(
        f"{sandbox.api_url}/rate_limit", headers={"Authorization": f"token {sandbox.token}"}
    )
    resources = overview.json()["resources"]
    assert resources["graphql"] == {
        "limit": 5000,
        "used": 2,
        "remaining": 4998,
        "reset": int(spent.headers["X-RateLimit-Reset"]),
    }
    # REST's core counts requests, GraphQL's points: neither spends the other's budget
    assert resources["core"]["used"] == 0 and overview.headers["X-RateLimit-Resource"] == "core"
    assert post(sandbox, RATE).headers["X-RateLimit-Used"] == "3"


def test_a_spent_budget_is_githubs_rate_limited_error(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, graphql_rate_limit=7) as sandbox:
        made = post(
            sandbox,
            'mutation($o: ID!) { createProjectV2(input: {ownerId: $o, title: "B"}) '
            "{ projectV2 { number } } }",
            o=post(sandbox, "{ viewer { id } }").json()["data"]["viewer"]["id"],
        )
        assert made.json()["data"]["createProjectV2"]["projectV2"]["number"] == 1
        client = graphql_client(sandbox.graphql_url, sandbox.token)
        board = {"owner": "agentos", "number": 1, "status": "Status", "first": 100}
        for _ in range(2):  # 2 points spent, then 3 + 3 (the second is served and empties it)
            client.run("board_items", board, subject="the board", action="read")
        assert sandbox.rate_limits.status("agentos", "graphql")["remaining"] == 0
        with pytest.raises(RateLimited, match="rate limit hit trying to read the board"):
            client.run("board_items", board, subject="the board", action="read")
        client.close()
        refused = post(sandbox, RATE)
        user_id = sandbox.store.users["agentos"]["id"]
        assert refused.status_code == 200
        assert refused.json() == {
            "errors": [
                {
                    "type": "RATE_LIMITED",
                    "message": f"API rate limit exceeded for user ID {user_id}.",
                }
            ]
        }
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert refused.headers["X-RateLimit-Used"] == "7"
        # REST keeps its own budget
        user = httpx.get(
            f"{sandbox.api_url}/user", headers={"Authorization": f"token {sandbox.token}"}
        )
        assert user.status_code == 200


def test_rate_limit_outside_the_sandbox_endpoint_says_so(tmp_path: Path) -> None:
    """graph.respond on its own (no budget around it) refuses rateLimit rather than invent one."""
    from orchestrator.sandbox.github import accounts, graph
    from orchestrator.sandbox.github.state import Store

    store = Store(tmp_path)
    accounts.add_user(store, "agentos")
    status, answer = graph.respond(
        store, "agentos", "http://x", b'{"query": "{ rateLimit { cost } }"}'
    )
    assert status == 200 and answer["errors"][0]["type"] == "NOT_IMPLEMENTED"

"""List every operation of GitHub's REST description: method, path template, operationId, docs.

Usage: python -m orchestrator.sandbox.schemas.make_operations FULL.json OUT.json

FULL.json is `generated/api.github.com.json` from npm `@octokit/openapi@23.0.2` (MIT), the file
`make_subset.py` cuts the served subset from. The whole description is too big to vendor (13 MB);
this list (one operation a line) is what the sandbox needs to tell "described, not served" (501)
from "not GitHub's" (404). One change of spelling: a path parameter the description marks
`x-multi-segment` (it may hold slashes: a file path, a branch) is written `{name+}`, as the
sandbox's router writes it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from orchestrator.sandbox.schemas.make_subset import METHODS, resolve

HEADER = {
    "source": "generated/api.github.com.json of npm @octokit/openapi@23.0.2 "
    "(github/rest-api-description, API version 2022-11-28), cut by make_operations.py",
    "licence": "MIT, Copyright (c) GitHub, Inc. and Octokit contributors: LICENSE",
    "columns": ["method", "path template ({name+}: x-multi-segment)", "operationId", "docs"],
}


def multi_segment(full: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> set[str]:
    """Return the names of the operation's path parameters that may hold slashes."""
    names = set()
    for param in [*item.get("parameters", []), *op.get("parameters", [])]:
        if "$ref" in param:
            param = resolve(full, param["$ref"])
        if param.get("in") == "path" and param.get("x-multi-segment"):
            names.add(param["name"])
    return names


def operations(full: dict[str, Any]) -> list[list[str]]:
    """Return [METHOD, template, operationId, docs URL] for every operation, sorted."""
    found = []
    for path, item in full["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            template = path
            for name in multi_segment(full, item, op):
                template = template.replace(f"{{{name}}}", f"{{{name}+}}")
            docs = op.get("externalDocs", {}).get("url", "https://docs.github.com/rest")
            found.append([method.upper(), template, op["operationId"], docs])
    return sorted(found, key=lambda row: (row[1], row[0]))


def render(rows: list[list[str]]) -> str:
    """Return the JSON document, one operation a line (small diffs when GitHub adds one)."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    head = json.dumps(HEADER, indent=1, ensure_ascii=False)[:-2]
    return head + ',\n "operations": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def main(argv: list[str]) -> int:
    """Write the operations of argv[1] to argv[2]."""
    with open(argv[1], encoding="utf-8") as f:
        full = json.load(f)
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(render(operations(full)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

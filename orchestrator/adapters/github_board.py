"""Implement the Board port on a GitHub Projects (v2) board with gql.

It reads the items with their content, adds an issue and sets a status.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from orchestrator.adapters import github_board_stamp
from orchestrator.adapters.github_board_normalize import (
    board_blockers,
    board_item,
    project_node,
    ref_of,
    refs,
    status_field,
    status_of,
    status_options,
    truncated,
)
from orchestrator.adapters.github_errors import one_line
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.adapters.github_http import Rest
from orchestrator.core.board import DEFAULT_NAMES, status_for
from orchestrator.core.model import (
    BoardField,
    BoardItem,
    BoardStatus,
    Dependencies,
    Issue,
    IssueRef,
)
from orchestrator.errors import GraphQLRefused, TrackerError
from orchestrator.ports import Tracker

PAGE = 100  # GitHub's largest page


class GitHubBoard:
    """A repo's issues on a Projects (v2) board, found by owner (user or organisation) and number.

    A read costs ceil(items / 100) GraphQL requests, which also refresh the cached Status field
    and bring each issue's content, sub-issues, parent and blockers (with their state). An open
    issue in the detailed statuses with more blockers than the page holds (50) costs one REST GET
    of its blocked-by list; one with more than 50 labels or sub-issues, one more GraphQL request.
    `set_status` reuses the cached option ids: no read unless they went stale.
    """

    def __init__(
        self,
        graphql: GraphQL,
        owner: str,
        number: int,
        *,
        tracker: Tracker,
        repo: str | None = None,
        names: Mapping[BoardStatus, str] | None = None,
        page_size: int = PAGE,
        field_name: str = "Status",
        rest: Rest | None = None,
    ) -> None:
        """`rest`: the REST client `stamp` lists the items with (None: no stamp)."""
        self._graphql, self._tracker, self._rest = graphql, tracker, rest
        self.owner, self.number, self.repo, self.field_name = owner, number, repo, field_name
        self.names = dict(names or DEFAULT_NAMES)
        self._page_size = page_size
        self.field: BoardField | None = None  # cached by any read
        # each status's option name as the board spells it
        self._spelled: dict[BoardStatus, str] = {}
        self._where: tuple[str, int] | None = None  # what `stamp` needs: learnt by any read

    @property
    def subject(self) -> str:
        """Return how errors name this board: `board acme/3`."""
        return f"board {self.owner}/{self.number}"

    def items(self, detail: Collection[BoardStatus] = (BoardStatus.READY,)) -> list[BoardItem]:
        """Read every page of the board; the open issues in `detail` also get their dependencies."""
        found: list[BoardItem] = []
        for raw in self._pages():
            item = board_item(raw, self.names)
            if item is None or (self.repo and item.issue.repo.lower() != self.repo.lower()):
                continue
            content = raw["content"]
            if item.content is not None and (
                truncated(content.get("labels")) or truncated(content.get("subIssues"))
            ):
                content = self._overflow(content)
                item = board_item({**raw, "content": content}, self.names) or item
            if item.status in detail and item.content is not None and item.content.is_open:
                item = replace(item, dependencies=self._dependencies(item.issue, content))
            found.append(item)
        return found

    def stamp(self, previous: str | None = None) -> str | None:
        """Return a fingerprint of the items, read through REST with ETags (free when idle);
        None when it cannot be taken (no read yet and no `previous` stamp to learn the paths)."""
        where = self._where or github_board_stamp.where_in(previous)
        if self._rest is None or where is None:
            return None
        return github_board_stamp.take(self._rest, self.owner, self.number, where)

    def _dependencies(self, ref: IssueRef, content: Mapping[str, Any]) -> Dependencies:
        """Return GitHub's record as the board read brought it; REST reads the blockers only when
        there were more than the page holds."""
        parent = content.get("parent")
        read = board_blockers(content)
        if read is None:
            read = self._tracker.blocked_by(ref), frozenset()
        return Dependencies(
            blocked_by=read[0],
            sub_issues=refs(content.get("subIssues")),
            parent=ref_of(parent) if parent else None,
            closed_blockers=read[1],
        )

    def add(self, issue: Issue) -> BoardItem:
        """Add the issue: one mutation.

        When the issue is there already, GitHub returns the existing item, with its Status.
        """
        field = self._field()
        data = self._run(
            "add_item",
            {"project": field.project_id, "content": issue.node_id, "status": self.field_name},
            f"add {issue.ref} to",
        )
        raw = data["addProjectV2ItemById"]["item"]
        status, name = status_of(raw, self.names)
        return BoardItem(
            str(raw["id"]),
            issue.ref,
            status,
            name,
            content=None if issue.is_pull_request else issue,
        )

    def set_status(self, item: BoardItem, status: BoardStatus) -> BoardItem:
        """Set the Status option: one mutation, plus a read if the cached option ids went stale."""
        field = self._field()
        if status not in field.options:
            field = self._refresh()
        try:
            self._set(item, field, status)
        except GraphQLRefused as error:  # someone changed the options since we cached them
            if not error.says("does not belong to the field"):
                raise
            self._set(item, self._refresh(), status)
        return replace(
            item, status=status, status_name=self._spelled.get(status, self.names[status])
        )

    def _set(self, item: BoardItem, field: BoardField, status: BoardStatus) -> None:
        option = field.options.get(status)
        if option is None:
            raise TrackerError(
                one_line(
                    f"{self.subject} has no {self.field_name} option named "
                    f"{self.names[status]!r}: add it on the board, "
                    f"run `agentos init`, or map the status to an option with board.status_names"
                )
            )
        self._run(
            "set_status",
            {
                "project": field.project_id,
                "item": item.item_id,
                "field": field.field_id,
                "option": option,
            },
            f"move {item.issue} to {self.names[status]!r} on",
        )

    def _pages(self) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = self._run(
                "board_items",
                {
                    "owner": self.owner,
                    "number": self.number,
                    "status": self.field_name,
                    "first": self._page_size,
                    "after": after,
                },
                "read",
            )
            project = project_node(data, self.owner, self.number)
            self._remember(project)
            page = project["items"]
            nodes += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["pageInfo"]["endCursor"]

    def _overflow(self, content: dict[str, Any]) -> dict[str, Any]:
        """Return the issue payload with all its labels and sub-issues.

        That takes one more request when there are more than 50 of either.
        """
        data = self._run(
            "issue_overflow",
            {"id": content["id"]},
            f"read every label and sub-issue of #{content['number']} on",
        )
        node = data.get("node") or {}
        return {
            **content,
            "labels": node.get("labels", content["labels"]),
            "subIssues": node.get("subIssues", content["subIssues"]),
        }

    def _field(self) -> BoardField:
        return self.field if self.field is not None else self._refresh()

    def _refresh(self) -> BoardField:
        data = self._run(
            "status_field",
            {"owner": self.owner, "number": self.number, "status": self.field_name},
            "read the Status field of",
        )
        return self._remember(project_node(data, self.owner, self.number))

    def _remember(self, project: Mapping[str, Any]) -> BoardField:
        self.field = status_field(project, self.names, self.field_name)
        self._where = github_board_stamp.where_of(project) or self._where
        self._spelled = {
            s: o.name
            for o in status_options(project.get("field"))
            if (s := status_for(o.name, self.names)) is not None
        }
        return self.field

    def _run(self, name: str, variables: Mapping[str, Any], action: str) -> dict[str, Any]:
        return self._graphql.run(name, variables, subject=self.subject, action=action)

"""Implement the BoardAdmin port on GitHub.

Find or create a board, link it, give Status its options, and create the status labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.adapters.github_board_normalize import (
    project_node,
    project_value,
    status_field,
    status_options,
)
from orchestrator.adapters.github_errors import one_line
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.core.board import DEFAULT_NAMES, LABEL_COLOURS, Option, options_to_send
from orchestrator.core.model import BoardField, BoardStatus, Project
from orchestrator.errors import GraphQLRefused, TrackerError
from orchestrator.ports import Tracker

# What GitHub Enterprise versions whose schema predates option ids answer when sent one.
_NO_OPTION_IDS = ("ProjectV2SingleSelectFieldOptionInput", "doesn't accept argument 'id'")


class GitHubBoardAdmin:
    """Board set-up through GraphQL (labels through the tracker); every method is safe to rerun."""

    def __init__(self, graphql: GraphQL, tracker: Tracker, field_name: str = "Status") -> None:
        self._graphql, self._tracker, self.field_name = graphql, tracker, field_name

    def project(self, owner: str, number: int) -> Project:
        """Find the board: one request."""
        return project_value(self._project_node(owner, number))

    def find_or_create(self, owner: str, title: str) -> Project:
        """Find the owner's open board titled `title` (one request), else create it.

        Creating costs one more request, never retried.
        """
        data = self._run(
            "owner_projects", {"owner": owner, "title": title}, f"the boards of {owner}", "list"
        )
        who = data.get("repositoryOwner")
        if who is None or who.get("__typename") not in ("User", "Organization"):
            raise TrackerError(one_line(f"there is no user or organization named {owner!r}"))
        for node in (who.get("projectsV2") or {}).get("nodes") or ():
            if node and node["title"] == title and not node.get("closed"):
                return project_value(node)
        made = self._graphql.run(
            "create_project",
            {"owner": who["id"], "title": title},
            subject=f"a board {title!r} for {owner}",
            action="create",
            idempotent=False,
        )
        return project_value(made["createProjectV2"]["projectV2"])

    def link(self, project: Project, repo: str) -> None:
        """Link the board to `repo`: one read, and one mutation unless it is linked already."""
        owner, _, name = repo.partition("/")
        data = self._run(
            "link_state",
            {"project": project.id, "owner": owner, "name": name},
            repo,
            f"link board {project.owner}/{project.number} to",
        )
        linked = {
            str(n["nameWithOwner"]).lower()
            for n in ((data.get("node") or {}).get("repositories") or {}).get("nodes") or ()
            if n
        }
        if repo.lower() in linked:
            return
        if not data.get("repository"):
            raise TrackerError(one_line(f"{repo} not found, or the token cannot see it"))
        self._run(
            "link_project",
            {"project": project.id, "repository": data["repository"]["id"]},
            repo,
            f"link board {project.owner}/{project.number} to",
        )

    def ensure_statuses(
        self, project: Project, names: Mapping[BoardStatus, str] | None = None
    ) -> BoardField:
        """Add the Status options the board lacks: one read, and one mutation when any is missing.

        Every existing option is sent back with its id, colour and description, so items keep their
        Status and the user's own options stay; missing ones are appended in lifecycle order.
        """
        names = dict(names or DEFAULT_NAMES)
        node = self._project_node(project.owner, project.number)
        raw_field = node.get("field") or {}
        wanted = options_to_send(status_options(raw_field), names)
        if wanted is None or not raw_field:
            return status_field(node, names, self.field_name)
        try:
            data = self._run(
                "set_status_options",
                {"field": raw_field["id"], "options": [_input(o) for o in wanted]},
                f"board {project.owner}/{project.number}",
                f"add {self.field_name} options to",
            )
        except GraphQLRefused as error:
            if not any(error.says(phrase) for phrase in _NO_OPTION_IDS):
                raise
            missing = ", ".join(o.name for o in wanted if o.id is None)
            raise TrackerError(
                one_line(
                    f"this GitHub cannot add {self.field_name} options without clearing "
                    f"every item's {self.field_name} (its API takes no option ids); add these "
                    f"options on board {project.owner}/{project.number} by hand: {missing}"
                )
            ) from error
        return status_field(
            {**node, "field": data["updateProjectV2Field"]["projectV2Field"]},
            names,
            self.field_name,
        )

    def ensure_status_labels(self, repo: str) -> None:
        """Create the `status:*` labels the repo lacks, through the tracker."""
        self._tracker.ensure_labels(
            repo, {status.label: colour for status, colour in LABEL_COLOURS.items()}
        )

    def _project_node(self, owner: str, number: int) -> dict[str, Any]:
        data = self._run(
            "status_field",
            {"owner": owner, "number": number, "status": self.field_name},
            f"board {owner}/{number}",
            "read",
        )
        return project_node(data, owner, number)

    def _run(
        self, name: str, variables: Mapping[str, Any], subject: str, action: str
    ) -> dict[str, Any]:
        return self._graphql.run(name, variables, subject=subject, action=action)


def _input(option: Option) -> dict[str, str]:
    """Return a ProjectV2SingleSelectFieldOptionInput; an existing option carries its id."""
    sent = {"name": option.name, "color": option.color, "description": option.description}
    return {**sent, "id": option.id} if option.id else sent

"""The groomer on the GitHub sandbox, through the real client and a Projects board.

Two near-identical issues are linked and labelled, and neither is closed; an In Progress card
with no task behind it is repaired; an issue whose blocker closed is noted as free; and a second
run over the same backlog writes nothing to GitHub.
"""

from __future__ import annotations

from orchestrator.core import grooming
from orchestrator.core.labels import DUPLICATE
from orchestrator.core.model import BoardStatus, IssueRef
from tests.e2e.conftest import World, repo_entry

APP = "acme/app"
CRITERIA = "## Success criteria\n\n- it works\n"


def _requests(world: World) -> tuple[int, int]:
    """Return (REST writes, GraphQL posts) the sandbox has answered so far.

    A GraphQL query is a POST like a mutation, so the two are counted apart.
    """
    rest = gql = 0
    for r in world.sandbox.requests:
        if r.method in ("GET", "HEAD"):
            continue
        if r.path.split("?")[0].rstrip("/").endswith("/graphql"):
            gql += 1
        else:
            rest += 1
    return rest, gql


def _notes(world: World, ref: IssueRef, marker: str) -> list[str]:
    return [c.body for c in world.tracker.comments(ref) if marker in c.body]


def test_duplicates_are_linked_not_closed_a_card_is_repaired_and_a_second_run_writes_nothing(
    world: World,
) -> None:
    project = world.add_board(APP, "Delivery")
    world.configure([repo_entry("app", APP, board={"owner": "acme", "number": project.number})])
    first = world.issue(APP, "Login page crashes on empty password", "Empty.", BoardStatus.BACKLOG)
    second = world.issue(APP, "Login page crashes on an empty password", "", BoardStatus.BACKLOG)
    lost = world.issue(APP, "Add the export button", CRITERIA, BoardStatus.IN_PROGRESS)
    blocker = world.issue(APP, "Migrate the schema", CRITERIA, BoardStatus.BACKLOG)
    free = world.issue(APP, "Build the report page", CRITERIA, BoardStatus.BACKLOG)
    world.tracker.add_blocker(free.ref, blocker)
    world.tracker.close_issue(blocker.ref)

    assert world.run("groomer") == 0

    newer, older = world.tracker.issue(second.ref), world.tracker.issue(first.ref)
    assert newer.is_open and older.is_open  # linked, never closed
    assert DUPLICATE in newer.labels and DUPLICATE not in older.labels
    [note] = _notes(world, second.ref, grooming.DUPLICATE_NOTE)
    assert note.startswith(f"Agent OS: possible duplicate of #{first.number} (")
    assert world.status(lost.ref) is BoardStatus.BACKLOG
    [card] = _notes(world, lost.ref, grooming.CARD_NOTE)
    assert "from In Progress to Backlog" in card
    assert world.tracker.issue(lost.ref).is_open
    [freed] = _notes(world, free.ref, grooming.FREE_NOTE)
    assert f"all blockers are closed: free to start (it waited for #{blocker.number})" in freed
    [finished] = world.events("groomer", "run.finished")
    assert (finished["duplicates"], finished["repaired"], finished["free"]) == (1, 1, 1)

    rest, gql = _requests(world)
    assert world.run("groomer", dry_run=True) == 0  # reads only: the board's queries
    rest_dry, gql_dry = _requests(world)
    assert rest_dry == rest
    assert world.run("groomer") == 0
    assert _requests(world) == (rest, gql_dry + (gql_dry - gql))  # the same reads, no write
    finished = world.events("groomer", "run.finished")[-1]
    assert (finished["duplicates"], finished["repaired"], finished["free"]) == (0, 0, 0)
    assert world.status(lost.ref) is BoardStatus.BACKLOG
    assert len(world.tracker.comments(second.ref)) == 1

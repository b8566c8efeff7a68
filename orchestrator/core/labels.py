"""The labels Agent OS reads and writes on GitHub, each named once.

A repo without a Projects board keeps its status in `status:*` labels too; those are named by
`core.model.BoardStatus.label`, from the status they stand for.
"""

from __future__ import annotations

BLOCKED = "agentos:blocked"  # escalated: a person has the issue until they remove the label
APPROVED = "agentos:approved"  # a writer lets an outsider's issue run (core.trust)
PRIORITIES = {  # label -> priority, 0 high; an issue's most urgent label wins
    "prio:high": 0,
    "priority:high": 0,
    "p0": 0,
    "p1": 0,
    "prio:normal": 1,
    "priority:normal": 1,
    "p2": 1,
    "prio:low": 2,
    "priority:low": 2,
    "p3": 2,
}
NORMAL_PRIORITY = 1
COLOURS = {  # what `agentos init` creates in a repo: name -> colour
    APPROVED: "0e8a16",
    "prio:high": "b60205",
    "prio:normal": "fbca04",
    "prio:low": "c5def5",
}
INCIDENT = "agentos:incident"  # an issue the incident scanner or the log analyzer filed
SEVERITY = "severity:{}"  # + critical, high, medium or low (core.incidents.Severity)
INCIDENT_COLOURS = {  # created by the job that files an incident, in the repo it files in
    INCIDENT: "5319e7",
    SEVERITY.format("critical"): "b60205",
    SEVERITY.format("high"): "d93f0b",
    SEVERITY.format("medium"): "fbca04",
    SEVERITY.format("low"): "c5def5",
}
DISCOVERED = "agentos:discovered"  # a follow-up an agent noticed, filed once its PR merged
DISCOVERED_COLOURS = {DISCOVERED: "c2e0c6"}  # created by the PR monitor when it files the first
PLAN = "agentos:plan"  # the repo's planning issue: each sprint plan is a comment on it
PLANNED = "agentos:planned"  # an issue a sprint plan drafted (in Backlog until a person moves it)
PLAN_COLOURS = {PLAN: "0e8a16", PLANNED: "bfd4f2"}  # created by the planner when it first posts
DUPLICATE = "agentos:duplicate"  # the groomer: may repeat an older open issue (never closed by us)
NEEDS_DECISION = "agentos:needs-decision"  # the groomer: a blocker was closed as not planned
HOLDING = (DUPLICATE, NEEDS_DECISION)  # a Ready issue carrying one is not queued until removed
GROOMER_COLOURS = {  # created by the groomer, in a repo where it adds one of them
    DUPLICATE: "cfd3d7",
    NEEDS_DECISION: "d876e3",
}
PLAN_ITEM = "agentos:plan-item"  # an epic or task `agentos plan import` made from PLAN.md

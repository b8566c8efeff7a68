"""The PR monitor on the sandbox: its local CI posts real check runs.

Merges close issues through `Closes #N`.
"""

from __future__ import annotations

import time

import yaml

from orchestrator.store import audit, rooms
from tests.e2e.conftest import SAMPLE, TEST_COMMAND, World

SUB = {"calc/sub.py": "def sub(a, b):\n    return a - b\n"}
CI_NEEDS_CHANGELOG = f"test -f CHANGELOG.md && {TEST_COMMAND}"


def deliver(world: World, title: str, steps: list[dict], *, wait_ci: bool = True) -> int:
    """Open a PR for a new issue through the dispatcher and the queue; return the issue number."""
    issue = world.issue("acme/app", title)
    world.set_playbook({**world.playbook, str(issue.number): steps})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert not wait_ci or world.sandbox.wait_ci_idle(60)
    return issue.number


def pulls(world: World) -> list:
    return world.tracker.open_pulls("acme/app")


def reconfigure(world: World, **changes) -> None:
    data = yaml.safe_load(world.config_path.read_text())
    for key, value in changes.items():
        if key == "repo":
            data["repos"][0].update(value)
        else:
            data.setdefault(key, {}).update(value)
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_green_pr_is_merged_its_branch_deleted_and_its_issue_closed_and_done(
    world: World,
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    assert world.run("pr_monitor") == 0
    assert pulls(world) == []
    issue = world.tracker.issue(world.issue_ref(number))
    assert not issue.is_open and "status:done" in issue.labels
    assert world.git_ls_remote("acme/app") == {"refs/heads/main"}
    record = rooms.read(world.root / "runtime" / "rooms", f"app-{number}-g1-a1")
    assert record.lifecycle is not None and record.lifecycle.state.value == "passed"
    assert [e["reason"] for e in world.events("pr_monitor", "pr.decided")] == ["green"]
    folder = world.root / "runtime" / "audit"  # the push, the PR and the merge, chained
    worker = f"agentos:worker:app-{number}-g1-a1"
    acts = {(e.act, e.actor) for e in audit.entries(folder)}
    assert {
        ("branch.pushed", worker),
        ("pr.opened", worker),
        ("label.added", "agentos:dispatcher"),  # the label board's status move
        ("pr.merged", "agentos:pr_monitor"),
    } <= acts
    assert audit.verify(folder, audit.load_key(world.root / "audit.key")).intact


def test_checks_in_progress_do_nothing_and_say_nothing(world: World) -> None:
    world.sandbox.set_ci("acme/app", "sleep 20")
    number = deliver(world, "Add subtraction", [{"files": SUB}], wait_ci=False)
    writes_before = world.github_writes()
    world.run("pr_monitor")
    world.run("pr_monitor")
    assert len(pulls(world)) == 1 and world.github_writes() == writes_before
    assert world.tracker.comments(world.issue_ref(number)) == []
    assert [e["reason"] for e in world.events("pr_monitor", "pr.decided")] == ["checks_pending"]


def test_dispatcher_only_leaves_the_pr_to_a_person(world: World) -> None:
    reconfigure(world, repo={"automation_mode": "dispatcher_only"})
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    world.run("pr_monitor")
    assert len(pulls(world)) == 1
    assert "status:in-review" in world.tracker.issue(world.issue_ref(number)).labels


def test_red_checks_get_a_fixing_task_and_the_fixed_pr_is_merged(world: World) -> None:
    world.sandbox.set_ci("acme/app", CI_NEEDS_CHANGELOG)
    number = deliver(
        world, "Add subtraction", [{"files": SUB}, {"files": {"CHANGELOG.md": "- sub\n"}}]
    )
    world.run("pr_monitor")
    assert world.mailbox("inbox") == [f"app-{number}-g1-a2"]
    fixing = (world.root / "runtime" / "rooms" / f"app-{number}-g1-a2" / "fixing.json").read_text()
    assert "sandbox-ci" in fixing
    world.run("queue")
    prompt = (world.root / "runtime" / "rooms" / f"app-{number}-g1-a2" / "prompt.md").read_text()
    assert "sandbox-ci" in prompt
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open


def test_a_red_checks_log_reaches_the_fixing_prompt_and_the_fixed_pr_merges(
    world: World,
) -> None:
    """Issue 17: a CI that printed MARKER and failed left MARKER in neither the fixing task nor
    its prompt, only the check run's title (`Failed`)."""
    marker = "FAILMARKER-7391"  # printed, not in the command: its log shows the command too
    world.sandbox.set_ci(
        "acme/app",
        f"if test -f CHANGELOG.md; then {TEST_COMMAND}; "
        "else echo FAILMARKER-$((7390 + 1)) >&2 && false; fi",
    )
    number = deliver(
        world, "Add subtraction", [{"files": SUB}, {"files": {"CHANGELOG.md": "- sub\n"}}]
    )
    world.sandbox.clear_requests()
    world.run("pr_monitor")
    fix_id = f"app-{number}-g1-a2"
    assert world.mailbox("inbox") == [fix_id]
    paths = [r.path for r in world.sandbox.requests]
    assert sum("/actions/jobs/" in p for p in paths) == 1  # the log's redirect, once
    assert sum(p.startswith("/_actions/signedlogcontent/") for p in paths) == 1
    assert not any(p.endswith("/annotations") for p in paths)  # the run has none to read
    assert marker in (world.root / "runtime" / "rooms" / fix_id / "fixing.json").read_text()
    world.run("queue")
    prompt = (world.root / "runtime" / "rooms" / fix_id / "prompt.md").read_text()
    log = prompt.split("#### sandbox-ci", 1)[1].split("## The result contract", 1)[0]
    assert f"\n{marker}\n" in log and "```check-output" in log
    assert "Process completed with exit code 1" in log
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open


def test_red_checks_escalate_once_fix_rounds_run_out(world: World) -> None:
    reconfigure(world, limits={"max_fix_rounds": 1})
    world.sandbox.set_ci("acme/app", "false")
    number = deliver(
        world, "Add subtraction", [{"files": SUB}, {"append": {"calc/sub.py": "# tried\n"}}]
    )
    world.run("pr_monitor")
    world.run("queue")
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    world.run("pr_monitor")
    issue = world.tracker.issue(world.issue_ref(number))
    assert "agentos:blocked" in issue.labels and "status:blocked" in issue.labels
    assert len(world.tracker.comments(world.issue_ref(number))) == 1
    assert len(pulls(world)) == 1


def test_two_parallel_prs_on_the_same_lines_both_merge_the_second_after_a_fixing_round(
    world: World,
) -> None:
    """Two tasks run at once from the same base and change the same lines: both must end merged."""
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    one = world.issue("acme/app", "Add subtraction")
    two = world.issue("acme/app", "Add multiplication")
    clash = {"calc/ops.py": SAMPLE["calc/ops.py"] + "\n\ndef sub(a, b):\n    return a - b\n"}
    other = {"calc/ops.py": SAMPLE["calc/ops.py"] + "\n\ndef mul(a, b):\n    return a * b\n"}
    resolved = {
        "calc/ops.py": SAMPLE["calc/ops.py"] + "\n\ndef sub(a, b):\n    return a - b\n"
        "\n\ndef mul(a, b):\n    return a * b\n"
    }
    world.set_playbook(
        {
            str(one.number): [{"files": clash}, {"files": resolved}],
            str(two.number): [{"files": other}, {"files": resolved}],
        }
    )
    world.run("dispatcher")
    world.run("queue")
    assert world.sandbox.wait_ci_idle(60) and len(pulls(world)) == 2
    for _ in range(3):  # one merges; the other then conflicts
        world.run("pr_monitor")
        if world.mailbox("inbox"):
            break
    [left] = pulls(world)
    loser = int(left.head.split("/")[1].split("-")[0])
    fix_id = f"app-{loser}-g1-a2"
    assert world.mailbox("inbox") == [fix_id]
    assert [e["outcome"] for e in world.events("pr_monitor", "pr.rebased")] == ["conflict"]
    fixing = (world.root / "runtime" / "rooms" / fix_id / "fixing.json").read_text()
    assert "calc/ops.py" in fixing and "__pycache__" not in fixing
    world.run("queue")
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    world.run("pr_monitor")
    assert pulls(world) == []
    assert world.main_tests_pass("acme/app")


def test_a_wedged_pr_is_restarted_once_then_escalated(world: World) -> None:
    reconfigure(world, limits={"wedged_hours": 0.0005})  # 1.8 s
    world.sandbox.set_ci("acme/app", "sleep 60")
    number = deliver(world, "Add subtraction", [{"files": SUB}], wait_ci=False)
    first = pulls(world)[0]
    world.run("pr_monitor")  # checks pending: the clock starts
    time.sleep(2.2)
    world.run("pr_monitor")  # still pending: restart
    assert (
        pulls(world) == [] and "status:ready" in world.tracker.issue(world.issue_ref(number)).labels
    )
    assert world.run("dispatcher") == 0 and world.mailbox("inbox") == [f"app-{number}-g2-a1"]
    world.run("queue")
    second = pulls(world)[0]
    assert second.number != first.number
    world.run("pr_monitor")
    time.sleep(2.2)
    world.run("pr_monitor")
    issue = world.tracker.issue(world.issue_ref(number))
    assert "agentos:blocked" in issue.labels and len(pulls(world)) == 1
    bodies = [c.body for c in world.tracker.comments(world.issue_ref(number))]
    assert (
        sum("closed #" in b for b in bodies) == 1
        and sum("needs a person" in b for b in bodies) == 1
    )


def test_a_pr_whose_base_moved_without_conflict_merges_as_github_allows(world: World) -> None:
    """GitHub reports `behind` only under branch protection.

    A clean PR on a moved base merges as it is.
    """
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    clone = world.root / "someone"
    world.git("clone", "-q", world.sandbox.clone_url("acme/app"), str(clone), cwd=world.root)
    (clone / "NOTES.md").write_text("unrelated\n")
    world.git("add", "NOTES.md", cwd=clone)
    world.git("commit", "-q", "-m", "Notes", cwd=clone)
    world.git("push", "-q", "origin", "main", cwd=clone)
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    assert world.events("pr_monitor", "pr.rebased") == []
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open
    assert world.main_tests_pass("acme/app")


def test_changes_requested_by_a_person_become_a_fixing_task_with_the_review_in_its_prompt(
    world: World,
) -> None:
    from github import Auth, Github

    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(
        world,
        "Add subtraction",
        [{"files": SUB}, {"files": {"calc/sub.py": SUB["calc/sub.py"] + "# documented\n"}}],
    )
    carol = world.sandbox.add_user("carol")
    owner = Github(auth=Auth.Token(world.sandbox.token), base_url=world.sandbox.api_url)
    owner.get_repo("acme/app").add_to_collaborators("carol", "push")
    pr = (
        Github(auth=Auth.Token(carol), base_url=world.sandbox.api_url)
        .get_repo("acme/app")
        .get_pull(pulls(world)[0].number)
    )
    pr.create_review(body="Please document sub().", event="REQUEST_CHANGES")
    world.run("pr_monitor")
    fix_id = f"app-{number}-g1-a2"
    assert world.mailbox("inbox") == [fix_id]
    world.run("queue")
    prompt = (world.root / "runtime" / "rooms" / fix_id / "prompt.md").read_text()
    assert "Please document sub()." in prompt
    assert world.sandbox.wait_ci_idle(60)
    world.run("pr_monitor")
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open

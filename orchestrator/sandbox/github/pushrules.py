"""What a protected branch refuses of a push, in GitHub's words, decided before any ref moves.

`policy` says what a branch's protection asks of an update without reading the pushed objects;
the git receive path hands it to the pre-receive hook (prereceive.py), which adds the force-push
and merge-commit checks on the objects in quarantine; the REST refs endpoints apply all of it
through `refusal`.
"""

from __future__ import annotations

from orchestrator.sandbox.github import gitrepo, prereceive, protection
from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.api import Update
from orchestrator.sandbox.github.state import Json, Store

ZERO = gitrepo.ZERO
HEADS = "refs/heads/"


def policy(store: Store, repo: Json, login: str, ref: str, new: str) -> Json | None:
    """Return what `ref`'s protection asks of `login` moving it to `new`; None if unprotected.

    `reasons` are the refusals known without the pushed objects, in GitHub's words; `force` and
    `linear` say whether a force push is allowed and whether merge commits are refused, which
    prereceive.py checks on the objects. Force pushes and deletions are refused to everyone (as
    GitHub's "rules applied to everyone including administrators"); the rest spare an admin
    unless `enforce_admins`.
    """
    rules = repo.get("protection", {}).get(ref.removeprefix(HEADS))
    if not ref.startswith(HEADS) or rules is None:
        return None
    if new == ZERO:
        refused = [] if rules["allow_deletions"] else ["Cannot delete this protected branch"]
        return {"reasons": refused, "force": True, "linear": False}
    bypass = not rules["enforce_admins"] and can(store, repo, login, "admin")
    reasons = [] if bypass else _reasons(repo, rules, new)
    linear = rules["required_linear_history"] and not bypass
    return {"reasons": reasons, "force": rules["allow_force_pushes"], "linear": linear}


def _reasons(repo: Json, rules: Json, new: str) -> list[str]:
    reasons = []
    if rules.get("merge_queue"):
        reasons.append(protection.MERGE_QUEUE_REQUIRED)
    elif rules["required_pull_request_reviews"]:
        reasons.append("Changes must be made through a pull request.")
    contexts = (rules["required_status_checks"] or {}).get("contexts", [])
    states = protection.states(repo, new)
    missing = [c for c in contexts if states.get(c) not in protection.SUCCESS]
    if len(missing) == 1:
        said = "failing" if states.get(missing[0]) in ("failure", "error") else "expected"
        reasons.append(f'Required status check "{missing[0]}" is {said}.')
    elif missing:
        reasons.append(f"{len(missing)} of {len(contexts)} required status checks are expected.")
    return reasons


def policies(store: Store, repo: Json, login: str, updates: list[Update]) -> dict[str, Json]:
    """Return the policy of each protected ref among `updates`, for the pre-receive hook."""
    found = {}
    for _, new, ref in updates:
        rule = policy(store, repo, login, ref, new)
        if rule is not None:
            found[ref] = rule
    return found


def refusal(store: Store, repo: Json, login: str, old: str, new: str, ref: str) -> str | None:
    """Return why the protection of `ref` refuses this update (REST refs), or None."""
    rule = policy(store, repo, login, ref, new)
    if rule is None:
        return None
    found = prereceive.reasons(rule, old, new, str(store.git_dir(repo)))
    return " ".join(found) or None

"""The merge train carried out for one repo, once per PR monitor tick (`core.train` decides).

The monitor hands over the PRs it decided to merge. Per base branch: with no train on its way,
one green PR merges by itself, as always; two or more form a train (`build_train`: their heads
merged onto the base in order, pushed to `agentos/train/<n>`). A train on its way is judged from
the checks on its head: pending waits; green lands it (`land`: the base fast-forwarded to the
head, which GitHub records as every PR in it merged; each is then finished as a merge is); red is
bisected, or, down to one suspect, sends that PR back with the failure. While a train runs, the
base's other green PRs wait for the next one.

Trains need `merge_method: merge` (a squash or rebase would not keep the heads as ancestors) and
`repos[].merge_train` (default on). A base whose protection refuses the push, or where no CI
reports on the train's branch within `limits.checks_grace_minutes`, is held back to one by one
for a day, said once (`train.unavailable`). The state is `store.trains`, written before each
effect that a kill could lose: a killed build is rebuilt under its number, a landing found done
is finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from orchestrator.config.model import Config, MergeMethod, RepoConfig
from orchestrator.core.model import CheckState
from orchestrator.core.train import (
    BRANCH_PREFIX,
    MIN_CARS,
    Car,
    Move,
    Train,
    TrainStep,
    after,
    dropped,
    halves,
    judge,
    known_culprit,
    order,
    without_culprit,
)
from orchestrator.deps import Deps
from orchestrator.errors import PushRejected, TrackerError, Unauthorized, WorktreeError
from orchestrator.improve import discovered
from orchestrator.review import actions
from orchestrator.review.facts import PullFacts, gather
from orchestrator.store import trains
from orchestrator.store.memo import Memo

HELD_HOURS = 24  # one by one this long after a base refused a train
MOVED = ("fetch first", "non-fast-forward")  # git's words when the base moved on meanwhile


def rides(repo: RepoConfig) -> bool:
    """Tell whether the repo's green PRs go through the train (else they merge one by one)."""
    return repo.merge_train and repo.merge_method is MergeMethod.MERGE


def advance(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    ready: Sequence[PullFacts],
    now: datetime,
    memo: Memo,
) -> dict[str, int]:
    """Merge the repo's green PRs, by train where it can; return what happened, by word."""
    state = trains.load(config.paths.state_dir)
    run = _Run(deps, config, repo, state, now, memo)
    by_base: dict[str, list[PullFacts]] = {}
    for facts in ready:
        by_base.setdefault(facts.pr.base, []).append(facts)
    prefix = f"{repo.key}:"
    bases = set(by_base) | {t.base for k, t in state.trains.items() if k.startswith(prefix)}
    for base in sorted(bases):
        try:
            run.base(base, by_base.get(base, []))
        except Unauthorized:
            raise
        except (TrackerError, WorktreeError) as error:  # this base waits; the next tick goes on
            deps.log.warning(
                "train.failed", extra={"repo": repo.github, "base": base, "error": str(error)[:200]}
            )
            run.count("train_failed")
    return run.counts


class _Run:
    """One tick's work on one repo's trains."""

    def __init__(
        self, deps: Deps, config: Config, repo: RepoConfig, state: trains.Trains, now: datetime,
        memo: Memo,
    ) -> None:  # fmt: skip
        self.deps, self.config, self.repo, self.state = deps, config, repo, state
        self.now, self.memo = now, memo
        self.counts: dict[str, int] = {}
        self.ready: dict[int, PullFacts] = {}

    def count(self, word: str, n: int = 1) -> None:
        self.counts[word] = self.counts.get(word, 0) + n

    def base(self, base: str, ready: list[PullFacts]) -> None:
        key = trains.key(self.repo.key, base)
        self.ready = {f.pr.number: f for f in ready}
        train = self.state.trains.get(key)
        if train is None:
            self._start(key, base, ready)
        elif not train.head_sha:
            self._build(key, train)  # recorded, its build killed: again, under its number
        else:
            self._judge(key, train)
        for facts in ready:  # the base's other green PRs wait for the next train
            if not self._riding(key, facts.pr.number) and facts.pr.number in self.ready:
                self.count("train_wait")

    def _riding(self, key: str, number: int) -> bool:
        train = self.state.trains.get(key)
        return train is not None and number in (*train.numbers, *(c.number for c in train.waiting))

    # -- forming and building ----------------------------------------------------------------------
    def _start(self, key: str, base: str, ready: list[PullFacts]) -> None:
        held = self._held(key)
        if held or len(ready) < MIN_CARS:
            if held and len(ready) >= MIN_CARS:
                self._say_unavailable(key, held)
            self._one_by_one(ready)
            return
        cars = order([_car(f) for f in ready])
        train = Train(self.state.number(), base, "", cars)
        self.state.trains[key] = train
        self._save()
        self._build(key, train)

    def _build(self, key: str, train: Train) -> None:
        cars = tuple(c for c in train.cars if self._intact(c))
        built = self.deps.worktrees.build_train(
            self.repo.key, self.repo.github, train.base, train.branch, cars
        )
        train = dropped(replace(train, cars=cars), built.conflicted)
        train = replace(
            train,
            base_sha=built.base_sha,
            head_sha=built.head_sha,
            started_at=self.now.isoformat(),
        )
        self.deps.log.info(
            "train.built",
            extra=self._fields(train, left_out=",".join(map(str, built.conflicted)) or None),
        )
        self.count("train_built")
        if not train.cars or (len(train.cars) == 1 and not train.suspect):
            # nothing to test together: what is left merges by itself on a later tick
            self._end(key, train, pushed=bool(built.merged))
            return
        self.state.trains[key] = train
        self._save()

    # -- judging -----------------------------------------------------------------------------------
    def _judge(self, key: str, train: Train) -> None:
        intact = all(self._intact(c) for c in train.cars)
        if not intact and self._landed_already(train):
            self._finish_landing(key, train)
            return
        checks = self.deps.tracker.checks(self.repo.github, train.head_sha)
        age = self.now - datetime.fromisoformat(train.started_at)
        grace = timedelta(minutes=self.config.limits.checks_grace_minutes)
        step = judge(train, checks, intact, ci_overdue=age >= grace)
        if step.move is Move.WAIT and age >= timedelta(hours=self.config.limits.wedged_hours):
            step = TrainStep(Move.ABANDON, "train_wedged")
        if step.move is Move.WAIT:
            self.count("train_wait")
        elif step.move is Move.LAND:
            self._land(key, train)
        elif step.move is Move.BISECT:
            self.deps.log.info("train.bisected", extra=self._fields(train, reason=step.reason))
            self._replace(key, train, halves(replace(train, number=self.state.number())))
        elif step.move is Move.CULPRIT:
            self._culprit(key, train, step)
        else:
            self._abandon(key, train, step.reason)

    def _land(self, key: str, train: Train) -> None:
        for car in train.cars:  # before the push: a kill after it loses no follow-up
            facts = self.ready[car.number]
            discovered.note(self.deps, self.repo, car.issue, car.number, facts.generation, self.now)
        try:
            self.deps.worktrees.land(self.repo.key, train.base, train.head_sha)
        except PushRejected as refused:
            if any(word in refused.reason.lower() for word in MOVED):
                self.deps.log.info("train.rebuilt", extra=self._fields(train, reason="base_moved"))
                rebuilt = replace(train, number=self.state.number(), head_sha="", started_at="")
                self._replace(key, train, rebuilt)
                return
            self._hold(key, f"the base's protection refused the push: {refused.reason}")
            self._end(key, train, pushed=True)
            self._one_by_one([self.ready[c.number] for c in train.cars])
            return
        self._finish_landing(key, train)

    def _finish_landing(self, key: str, train: Train) -> None:
        for car in train.cars:
            noted = car.number in self.ready
            facts = self.ready.get(car.number) or self._merged_facts(car)
            if facts is not None:
                actions.landed(self.deps, facts, train.head_sha, self.now, noted=noted)
                self.ready.pop(car.number, None)
                self.count("merge")
        self.deps.log.info("train.landed", extra=self._fields(train))
        culprit = known_culprit(train)
        if culprit is not None and culprit.number in self.ready:  # no CI needed to know it
            failed = self.deps.tracker.checks(self.repo.github, train.red_sha)
            red = tuple(c for c in failed if c.state is CheckState.FAILURE)
            self._send_back(train, culprit, TrainStep(Move.CULPRIT, "checks_failed", red))
            train = without_culprit(train, culprit)
            following = after(train, self.state.number(), train.head_sha, suspect=False)
        else:
            following = after(train, self.state.number(), train.head_sha)
        self._replace(key, train, following)

    def _culprit(self, key: str, train: Train, step: TrainStep) -> None:
        [car] = train.cars
        self._send_back(train, car, step)
        following = after(train, self.state.number(), train.base_sha, suspect=False)
        self._replace(key, train, following)

    def _send_back(self, train: Train, car: Car, step: TrainStep) -> None:
        """Queue the culprit's fixing round with the red train's failed checks."""
        facts = self.ready.pop(car.number)
        self.deps.log.info("train.culprit", extra=self._fields(train, pr=car.number))
        limits = self.config.limits
        if facts.state.fix_rounds >= limits.max_fix_rounds:
            reason = f"{actions.TRAIN_FAILED}_after_{facts.state.fix_rounds}_fix_rounds"
            actions.escalate(self.deps, facts, reason, self.memo)
        else:
            red = replace(facts, state=replace(facts.state, checks=step.failed))
            detail = "failed on the merge train: " + ", ".join(c.name for c in step.failed)
            actions.fix(self.deps, self.config, red, actions.TRAIN_FAILED, detail, self.now,
                        self.memo)  # fmt: skip
        self.count("fix")

    def _abandon(self, key: str, train: Train, reason: str) -> None:
        self.deps.log.info("train.abandoned", extra=self._fields(train, reason=reason))
        if reason in ("no_ci_on_train", "train_wedged"):
            self._hold(key, "no check reported on the train's branch (CI must run on pushes to "
                       f"{BRANCH_PREFIX}**)" if reason == "no_ci_on_train"
                       else "the train's checks never finished")  # fmt: skip
            self._end(key, train, pushed=True)
            self._one_by_one([self.ready[c.number] for c in train.cars if c.number in self.ready])
            return
        self._end(key, train, pushed=True)  # the cars still green ride the next train

    # -- helpers -----------------------------------------------------------------------------------
    def _replace(self, key: str, old: Train, new: Train | None) -> None:
        """Delete the old train's branch, record the next (or none), and build it."""
        self._delete_branch(old)
        if new is None:
            self.state.trains.pop(key, None)
            self._save()
            return
        new = replace(new, cars=tuple(c for c in new.cars if self._intact(c)))
        self.state.trains[key] = new
        self._save()
        if new.cars:
            self._build(key, new)
        else:
            self.state.trains.pop(key, None)
            self._save()

    def _end(self, key: str, train: Train, *, pushed: bool) -> None:
        if pushed:
            self._delete_branch(train)
        self.state.trains.pop(key, None)
        self._save()

    def _delete_branch(self, train: Train) -> None:
        if not train.head_sha:
            return
        try:
            self.deps.tracker.delete_branch(self.repo.github, train.branch)
        except Unauthorized:
            raise
        except TrackerError as error:  # gone already, or protected: it costs nothing to leave
            self.deps.log.warning(
                "branch.delete_failed", extra={"branch": train.branch, "error": str(error)[:200]}
            )

    def _intact(self, car: Car) -> bool:
        facts = self.ready.get(car.number)
        return facts is not None and facts.pr.head_sha == car.sha

    def _landed_already(self, train: Train) -> bool:
        """A landing killed after its push: the cars missing from the green are merged."""
        missing = [c for c in train.cars if c.number not in self.ready]
        return bool(missing) and all(self._merged_facts(c) is not None for c in missing)

    def _merged_facts(self, car: Car) -> PullFacts | None:
        pr = self.deps.tracker.pull(self.repo.github, car.number)
        if not pr.merged:
            return None
        return gather(self.deps, self.config, self.repo, pr, car.issue, self.now, self.memo)

    def _one_by_one(self, ready: Sequence[PullFacts]) -> None:
        for facts in ready:
            try:
                actions.merge(self.deps, facts, self.now)
            except Unauthorized:
                raise
            except TrackerError as error:  # this PR is tried again next tick
                self.deps.log.warning(
                    "pr.failed",
                    extra={"pr": facts.pr.number, "repo": facts.pr.repo, "error": str(error)[:200]},
                )
                continue
            self.ready.pop(facts.pr.number, None)
            self.count("merge")

    def _held(self, key: str) -> str:
        reason, until = self.state.held.get(key, ("", ""))
        if reason and until and datetime.fromisoformat(until) > self.now:
            return reason
        return ""

    def _hold(self, key: str, reason: str) -> None:
        until = self.now + timedelta(hours=HELD_HOURS)
        self.state.held[key] = (reason, until.isoformat())
        self._save()
        self._say_unavailable(key, reason)

    def _say_unavailable(self, key: str, reason: str) -> None:
        if self.memo.changed("trains", key, reason):
            self.deps.log.warning(
                "train.unavailable", extra={"repo": self.repo.github, "base": key, "reason": reason}
            )

    def _save(self) -> None:
        trains.save(self.config.paths.state_dir, self.state)

    def _fields(self, train: Train, **fields: object) -> dict[str, object]:
        extra = {
            "repo": self.repo.github,
            "base": train.base,
            "train": train.number,
            "prs": ",".join(map(str, train.numbers)),
            "sha": train.head_sha[:12] or None,
        }
        return extra | {k: v for k, v in fields.items() if v is not None}


def _car(facts: PullFacts) -> Car:
    return Car(facts.pr.number, facts.pr.head, facts.pr.head_sha, facts.ref.number)

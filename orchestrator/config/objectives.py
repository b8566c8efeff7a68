"""Read objectives/<repo key>.yaml: what a repo's product is for, how to tell whether the work
moves it forward, and the operator's rules for every agent that works on it (docs/objectives.md).

The files live in `paths.objectives_dir` (by default `objectives/` beside the config), one per
repo key; `example.yaml` is the committed example and is never read as a repo's. A missing file
means no objectives (None); a damaged or invalid one is a ConfigError naming the file, with one
line per problem naming the dotted key and the bad value, as for the config itself. `parse` is
pure; `load_objectives` reads the file. Reading a metric's current value is `improve.metrics`.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.config.files import read_yaml
from orchestrator.config.model import Config
from orchestrator.config.places import resolve
from orchestrator.config.reader import MISSING, Reader, join, show
from orchestrator.errors import ConfigError

VERSION = 1
SUFFIX = ".yaml"
EXAMPLE = "example.yaml"  # the committed example: never a repo's objectives
PRIMARY = "primary"  # the primary outcome's id among the objectives (core.planning's too)
WINDOW_DAYS, MAX_WINDOW_DAYS = 28, 365
MAX_METRICS = 20
MAX_CONSTRAINTS, CONSTRAINT_MAX = 20, 300  # constraints, and characters in each
NAME_MAX, OUTCOME_MAX = 200, 2000  # characters of a name (product, metric), of the outcome
MAX_WEIGHT = 1000.0
TIMEOUT, MAX_TIMEOUT = 10.0, 600.0  # a command source's seconds
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_KEYS = (
    "version",
    "repo",
    "product_name",
    "primary_outcome",
    "evaluation_window_days",
    "metrics",
    "constraints",
)
_METRIC_KEYS = ("id", "name", "weight", "direction", "source")


class Direction(enum.StrEnum):
    """Which way a metric is better."""

    INCREASE = "increase"
    DECREASE = "decrease"


class MetricSourceType(enum.StrEnum):
    FILE = "file"  # a file the app writes: a number, or YAML / JSON with a number under `value`
    COMMAND = "command"  # a program that prints a number
    LEDGER = "ledger"  # a measure of the outcome ledger, over the evaluation window


class LedgerMeasure(enum.StrEnum):
    MERGED_RATE = "merged_rate"  # attempts whose work was merged and not reverted, a share
    LEAD_TIME_HOURS = "lead_time_hours"  # queued -> merged, the median
    COST_PER_MERGED_PR = "cost_per_merged_pr"  # USD the attempts cost, per merge
    CHANGE_FAILURE_RATE = "change_failure_rate"  # merges reverted or followed by an incident
    ESCALATED_SHARE = "escalated_share"  # attempts that ended handing the issue to a person


_SOURCE_KEYS = {
    MetricSourceType.FILE: ("type", "path"),
    MetricSourceType.COMMAND: ("type", "argv", "timeout_seconds"),
    MetricSourceType.LEDGER: ("type", "measure"),
}


@dataclass(frozen=True, slots=True)
class MetricSource:
    """Where a metric's current value comes from; only its type's fields are set."""

    type: MetricSourceType
    path: Path | None = None  # file
    argv: tuple[str, ...] = ()  # command
    timeout_seconds: float = TIMEOUT  # command
    measure: LedgerMeasure | None = None  # ledger


@dataclass(frozen=True, slots=True)
class Metric:
    id: str  # a slug, unique in its file
    name: str
    weight: float  # relative importance, > 0
    direction: Direction
    source: MetricSource


@dataclass(frozen=True, slots=True)
class Objectives:
    """One repo's objectives, as its file says them."""

    source: Path  # the file
    repo: str  # the repo key
    product_name: str
    primary_outcome: str
    evaluation_window_days: int = WINDOW_DAYS
    metrics: tuple[Metric, ...] = ()
    constraints: tuple[str, ...] = ()  # the operator's rules, each one line

    @property
    def ids(self) -> tuple[str, ...]:
        """The objectives' ids: the primary outcome's, then each metric's."""
        return (PRIMARY, *(m.id for m in self.metrics))

    def text(self) -> str:
        """Return the objectives as plain text for a model to plan from (the operator's words)."""
        lines = [
            f"Product: {self.product_name}",
            f"Primary outcome ({PRIMARY}): {self.primary_outcome}",
            f"Evaluation window: {self.evaluation_window_days} days",
        ]
        if self.metrics:
            lines.append("Metrics:")
            lines += [
                f"- {m.id} ({m.direction.value}, weight {m.weight:g}): {m.name}"
                for m in self.metrics
            ]
        if self.constraints:
            lines.append("Constraints:")
            lines += [f"- {c}" for c in self.constraints]
        return "\n".join(lines)


# -- reading the files (the edge) ---------------------------------------------------------------
def objectives_dir(config: Config) -> Path:
    """Return the folder of the objectives files: `paths.objectives_dir`, else beside the config."""
    return config.paths.objectives_dir or config.source.parent / "objectives"


def objectives_file(config: Config, repo_key: str) -> Path:
    return objectives_dir(config) / f"{repo_key}{SUFFIX}"


def load_objectives(config: Config, repo_key: str) -> Objectives | None:
    """Return the repo's objectives, None when it has no file; ConfigError when it is invalid."""
    file = objectives_file(config, repo_key)
    if not os.path.lexists(file):  # a dangling link is a file someone meant: read_yaml says so
        return None
    keys = [repo.key for repo in config.repos]
    return parse(read_yaml(file), file, repo_key, keys, config.source.parent)


def constraints_for(config: Config, repo_key: str) -> tuple[str, ...]:
    """Return the operator's rules for the repo's agents (none without objectives)."""
    found = load_objectives(config, repo_key)
    return found.constraints if found is not None else ()


def problems(config: Config) -> list[str]:
    """Return every problem of the objectives folder's files, one line each, naming the file.

    `bin/agentos check` prints them. A `.yml` file is never read, so it is a problem too.
    """
    folder = objectives_dir(config)
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        return [f"{folder}: cannot be read: {exc.strerror or exc}"]
    keys = [repo.key for repo in config.repos]
    found: list[str] = []
    for name in names:
        file = folder / name
        if name.endswith(".yml"):
            found.append(f"{file}: is never read (name it {name[:-4]}{SUFFIX})")
        elif name.endswith(SUFFIX) and name != EXAMPLE:
            try:
                parse(read_yaml(file), file, name[: -len(SUFFIX)], keys, config.source.parent)
            except ConfigError as exc:
                found += [f"{exc.source}: {p}" for p in exc.problems]
    return found


# -- parsing (pure) -----------------------------------------------------------------------------
def parse(
    raw: Mapping[str, Any], file: Path, repo_key: str, repo_keys: Collection[str], base: Path
) -> Objectives:
    """Return the objectives a parsed file holds, or raise one ConfigError listing every problem.

    `repo_key` is the file's (its name), `repo_keys` the config's; a relative path in a file
    source is relative to `base`, the config's folder.
    """
    r = Reader({}, need_secrets=False)
    node = r.mapping(dict(raw), "", _KEYS)
    _version(r, node)
    objectives = Objectives(
        source=file,
        repo=_repo(r, node, repo_key, repo_keys),
        product_name=_text(r, node, "product_name", "", NAME_MAX),
        primary_outcome=_text(r, node, "primary_outcome", "", OUTCOME_MAX, one_line=False),
        evaluation_window_days=r.integer(
            node, "evaluation_window_days", "", default=WINDOW_DAYS, maximum=MAX_WINDOW_DAYS
        ),
        metrics=_metrics(r, node.get("metrics"), base),
        constraints=_constraints(r, node.get("constraints")),
    )
    if r.problems:
        raise ConfigError(str(file), r.report())
    return objectives


def _version(r: Reader, node: Mapping[str, Any]) -> None:
    value = node.get("version", MISSING)
    if value is MISSING:
        r.fail("version", f"is required (expected {VERSION})")
    elif isinstance(value, bool) or value != VERSION:
        r.fail("version", f"expected {VERSION}, got {show(value)}")


def _repo(r: Reader, node: Mapping[str, Any], repo_key: str, repo_keys: Collection[str]) -> str:
    repo: str = r.string(node, "repo", "")
    if repo and repo != repo_key:
        r.fail("repo", f"expected {repo_key!r} (the file's name), got {show(repo)}")
    elif repo and repo not in repo_keys:
        known = ", ".join(sorted(repo_keys)) or "none"
        r.fail("repo", f"expected a key of repos in the config ({known}), got {show(repo)}")
    return repo


def _text(
    r: Reader, node: Mapping[str, Any], key: str, path: str, limit: int, *, one_line: bool = True
) -> str:
    """Return a required non-empty text of at most `limit` characters (one line: spaces joined)."""
    value: str = r.string(node, key, path)
    text = " ".join(value.split()) if one_line else value.strip()
    if len(text) > limit:
        r.fail(join(path, key), f"expected at most {limit} characters, got {len(text)}")
    return text


def _metrics(r: Reader, value: Any, base: Path) -> tuple[Metric, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.fail("metrics", f"expected a list of metrics, got {show(value)}")
        return ()
    if len(value) > MAX_METRICS:
        r.fail("metrics", f"expected at most {MAX_METRICS} metrics, got {len(value)}")
        return ()
    found: list[Metric] = []
    first: dict[str, int] = {}
    for i, item in enumerate(value):
        metric = _metric(r, item, f"metrics[{i}]", base)
        if metric is not None and metric.id in first:
            r.fail(
                f"metrics[{i}].id", f"duplicate id {show(metric.id)} (metrics[{first[metric.id]}])"
            )
        elif metric is not None:
            first[metric.id] = i
            found.append(metric)
    return tuple(found)


def _metric(r: Reader, item: Any, path: str, base: Path) -> Metric | None:
    if not isinstance(item, dict):
        r.fail(path, f"expected a mapping of {', '.join(_METRIC_KEYS)}, got {show(item)}")
        return None
    before = _count(r)
    node = r.mapping(item, path, _METRIC_KEYS)
    ident = r.string(node, "id", path)
    if ident and (not _SLUG.fullmatch(ident) or ident == PRIMARY):
        r.fail(
            join(path, "id"),
            f"expected a slug (a-z, 0-9, '-', '_'; at most 64; not {PRIMARY!r}), got {show(ident)}",
        )
    name = _text(r, node, "name", path, NAME_MAX)
    if "weight" not in node:
        r.fail(join(path, "weight"), "is required (a number > 0)")
    weight = r.number(node, "weight", path, 1.0, maximum=MAX_WEIGHT)
    direction = r.choice(node, "direction", path, Direction, MISSING)
    source = _source(r, node.get("source", MISSING), join(path, "source"), base)
    if _count(r) != before or source is None:
        return None
    return Metric(ident, name, weight, direction, source)


def _count(r: Reader) -> int:
    return len(r.problems) + r.unlisted


def _source(r: Reader, value: Any, path: str, base: Path) -> MetricSource | None:
    types = " | ".join(t.value for t in MetricSourceType)
    if value is MISSING:
        r.fail(path, f"is required (a mapping with type: {types})")
        return None
    if not isinstance(value, dict):
        r.fail(path, f"expected a mapping with type: {types}, got {show(value)}")
        return None
    kind = r.choice(value, "type", path, MetricSourceType, MISSING)
    if kind is None:
        return None
    node = r.mapping(value, path, _SOURCE_KEYS[kind])
    if kind is MetricSourceType.FILE:
        file = _path(r, node, path, base)
        return None if file is None else MetricSource(kind, path=file)
    if kind is MetricSourceType.COMMAND:
        argv = _argv(r, node.get("argv", MISSING), join(path, "argv"))
        timeout = r.number(node, "timeout_seconds", path, TIMEOUT, maximum=MAX_TIMEOUT)
        return MetricSource(kind, argv=argv, timeout_seconds=timeout) if argv else None
    measure = r.choice(node, "measure", path, LedgerMeasure, MISSING)
    return None if measure is None else MetricSource(kind, measure=measure)


def _path(r: Reader, node: Mapping[str, Any], path: str, base: Path) -> Path | None:
    text: str = r.string(node, "path", path)
    if not text:
        return None
    if "\0" in text:
        r.fail(join(path, "path"), f"expected a path, got {show(text)} (it holds a NUL character)")
        return None
    try:
        return resolve(base, text)
    except RuntimeError:  # `~someone` for a user this system does not have
        r.fail(join(path, "path"), f"expected a path, got {show(text)} (no such user's home)")
        return None


def _argv(r: Reader, value: Any, path: str) -> tuple[str, ...]:
    if value is MISSING:
        r.fail(path, "is required (a list of words, the program first)")
        return ()
    words_ok = isinstance(value, list) and all(isinstance(w, str) and w for w in value)
    if not words_ok or not value or "\0" in "".join(value) or not value[0].strip():
        r.fail(path, f"expected a list of words, the program first, got {show(value)}")
        return ()
    return tuple(value)


def _constraints(r: Reader, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.fail("constraints", f"expected a list of short rules, got {show(value)}")
        return ()
    if len(value) > MAX_CONSTRAINTS:
        r.fail("constraints", f"expected at most {MAX_CONSTRAINTS} rules, got {len(value)}")
        return ()
    found: list[str] = []
    for i, item in enumerate(value):
        text = " ".join(item.split()) if isinstance(item, str) else ""
        if not text:
            r.fail(f"constraints[{i}]", f"expected a non-empty string, got {show(item)}")
        elif len(text) > CONSTRAINT_MAX:
            r.fail(
                f"constraints[{i}]",
                f"expected at most {CONSTRAINT_MAX} characters, got {len(text)}: {show(text)}",
            )
        else:
            found.append(text)
    return tuple(found)

"""The merge trains on their way, one per repo and base (`runtime/state/trains.json`).

Written atomically before each step's effect can be lost: a train is recorded before its branch
is built (so a killed build is rebuilt under the same number), and replaced or removed after it
lands, is bisected or is abandoned. `held` remembers, per repo and base, why trains cannot run
there (protection refused the push, no CI on train branches) and until when: one by one until
then. A file that cannot be read is set aside like any damaged state file; the trains it held
are rebuilt from the green PRs on the next tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.core.train import Car, Train
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE_NAME = "trains.json"


@dataclass(slots=True)
class Trains:
    """What the file holds: the next train number, the trains, the bases held back."""

    next_number: int = 1
    trains: dict[str, Train] = field(default_factory=dict)  # "repo_key:base" -> its train
    held: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (reason, until ISO)

    def number(self) -> int:
        """Take the next train number."""
        taken, self.next_number = self.next_number, self.next_number + 1
        return taken


def key(repo_key: str, base: str) -> str:
    return f"{repo_key}:{base}"


def load(state_dir: Path) -> Trains:
    where = state_dir / FILE_NAME
    try:
        return _parse(json.loads(read_state(where)))
    except FileNotFoundError:
        return Trains()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        quarantine.set_aside(where, state_dir.parent, f"unreadable trains ({type(exc).__name__})")
        return Trains()


def save(state_dir: Path, trains: Trains) -> None:
    data = {
        "next_number": trains.next_number,
        "trains": {k: _train(t) for k, t in sorted(trains.trains.items())},
        "held": {k: {"reason": r, "until": u} for k, (r, u) in sorted(trains.held.items())},
    }
    atomic_write(state_dir / FILE_NAME, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _train(train: Train) -> dict[str, Any]:
    return {
        "number": train.number,
        "base": train.base,
        "base_sha": train.base_sha,
        "head_sha": train.head_sha,
        "cars": [_car(c) for c in train.cars],
        "waiting": [_car(c) for c in train.waiting],
        "suspect": train.suspect,
        "started_at": train.started_at,
        "doubt": train.doubt,
        "red_sha": train.red_sha,
    }


def _car(car: Car) -> dict[str, Any]:
    return {"number": car.number, "branch": car.branch, "sha": car.sha, "issue": car.issue}


def _parse(data: Any) -> Trains:
    if not isinstance(data, dict):
        raise ValueError("not a trains file")
    trains = {str(k): _read_train(v) for k, v in dict(data.get("trains") or {}).items()}
    held = {
        str(k): (str(v["reason"]), str(v["until"])) for k, v in dict(data.get("held") or {}).items()
    }
    number = int(data.get("next_number", 1))
    if number < 1:
        raise ValueError("next_number below 1")
    return Trains(max([number, *(t.number + 1 for t in trains.values())]), trains, held)


def _read_train(data: Any) -> Train:
    if not isinstance(data, dict):
        raise TypeError("a train is an object")
    return Train(
        number=int(data["number"]),
        base=str(data["base"]),
        base_sha=str(data["base_sha"]),
        cars=tuple(_read_car(c) for c in data["cars"]),
        head_sha=str(data.get("head_sha") or ""),
        waiting=tuple(_read_car(c) for c in data.get("waiting") or ()),
        suspect=bool(data.get("suspect")),
        started_at=str(data.get("started_at") or ""),
        doubt=int(data.get("doubt") or 0),
        red_sha=str(data.get("red_sha") or ""),
    )


def _read_car(data: Any) -> Car:
    if not isinstance(data, dict):
        raise TypeError("a car is an object")
    return Car(int(data["number"]), str(data["branch"]), str(data["sha"]), int(data["issue"]))

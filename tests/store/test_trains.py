"""The trains file: kept across ticks, and a damaged one set aside, not crashed on."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.train import Car, Train
from orchestrator.store import trains


def test_trains_and_held_bases_survive_a_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    kept = trains.load(state)
    number = kept.number()
    cars = (Car(1, "agent/1-a", "a" * 40, 11), Car(2, "agent/2-b", "b" * 40, 12))
    kept.trains["app:main"] = Train(number, "main", "c" * 40, cars[:1], "d" * 40, cars[1:], True,
                                    "2026-12-03T10:00:00+00:00", 1, "e" * 40)  # fmt: skip
    kept.held["app:dev"] = ("no CI", "2026-12-04T10:00:00+00:00")
    trains.save(state, kept)
    again = trains.load(state)
    assert again.trains == kept.trains and again.held == kept.held
    assert again.number() == number + 1


def test_a_damaged_file_is_set_aside_and_reads_as_no_train(tmp_path: Path) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    (state / "trains.json").write_text('{"trains": {"app:main": {"number": "x"}}}')
    assert trains.load(state).trains == {}
    assert not (state / "trains.json").exists()
    assert list((tmp_path / "runtime" / "quarantine").iterdir())


def test_the_next_number_never_reuses_a_recorded_trains(tmp_path: Path) -> None:
    """A file whose counter went back (edited by hand) still numbers after its trains."""
    (tmp_path / "trains.json").write_text(
        '{"next_number": 1, "trains": {"app:main": {"number": 5, "base": "main",'
        ' "base_sha": "x", "cars": []}}}'
    )
    assert trains.load(tmp_path).number() == 6

"""The CPU-run records of ``anatomy_lib/results`` agree with themselves and with what ships.

Each ``cpu_runs_session*.json`` that judges candidates by a rule keeps each candidate's
checks, whether it passed, and which one was chosen; the newest record that chose a default
must describe the weights that are shipped now, so a record cannot drift from the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anatomy_lib.checkpoints import load_pretrained
from anatomy_lib.models.checkpoints import weights_fingerprint

RESULTS = Path(__file__).resolve().parents[1] / "anatomy_lib" / "results"


def _session(path: Path) -> tuple[int, str]:
    number = re.match(r"cpu_runs_session(\d+)", path.stem)
    return int(number.group(1)), path.stem


RECORDS = sorted(RESULTS.glob("cpu_runs_session*.json"), key=_session)


def _record(path: Path) -> dict:
    return json.loads(path.read_text())


def _judged(record: dict) -> dict[str, dict]:
    """Candidates with rule checks and a verdict."""
    soups = record.get("soups") or {}
    return {k: v for k, v in soups.items() if "rule_checks" in v and v.get("passes") is not None}


def _steps(record: dict) -> list[dict]:
    """The record and each later step inside it (a dict of its own with candidates)."""
    return [record] + [v for v in record.values() if isinstance(v, dict) and "soups" in v]


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_a_candidate_passes_exactly_when_every_check_holds(path):
    for step in _steps(_record(path)):
        for label, soup in _judged(step).items():
            assert soup["passes"] == all(soup["rule_checks"].values()), label
        chosen = step.get("chosen")
        if chosen and chosen != "none":
            assert step["soups"][chosen]["passes"] is True


def test_a_later_step_starts_from_the_model_its_record_chose():
    """A step judged against the model chosen earlier in the same record compares with
    exactly those weights."""
    later = [
        (path.stem, record, step)
        for path in RECORDS
        for record in [_record(path)]
        for step in _steps(record)[1:]
    ]
    assert later
    for stem, record, step in later:
        chosen = record["soups"][record["chosen"]]["weights_sha256"]
        assert step["controls"]["anatomy_medium"]["weights_sha256"] == chosen, stem


def _newest_choice(name: str) -> tuple[str, dict]:
    """The newest record whose chosen candidate was shipped as ``name``."""
    for path in reversed(RECORDS):
        record = _record(path)
        chosen = record.get("chosen")
        shipped = record.get("shipped")
        command = shipped.get("command", "") if isinstance(shipped, dict) else str(shipped or "")
        if chosen and chosen != "none" and f"--average {name}=" in command:
            return path.stem, record["soups"][chosen]
    raise AssertionError(f"no record chose {name}")


@pytest.mark.parametrize("name", ["anatomy_medium", "anatomy_medium_causal"])
def test_the_newest_chosen_candidate_is_the_shipped_model(name):
    stem, soup = _newest_choice(name)
    assert weights_fingerprint(load_pretrained(name)) == soup["weights_sha256"], stem

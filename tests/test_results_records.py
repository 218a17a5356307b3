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


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_a_candidate_passes_exactly_when_every_check_holds(path):
    record = _record(path)
    for label, soup in _judged(record).items():
        assert soup["passes"] == all(soup["rule_checks"].values()), label
    chosen = record.get("chosen")
    if chosen and chosen != "none":
        assert record["soups"][chosen]["passes"] is True


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

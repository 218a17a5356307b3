"""``benchmarks/roll_views.py``: how a turned-view measurement is compared and judged."""

from __future__ import annotations

import argparse

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("roll_views")


def test_versus_plain_takes_views_minus_plain_and_finds_the_worst_split(bench):
    change = bench.versus_plain(
        45.0, 44.8, {"a": 60.0, "b": 70.0, "c": 80.0}, {"a": 59.7, "b": 70.3, "c": 79.7}
    )
    assert change["validation_person_mm"] == pytest.approx(-0.2)
    assert change["engine_mean_p1_mm"] == pytest.approx(-0.1)
    assert change["engine_worst_split"] == "b"
    assert change["engine_worst_p1_mm"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    "person, mean, worst, verdict",
    [
        (-0.10, -0.10, 0.20, "passes"),  # every threshold met exactly
        (-0.09, -0.30, 0.00, "fails"),  # her gain too small
        (-0.30, -0.09, 0.00, "fails"),  # the engine's mean gain too small
        (-0.30, -0.30, 0.21, "fails"),  # one split lost too much
    ],
)
def test_rule_verdict_needs_every_threshold(bench, person, mean, worst, verdict):
    change = {
        "validation_person_mm": person,
        "engine_mean_p1_mm": mean,
        "engine_worst_p1_mm": worst,
    }
    assert bench.rule_verdict(change, 6.0) == verdict
    assert bench.rule_verdict(change, 10.0) == "not a candidate"


def test_the_session_39_rule_judges_only_the_angles_named_before_it(bench):
    assert bench.SESSION_39_RULE.angles == (3.0, 6.0)
    assert set(bench.SESSION_39_RULE.angles) <= set(bench.ANGLES)


def test_the_benchmarks_roll_option_takes_degrees_below_45():
    real_data = load_benchmark("real_data")
    assert [real_data.roll_degrees_arg(t) for t in ("0", "6", "44.5")] == [0.0, 6.0, 44.5]
    for bad in ("45", "-1", "nan", "six"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected degrees from 0 to below"):
            real_data.roll_degrees_arg(bad)

"""Seed statistics of the ablation sweep: rows over seeds, paired steps, verdicts."""

from __future__ import annotations

import math
import random

import pytest

from anatomy_lib.results.ablation import (
    metric_value,
    paired_step,
    seed_values,
    summarize_row,
    t_interval,
    verdict,
)


def _report(rows: dict[str, dict[int, float]]) -> dict:
    runs = {}
    for variant, by_seed in rows.items():
        for seed, value in by_seed.items():
            runs[f"{variant} | seed {seed}"] = {
                "variant": variant,
                "seed": seed,
                "results": {"validation": {"p1": value}},
            }
    return {"runs": runs}


def test_row_summary_is_the_mean_and_sample_std_over_seeds():
    report = _report({"a": {2: 103.0, 0: 101.0, 1: 105.0}, "b": {0: 99.0}})
    row = summarize_row(report, "a", "validation.p1")
    assert row.seeds == (0, 1, 2) and row.values == (101.0, 105.0, 103.0)
    assert row.mean == pytest.approx(103.0) and row.std == pytest.approx(2.0)
    assert math.isnan(summarize_row(report, "b", "validation.p1").std)
    with pytest.raises(KeyError, match="no run of 'c'"):
        summarize_row(report, "c", "validation.p1")


def test_metric_paths_name_what_is_missing():
    run = _report({"a": {0: 1.0}})["runs"]["a | seed 0"]
    assert metric_value(run, "validation.p1") == 1.0
    with pytest.raises(KeyError, match=r"no 'p9'.*\['p1'\]"):
        metric_value(run, "validation.p9")


def test_steps_are_paired_by_seed():
    # A large seed effect shared by both rows cancels in the paired step.
    offsets = {0: 0.0, 1: 10.0, 2: -7.0, 3: 3.0}
    report = _report(
        {
            "a": {s: 100.0 + o for s, o in offsets.items()},
            "b": {s: 98.0 + o + 0.1 * s for s, o in offsets.items() if s != 3},
        }
    )
    step = paired_step(report, "a", "b", "validation.p1", paper=-1.0)
    assert step.seeds == (0, 1, 2)  # only the seeds both rows ran
    assert step.differences == pytest.approx((-2.0, -1.9, -1.8))
    assert step.mean == pytest.approx(-1.9)
    assert step.ci_low < step.mean < step.ci_high < 0
    assert step.verdict == "reproduces"
    assert paired_step(report, "a", "b", "validation.p1", paper=+0.5).verdict == "reverses"
    assert seed_values(report, "b", "validation.p1") == pytest.approx({0: 98.0, 1: 108.1, 2: 91.2})


def test_the_interval_covers_the_true_step_at_its_confidence():
    rng = random.Random(0)
    trials, covered = 4000, 0
    for _ in range(trials):
        noise = {s: rng.gauss(0, 1) for s in range(3)}
        report = _report(
            {
                "a": {s: 100 + 5 * noise[s] for s in range(3)},  # shared seed effect
                "b": {s: 98.5 + 5 * noise[s] + rng.gauss(0, 1) for s in range(3)},
            }
        )
        step = paired_step(report, "a", "b", "validation.p1", confidence=0.9)
        covered += step.ci_low <= -1.5 <= step.ci_high
    assert abs(covered / trials - 0.9) < 0.02


def test_interval_width_follows_the_t_quantile():
    report = _report({"a": {0: 0.0, 1: 0.0, 2: 0.0}, "b": {0: 1.0, 1: 2.0, 2: 3.0}})
    step = paired_step(report, "a", "b", "validation.p1")
    # n = 3, sd = 1: half width t(0.975, 2) / sqrt(3), t(0.975, 2) = 4.3027 (t tables).
    assert (step.ci_high - step.ci_low) / 2 == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    single = paired_step(_report({"a": {0: 1.0}, "b": {0: 2.0}}), "a", "b", "validation.p1", 1.0)
    assert math.isnan(single.ci_low) and single.verdict == "unresolved"


@pytest.mark.parametrize(
    ("low", "high", "paper", "expected"),
    [
        (-3.0, -1.0, -0.5, "reproduces"),
        (1.0, 3.0, 0.7, "reproduces"),
        (1.0, 3.0, -0.5, "reverses"),
        (-3.0, -1.0, 0.2, "reverses"),
        (-1.0, 2.0, -0.5, "unresolved"),
        (-3.0, -1.0, None, "unresolved"),
        (-3.0, -1.0, 0.0, "unresolved"),
    ],
)
def test_verdicts(low, high, paper, expected):
    assert verdict(low, high, paper) == expected


def test_bad_confidence_and_disjoint_rows_are_refused():
    report = _report({"a": {0: 1.0}, "b": {1: 2.0}})
    with pytest.raises(ValueError, match="share no seed"):
        paired_step(report, "a", "b", "validation.p1")
    with pytest.raises(ValueError, match=r"confidence: expected a value in \(0, 1\)"):
        paired_step(report, "a", "a", "validation.p1", confidence=95)


def test_shipped_engine_sweep_is_what_the_script_configures():
    """Every variant of the sweep script has at least three seeds in the shipped JSON, and
    each run's configuration is exactly the one the script builds for it today."""
    import sys
    from pathlib import Path

    from anatomy_lib.results import load_result
    from anatomy_lib.training.config import ExperimentConfig

    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "scripts"), str(root / "benchmarks")]
    try:
        import reproduce_table4 as sweep
    finally:
        del sys.path[:2]
    report = load_result("table4_engine")
    assert "NOT Human3.6M" in report["warning"] and report["size"] == "small-engine"
    for key, run in report["runs"].items():
        assert key == sweep.run_key(run["variant"], run["seed"])
        expected = sweep.experiment_of(run["variant"], "small-engine", run["seed"], [])
        # Read by today's code (settings added since then take their defaults, which are
        # what the runs used), the stored configuration is the one the script builds.
        stored = ExperimentConfig.from_dict(run["experiment"])
        assert stored.to_dict() == expected.to_dict(), key
        assert len(run["git_commit"]) == 40 and run["wall_time_s"] > 0
        for split in ("validation", "embedded_test"):
            assert run["results"][split]["p2"] <= run["results"][split]["p1"]
        assert run["results"]["pose2sim"]["p_mpjpe_15"] > 0
    for variant in sweep.VARIANTS:
        assert len(seed_values(report, variant, "validation.p1")) >= 3, variant


def test_t_interval_of_plain_values():
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and (high - low) / 2 == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    assert low < mean < high and mean - low == pytest.approx(high - mean)
    only = t_interval([5.0])
    assert only[0] == 5.0 and math.isnan(only[1]) and math.isnan(only[2])
    with pytest.raises(ValueError, match="at least one"):
        t_interval([])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.0)

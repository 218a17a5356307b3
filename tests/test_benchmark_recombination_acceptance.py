"""``benchmarks/recombination_acceptance.py``: its windows and its count per attempt."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.data.bodies import sample_bone_lengths
from anatomy_lib.data.joint_limits import within_limits
from anatomy_lib.data.pose_recombination import RecombinationConfig, limbs_clear_of_body
from anatomy_lib.skeleton import H36M_17


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("recombination_acceptance")


@pytest.fixture(scope="module")
def windows(bench):
    return bench.training_windows(12, seed=3)


def test_windows_are_engine_motion_on_training_bodies(bench, windows):
    assert windows.shape == (12, 128, 17, 3)
    lengths = joints_to_bones(windows, H36M_17).lengths  # (N, T, B)
    # each window keeps one body; its lengths lie within the training bodies' range
    assert float((lengths - lengths[:, :1]).abs().amax()) < 1e-4
    table = sample_bone_lengths(512, torch.Generator().manual_seed(0))
    assert (lengths[:, 0] < 1.3 * table.amax(0)).all() and (
        lengths[:, 0] > 0.7 * table.amin(0)
    ).all()


def test_unchanged_windows_are_counted_once_at_the_first_attempt(bench, windows):
    # no crossover, no mutation: every candidate is its input, so the first attempt accepts
    # exactly the windows that pass the checks as they are, and retries add nothing
    valid = (limbs_clear_of_body(windows) & within_limits(windows)).all(-1)
    config = RecombinationConfig(crossover_probability=0.0, mutation_std_deg=0.0, retries=2)
    fractions = bench.accepted_by_attempt(bench.recombine_checked(windows, config, seed=0), 3)
    assert fractions == [float(valid.float().mean()), 0.0, 0.0]


def test_a_large_mutation_is_rarely_accepted_unless_retries_shrink_it(bench, windows):
    big = RecombinationConfig(mutation_std_deg=40.0)
    halving = RecombinationConfig(mutation_std_deg=40.0, retry_mutation_scale=0.02)
    same = bench.accepted_by_attempt(bench.recombine_checked(windows, big, seed=0), 3)
    shrunk = bench.accepted_by_attempt(bench.recombine_checked(windows, halving, seed=0), 3)
    assert same[0] == shrunk[0]  # the same first attempt
    assert sum(same) <= 0.25 and sum(shrunk) >= 0.5 and 0.0 <= sum(shrunk) <= 1.0


def test_groups_changed_counts_the_kept_groups(bench, windows):
    # every group crossed over, nothing mutated: an accepted window changed all 5 groups
    crossed = RecombinationConfig(crossover_probability=1.0, mutation_std_deg=0.0)
    result = bench.recombine_checked(windows, crossed, seed=0)
    accepted = sum(bench.accepted_by_attempt(result, 3))
    assert bench.groups_changed(result) == pytest.approx(5 * accepted)
    still = RecombinationConfig(crossover_probability=0.0, mutation_std_deg=0.0)
    assert bench.groups_changed(bench.recombine_checked(windows, still, seed=0)) == 0.0
    # a large mutation: per-group rejection keeps more of it than whole-window rejection
    big = RecombinationConfig(mutation_std_deg=20.0)
    grouped = RecombinationConfig(mutation_std_deg=20.0, rejection="group")
    assert bench.groups_changed(bench.recombine_checked(windows, grouped, seed=0)) > (
        bench.groups_changed(bench.recombine_checked(windows, big, seed=0))
    )

"""``benchmarks/stature.py``: its rows behave as their definitions say."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark, random_poses


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("stature")


def _videos(seed: int) -> list[torch.Tensor]:
    return [random_poses(batch=(t,), seed=seed + t) for t in (4, 7)]


def test_a_prediction_too_large_by_one_factor_is_fixed_by_either_scaling(bench):
    targets = _videos(1)
    rows = bench.scaling_rows([1.2 * t for t in targets], targets)
    assert rows["as_lifted"] > 10
    assert rows["scaled_to_stature"] == pytest.approx(0, abs=1e-6)
    assert rows["best_scale"] == pytest.approx(0, abs=1e-6)
    assert rows["height_error"]["mean_abs_percent"] == pytest.approx(20.0)
    assert rows["videos"] == 2


def test_errors_are_over_the_joints_asked_for(bench):
    targets = _videos(2)
    noisy = [t + 0.05 * torch.randn(t.shape, generator=torch.Generator().manual_seed(3),
                                     dtype=t.dtype) for t in targets]  # fmt: skip
    pairs = zip(noisy, targets, strict=True)
    errors = [(p - p[:, :1] - (t - t[:, :1])).norm(dim=-1) for p, t in pairs]
    expected = sum(1000 * float(e[:, [1, 2]].mean()) for e in errors) / len(errors)
    assert bench.scaling_rows(noisy, targets, [1, 2])["as_lifted"] == pytest.approx(
        expected, abs=0.006
    )

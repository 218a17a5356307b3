"""``benchmarks/prediction_ensemble.py``: the mean of several models' predictions."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.metrics import mpjpe


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("prediction_ensemble")


def test_mean_of_predictions_is_per_video_and_never_worse_than_the_members_on_average(bench):
    targets = [random_poses(batch=(t,), seed=t) for t in (6, 11)]
    models = [[t + 0.05 * random_poses(batch=t.shape[:1], seed=10 * m + i) for i, t in
               enumerate(targets)] for m in range(3)]  # fmt: skip
    mean = bench.mean_predictions(models)
    assert [m.shape for m in mean] == [t.shape for t in targets]
    for i, m in enumerate(mean):
        torch.testing.assert_close(m, (models[0][i] + models[1][i] + models[2][i]) / 3)
        # The norm is convex: the mean's error is at most the members' mean error, per joint.
        members = torch.stack([mpjpe(p[i], targets[i], reduction="none") for p in models])
        assert bool((mpjpe(m, targets[i], reduction="none") <= members.mean(0) + 1e-12).all())
    # Identical members: the mean is each of them.
    same = bench.mean_predictions([models[0], [p.clone() for p in models[0]]])
    for a, b in zip(same, models[0], strict=True):
        torch.testing.assert_close(a, b)


def test_mean_of_predictions_refuses_mismatched_models(bench):
    a = [torch.zeros(5, 17, 3), torch.zeros(7, 17, 3)]
    with pytest.raises(ValueError, match="at least one"):
        bench.mean_predictions([])
    with pytest.raises(ValueError, match=r"as many videos per model, got \[1, 2\]"):
        bench.mean_predictions([a, a[:1]])
    with pytest.raises(ValueError, match="video 1 has shapes"):
        bench.mean_predictions([a, [a[0], torch.zeros(6, 17, 3)]])

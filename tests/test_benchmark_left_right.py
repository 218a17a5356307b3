"""``benchmarks/left_right_swaps.py``: its truth lines up with the validation videos, and
the library's default finds the simulated detectors' swaps there."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_benchmark

from anatomy_lib.training.engine_data import validation_videos


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("left_right_swaps")


def test_the_default_finds_the_simulated_swaps_of_the_validation_videos(bench):
    data = validation_videos()
    truth = bench.validation_swaps(len(data.sequences))
    assert truth.shape == (len(data.sequences), 128) and truth.sum() > 20
    counts = bench.detection_counts(data, truth, 0.005, causal=False)
    # Every swapped frame is found (a misaligned truth would find almost none), few others.
    assert counts["found"] == counts["swapped"] and counts["missed"] == 0
    assert counts["false"] <= 0.1 * counts["swapped"]
    # Swapped back, exactly the truly swapped frames changed (no false swap in them).
    fixed = bench.swapped_back(data, causal=False)
    changed = np.stack([
        (a.keypoints_2d != b.keypoints_2d).any(-1).any(-1).numpy()
        for a, b in zip(fixed.sequences, data.sequences, strict=True)
    ])  # fmt: skip
    assert (changed & truth).sum() == truth.sum()
    assert (changed & ~truth).sum() == counts["false"]

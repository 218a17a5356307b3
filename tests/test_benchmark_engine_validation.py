"""``benchmarks/engine_validation.py``: its joint groups and their errors."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.skeleton import H36M_17


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("engine_validation")


def test_joint_groups_cover_every_joint_but_the_root_once(bench):
    groups = bench.joint_groups(H36M_17)
    every = sorted(groups["limbs"] + groups["marker"])
    assert every == [j for j in range(H36M_17.num_joints) if j != H36M_17.root]
    names = {H36M_17.joint_names[j] for j in groups["marker"]}
    assert names == {"spine", "thorax", "neck_nose", "head"}


def test_group_errors_put_each_error_in_its_group(bench):
    targets = [random_poses(batch=(t,), seed=t) for t in (5, 9)]
    marker = bench.joint_groups(H36M_17)["marker"]
    moved = []
    for t in targets:
        p = t.clone()
        p[:, marker, 1] += 0.03  # 30 mm on the marker joints only
        moved.append(p)
    errors = bench.group_errors(moved, targets)
    assert errors["limbs"] == 0.0 and errors["marker"] == pytest.approx(30.0, abs=0.05)
    # Frames weigh equally: a 10 mm error on the 9 frames of the second video only.
    shifted = [targets[0].clone(), targets[1] + torch.tensor([0.01, 0.0, 0.0])]
    errors = bench.group_errors(shifted, targets)
    assert errors["limbs"] == pytest.approx(10.0 * 9 / 14, abs=0.05)


def test_paired_videos_pairs_each_video_with_itself(bench):
    first = [60.0, 70.0, 80.0, 90.0]
    other = [59.0, 69.5, 78.0, 90.5]  # a large spread between videos, a small paired one
    out = bench.paired_videos(first, other)
    assert out["mean"] == pytest.approx(-0.75)
    low, high = out["ci95_over_videos"]
    assert low < -0.75 < high and high - low < 5  # unpaired, the spread would be ~25 mm
    assert out["videos_lower"] == "3 of 4"
    assert bench.paired_videos(first, first)["ci95_over_videos"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        bench.paired_videos(first, other[:3])


def test_split_errors_flip_option(bench):
    """``--flip`` reaches the lifting: an ensemble's rows change with the mirror pass, one
    model's (mirrored by default) do not."""
    from anatomy_lib.training.engine_data import validation_videos
    from anatomy_lib.wild import resolve_model

    videos = validation_videos(videos=3)
    pair = resolve_model("anatomy_small+anatomy_small_causal")
    assert bench.split_errors(pair, videos)[0] != bench.split_errors(pair, videos, flip=True)[0]
    single = resolve_model("anatomy_small")
    assert bench.split_errors(single, videos) == bench.split_errors(single, videos, flip=True)

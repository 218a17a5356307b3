"""``benchmarks/error_sources.py``: oracle swaps of bone lengths and directions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.engine_data import validation_videos
from anatomy_lib.wild import resolve_model


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("error_sources")


def _pair(frames: int = 6):
    pred = random_poses(batch=(frames,), seed=1)
    true = random_poses(batch=(frames,), seed=2)
    return pred, true


def _relative(x: torch.Tensor) -> torch.Tensor:
    return x - x[..., :1, :]


def test_nothing_swapped_is_the_prediction_and_everything_swapped_is_the_truth(bench):
    pred, true = _pair()
    torch.testing.assert_close(bench.with_true_parts(pred, true), _relative(pred))
    everything = bench.with_true_parts(pred, true, lengths="frame", directions="all")
    torch.testing.assert_close(everything, _relative(true))


def _descendants(joint: int) -> set[int]:
    below = {joint}
    for j in range(H36M_17.num_joints):
        k = j
        while k != -1 and k not in below:
            k = H36M_17.parents[k]
        if k in below:
            below.add(j)
    return below


@pytest.mark.parametrize("bone", range(H36M_17.num_bones))
def test_one_true_direction_moves_only_the_joints_below_that_bone(bench, bone):
    pred, true = _pair()
    got = bench.with_true_parts(pred, true, directions=bone)
    below = sorted(_descendants(H36M_17.bone_children[bone]))
    above = [j for j in range(H36M_17.num_joints) if j not in below]
    torch.testing.assert_close(got[:, above], _relative(pred)[:, above])
    assert not torch.allclose(got[:, below], _relative(pred)[:, below])
    bones, p, t = (joints_to_bones(x, H36M_17) for x in (got, pred, true))
    torch.testing.assert_close(bones.directions[:, bone], t.directions[:, bone])
    torch.testing.assert_close(bones.lengths, p.lengths)  # the model's lengths kept


def test_median_lengths_are_one_skeleton_from_the_valid_frames(bench):
    pred, true = _pair(7)
    true[3] = true[3] * 5  # a frame without a reference: not in the median
    valid = torch.ones(7, dtype=torch.bool)
    valid[3] = False
    got = joints_to_bones(bench.with_true_parts(pred, true, "median", valid=valid), H36M_17)
    expected = joints_to_bones(true[valid], H36M_17).lengths.median(0).values
    torch.testing.assert_close(got.lengths, expected.expand(7, -1))
    torch.testing.assert_close(got.directions, joints_to_bones(pred, H36M_17).directions)


def test_true_proportions_keep_the_models_size(bench):
    pred, true = _pair(5)
    got = joints_to_bones(bench.with_true_parts(pred, true, "proportions"), H36M_17)
    model = joints_to_bones(pred, H36M_17).lengths
    torch.testing.assert_close(got.lengths.sum(-1), model.sum(-1))  # the model's size
    skeleton = joints_to_bones(true, H36M_17).lengths.median(0).values
    ratio = got.lengths / skeleton  # the true proportions: one factor per frame
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))


def test_bad_swaps_are_named(bench):
    pred, true = _pair()
    with pytest.raises(
        ValueError, match="lengths: expected 'frame', 'median', 'proportions' or None"
    ):
        bench.with_true_parts(pred, true, lengths="mean")
    with pytest.raises(ValueError, match="directions: expected 'all', a bone index or None"):
        bench.with_true_parts(pred, true, directions="some")


def test_bones_are_named_by_the_joints_they_join(bench):
    names = [bench.bone_name(b) for b in range(H36M_17.num_bones)]
    assert len(set(names)) == H36M_17.num_bones
    assert "right_shoulder>right_elbow" in names and "pelvis>spine" in names


def test_engine_rows_agree_with_the_validation_benchmark(bench):
    """As lifted, the mean P1 over videos is engine_validation's per-video P1 averaged (for a
    model whose root is at the origin, as the Eq. 1 head puts it: the swaps re-assemble from
    there); every swap of the truth's parts lowers it, and the per-bone changes are sorted."""
    model = resolve_model("anatomy_medium")
    videos = validation_videos(videos=2)
    rows = bench.engine_rows(model, videos)
    other = load_benchmark("engine_validation")
    _, per_video = other.split_errors(model, videos, 0.0, None, None)
    assert rows["as_lifted"]["p1"] == pytest.approx(np.mean(per_video), abs=0.006)
    for name in ("true_lengths_per_frame", "true_directions"):
        assert rows[name]["p1"] < rows["as_lifted"]["p1"]
    changes = list(rows["one_true_direction"].values())
    assert len(changes) == H36M_17.num_bones and changes == sorted(changes)
    assert rows["one_true_direction_metric"] == "p1"

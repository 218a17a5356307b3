"""``benchmarks/pull_strengths.py``: the image points its strengths are fitted on."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.camera import project_normalized
from anatomy_lib.data.sequences import PoseDataset
from anatomy_lib.evaluation import is_causal
from anatomy_lib.keypoint_fit import VIDEO_KEYPOINT_PULL
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.engine_data import validation_videos
from anatomy_lib.wild import resolve_model


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("pull_strengths")


@pytest.fixture(scope="module")
def exact_videos() -> PoseDataset:
    """Two engine validation videos whose 2D is the truth's exact pinhole projection."""
    videos = validation_videos(videos=2)
    exact = [
        dataclasses.replace(
            seq, keypoints_2d=project_normalized(seq.joints_3d.double(), seq.camera, False).float()
        )
        for seq in videos
    ]
    return dataclasses.replace(videos, sequences=exact)


def test_exact_detections_are_the_truth_and_earn_the_full_strength(bench, exact_videos):
    model = resolve_model("anatomy_small")
    network, detected, true, scores = bench.image_points(model, exact_videos[0])
    assert network.shape == detected.shape == true.shape and scores.shape == true.shape[:-1]
    torch.testing.assert_close(detected, true, atol=1e-5, rtol=0)
    assert float((network - true).abs().max()) > 1e-3  # the network's 2D is not exact
    estimate = bench.split_estimate(model, exact_videos)
    assert estimate["frames"] == sum(s.num_frames for s in exact_videos)
    root = exact_videos.skeleton.root
    others = [v for j, v in enumerate(estimate["strengths"]) if j != root]
    assert min(others) > 0.99 and estimate["global"] > 0.99
    assert max(estimate["rms_detector"]) < 1e-5 < min(estimate["rms_network"][1:])


def test_the_joint_groups_share_out_every_joint_once(bench):
    grouped = [joint for joints in bench.JOINT_GROUPS.values() for joint in joints]
    assert sorted(grouped) == sorted(H36M_17.joint_names)


@pytest.mark.parametrize("name", ["anatomy_small", "anatomy_small_causal"])
def test_the_default_pull_is_infer_s_for_the_model(bench, name):
    """A non-causal model gets the video path's default pull; a causal one the same strength,
    neither smoothed nor given the video's lengths (predict_sequence refuses those)."""
    model = resolve_model(name)
    strengths = tuple(0.05 * j for j in range(17))
    default, per_joint = bench.default_pulls(model, strengths)
    assert default.strength == VIDEO_KEYPOINT_PULL.strength
    assert per_joint == dataclasses.replace(default, strength=strengths)
    if is_causal(model):
        assert (default.smoothing_s, default.bone_lengths) == (0.0, "frame")
    else:
        assert default == VIDEO_KEYPOINT_PULL

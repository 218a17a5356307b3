"""``benchmarks/keypoint_fit.py`` and its record: the fit to the 2D on validation data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset
from anatomy_lib.keypoint_fit import KeypointFitConfig
from anatomy_lib.results import load_result
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.engine_data import validation_videos
from anatomy_lib.wild import resolve_model


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("keypoint_fit")


@pytest.fixture(scope="module")
def videos():
    return validation_videos(videos=2)


def test_the_truth_as_fitted_scores_zero_and_the_pairing_says_so(bench, videos):
    model = resolve_model("anatomy_small")
    result = evaluate_dataset(
        model, videos, EvaluationConfig(), progress=False, keep_predictions=True
    )
    predictions = [p.double() for p in result.predictions]
    truths = [s.joints_3d_relative.double() for s in videos]
    row = bench.split_row(videos, predictions, truths)
    assert row["fitted"]["p1"] == 0 and row["fitted"]["p1_per_video_mean"] == 0
    _, per_video = load_benchmark("engine_validation").split_errors(model, videos, 0.0, None, None)
    assert row["lifted"]["p1_per_video_mean"] == pytest.approx(np.mean(per_video), abs=0.006)
    assert row["fitted_minus_lifted"]["mean"] == pytest.approx(-np.mean(per_video), abs=0.006)
    assert row["fitted_minus_lifted"]["videos_lower"] == "2 of 2"


def test_fitted_videos_keep_the_models_bone_lengths(bench, videos):
    predictions = [
        random_poses(batch=(s.num_frames,), seed=i) * 0.5 for i, s in enumerate(videos)
    ]  # fmt: skip
    predictions = [p - p[:, :1] for p in predictions]
    config = KeypointFitConfig(iterations=20)
    fitted = bench.fit_videos(predictions, videos, config)
    for p, f in zip(predictions, fitted, strict=True):
        assert float((f - p).abs().max()) > 1e-3
        torch.testing.assert_close(
            joints_to_bones(f, H36M_17).lengths, joints_to_bones(p, H36M_17).lengths
        )


def test_her_lengths_are_the_median_of_the_valid_frames(bench):
    joints = random_poses(batch=(5,), seed=3)
    valid = torch.tensor([True, True, False, True, True])
    joints[2] = joints[2] * 4  # no reference in that frame: not in the median
    seq = PoseSequence(
        subject="p", action="a", keypoints_2d=torch.zeros(5, 17, 2),
        scores=torch.ones(5, 17), joints_3d=joints, skeleton=H36M_17, fps=30.0,
        image_size=(640, 480), valid=valid,
    )  # fmt: skip
    expected = joints_to_bones(joints[valid], H36M_17).lengths.median(0).values
    torch.testing.assert_close(bench.median_lengths(seq), expected)


def test_the_record_chose_the_librarys_prior_weight():
    """The library's default weight is the grid's best on the engine's ``fixed`` split in
    the shipped record, over the rule's whole grid."""
    record = load_result("keypoint_fit")
    grid = record["models"]["anatomy_medium"]["engine"]["prior_weight_grid"]
    assert [float(w) for w in grid] == list(load_benchmark("keypoint_fit").PRIOR_WEIGHT_GRID)
    best = min(grid, key=grid.get)
    assert float(best) == KeypointFitConfig().prior_weight == record["prior_weight_chosen"]


def test_the_records_lifted_rows_agree_with_the_error_sources_record():
    """Two benchmarks lift the default the same way: their 'as lifted' rows agree."""
    fit = load_result("keypoint_fit")["models"]["anatomy_medium"]
    sources = load_result("error_sources")["models"]["anatomy_medium"]
    engine = fit["engine"]["fixed"]["lifted"]["p1_per_video_mean"]
    assert engine == pytest.approx(sources["engine_fixed"]["as_lifted"]["p1"], abs=0.006)
    person = fit["person2"]["lifted"]
    assert person == pytest.approx(sources["person2"]["as_lifted"], abs=0.006)

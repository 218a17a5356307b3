"""Evaluation protocols on tiny synthetic sets whose answers are known."""

from __future__ import annotations

import pytest
import torch
from conftest import random_poses

from anatomy_lib.bones import mirror_joints, swap_left_right
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.evaluation import (
    EvaluationConfig,
    evaluate_dataset,
    predict_sequence,
    score_pck,
    score_predictions,
)
from anatomy_lib.keypoint_fit import KeypointPull, pull_to_keypoints
from anatomy_lib.models import AnatomyModel, ModelConfig, TemporalConvNet
from anatomy_lib.ray_frame import assumed_intrinsics
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17


def _sequence(
    action: str, subject: str, frames: int = 12, seed: int = 0, skeleton=H36M_17, valid=None
):
    joints = random_poses(skeleton, batch=(frames,), seed=seed, dtype=torch.float64)
    joints = joints + torch.tensor([0.0, 0.0, 5.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    return PoseSequence(
        subject=subject,
        action=action,
        keypoints_2d=torch.rand(frames, skeleton.num_joints, 2, generator=g, dtype=torch.float64)
        - 0.5,
        scores=torch.rand(frames, skeleton.num_joints, generator=g, dtype=torch.float64),
        joints_3d=joints,
        skeleton=skeleton,
        fps=50.0,
        image_size=(1000, 1000),
        valid=valid,
    )


SEQS = [
    _sequence("Walking 1", "S9", seed=1),
    _sequence("Walking 2", "S11", seed=2),
    _sequence("Sitting 1", "S9", frames=20, seed=3),
]


def test_perfect_predictions_score_zero():
    result = score_predictions(SEQS, [s.joints_3d_relative for s in SEQS])
    assert result.frames == 44
    assert set(result.tables) == {"p1", "p2", "p3", "mpjve"}
    for protocol, value in result.averages.items():
        assert value == pytest.approx(0.0, abs=1e-6), protocol
    assert list(result.tables["p1"].columns[:2]) == ["Dir.", "Disc."]  # Table 1 layout
    per_column = result.to_dict()["per_column"]["p1"]
    assert per_column["Walk"] == pytest.approx(0.0, abs=1e-6) and per_column["Dir."] is None


def test_known_errors_per_protocol():
    # every joint 10 mm off along x: P1 = 10 mm; the similarity (P2) removes the
    # translation; the velocity error (MPJVE) of a constant offset is zero
    offset = torch.tensor([0.010, 0.0, 0.0], dtype=torch.float64)
    predictions = [s.joints_3d_relative + offset for s in SEQS]
    result = score_predictions(SEQS, predictions)
    assert result.averages["p1"] == pytest.approx(10.0)
    assert result.averages["p2"] == pytest.approx(0.0, abs=1e-5)
    assert result.averages["mpjve"] == pytest.approx(0.0, abs=1e-9)
    # scaled prediction: Protocol 3 undoes the scale, Protocol 1 does not
    scaled = score_predictions(SEQS, [1.1 * s.joints_3d_relative for s in SEQS])
    assert scaled.averages["p3"] == pytest.approx(0.0, abs=1e-6) and scaled.averages["p1"] > 10


def test_action_average_weighs_actions_equally_and_by_subject():
    # 10 mm on Walking (24 frames), 30 mm on Sitting (20 frames): Avg = 20 mm
    preds = [
        s.joints_3d_relative + torch.tensor([0.010 if "Walk" in s.action else 0.030, 0, 0]).double()
        for s in SEQS
    ]
    result = score_predictions(SEQS, preds)
    assert result.averages["p1"] == pytest.approx(20.0)
    by_subject = score_predictions(SEQS, preds, by="subject")
    assert by_subject.tables["p1"].columns == ("S9", "S11")
    s9 = by_subject.to_dict()["per_column"]["p1"]["S9"]
    assert s9 == pytest.approx((12 * 10 + 20 * 30) / 32)


def test_invalid_frames_are_left_out():
    valid = torch.ones(12, dtype=torch.bool)
    valid[:4] = False
    seq = _sequence("Walking 1", "S9", seed=1, valid=valid)
    pred = seq.joints_3d_relative.clone()
    pred[:4] += 1.0  # garbage where the ground truth is invalid
    result = score_predictions([seq], [pred])
    assert result.frames == 8 and result.averages["p1"] == pytest.approx(0.0, abs=1e-6)


def test_pck_auc_mpjpe_known_values():
    seq = _sequence("Seq1", "TS1", skeleton=MPI_INF_3DHP_17, seed=4)
    perfect = score_pck([seq], [seq.joints_3d_relative])
    assert perfect.pck == pytest.approx(100.0) and perfect.mpjpe == pytest.approx(0.0)
    assert perfect.auc == pytest.approx(100.0 * 30 / 31)  # 0 mm is never strictly below 0 mm
    far = score_pck([seq], [seq.joints_3d_relative + torch.tensor([0.2, 0, 0]).double()])
    assert far.pck == 0.0 and far.auc == 0.0 and far.mpjpe == pytest.approx(200.0)


def _tiny_models():
    torch.manual_seed(0)
    anatomy = AnatomyModel(ModelConfig.preset("tiny")).double().eval()
    baseline = TemporalConvNet(ModelConfig.preset("tiny").baseline()).double().eval()
    return {"anatomy": anatomy, "baseline": baseline}


@pytest.mark.parametrize(
    ("kind", "length_frames"),
    [("anatomy", "all"), ("anatomy", 5), ("anatomy", "consecutive"), ("baseline", "all")],
)
def test_flip_tta_is_symmetric(kind, length_frames):
    model = _tiny_models()[kind]
    seq = SEQS[2]
    kp, sc = seq.keypoints_2d, seq.scores
    kp_m, sc_m = mirror_joints(kp, H36M_17), swap_left_right(sc, H36M_17, dim=-1)
    on = EvaluationConfig(flip=True, length_frames=length_frames)
    pred = predict_sequence(model, kp, sc, on)
    torch.testing.assert_close(
        predict_sequence(model, kp_m, sc_m, on), mirror_joints(pred, H36M_17)
    )
    off = EvaluationConfig(flip=False, length_frames=length_frames)
    plain = predict_sequence(model, kp, sc, off)
    assert not torch.allclose(
        predict_sequence(model, kp_m, sc_m, off), mirror_joints(plain, H36M_17)
    )
    # flip TTA is the mean of the plain prediction and the mirrored prediction of the mirror
    mirrored = mirror_joints(predict_sequence(model, kp_m, sc_m, off), H36M_17)
    torch.testing.assert_close(pred, (plain + mirrored) / 2)


def test_evaluate_dataset_matches_scoring_its_predictions():
    model = _tiny_models()["anatomy"]
    cfg = EvaluationConfig(flip=False)
    result = evaluate_dataset(model, SEQS, cfg, progress=False, keep_predictions=True)
    again = score_predictions(SEQS, result.predictions)
    assert result.averages == pytest.approx(again.averages)
    assert result.averages["p1"] > 0


def test_bad_input_raises():
    with pytest.raises(ValueError, match="length_frames"):
        EvaluationConfig(length_frames=0)
    with pytest.raises(ValueError, match="by"):
        EvaluationConfig(by="camera")
    with pytest.raises(ValueError, match="one prediction per sequence"):
        score_predictions(SEQS, [SEQS[0].joints_3d_relative])
    with pytest.raises(ValueError, match="expected a prediction of shape"):
        score_predictions(SEQS[:1], [SEQS[0].joints_3d_relative[:5]])
    with pytest.raises(TypeError, match="a TemporalConvNet or a PredictionEnsemble"):
        predict_sequence(torch.nn.Linear(2, 2), SEQS[0].keypoints_2d)
    other = _sequence("Seq1", "TS1", skeleton=MPI_INF_3DHP_17)
    with pytest.raises(ValueError, match="skeleton"):
        evaluate_dataset(_tiny_models()["baseline"], [other], progress=False)


@pytest.mark.parametrize("visibility", ["attention", "none"])
def test_flip_in_one_pass_equals_two_separate_lifts(visibility):
    """predict_sequence lifts a video and its mirror image in one pass; the same as lifting
    each alone and averaging (the test-time flip of the published code)."""
    from anatomy_lib.models import lift_video

    torch.manual_seed(0)
    model = AnatomyModel(ModelConfig.preset("tiny", visibility=visibility)).double().eval()
    kp = 0.3 * torch.randn(40, 17, 2, dtype=torch.float64)
    sc = torch.rand(40, 17, dtype=torch.float64)
    sk = model.skeleton
    got = predict_sequence(model, kp, sc, EvaluationConfig(flip=True))
    plain = lift_video(model, kp, sc if visibility != "none" else None).joints
    mirrored_scores = swap_left_right(sc, sk, dim=-1) if visibility != "none" else None
    mirrored = lift_video(model, mirror_joints(kp, sk), mirrored_scores).joints
    torch.testing.assert_close(got, (plain + mirror_joints(mirrored, sk)) / 2, atol=1e-12, rtol=0)


def test_keypoint_pull_is_the_library_pull_of_the_lifted_video():
    """EvaluationConfig.keypoint_pull applies pull_to_keypoints to what predict_sequence
    lifts without it, at the video's rate, its seconds turned into frames."""
    model = _tiny_models()["anatomy"]
    seq, rays = SEQS[2], assumed_intrinsics(1000, 1000, dtype=torch.float64)
    kp, sc = 0.2 * seq.keypoints_2d, seq.scores
    plain = predict_sequence(model, kp, sc, EvaluationConfig(), rays)
    for lengths in ("frame", "video"):
        pull = KeypointPull(strength=0.4, smoothing_s=0.06, bone_lengths=lengths)
        config = EvaluationConfig(keypoint_pull=pull)
        pulled = predict_sequence(model, kp, sc, config, rays, fps=50.0)
        by_hand = pull_to_keypoints(plain, kp, sc, rays, 0.4, 3.0, H36M_17, lengths)
        torch.testing.assert_close(pulled, by_hand, atol=1e-12, rtol=0)
        assert float((pulled - plain).abs().max()) > 1e-4
    per_joint = tuple(0.05 * j for j in range(17))  # one strength per joint
    config = EvaluationConfig(keypoint_pull=KeypointPull(per_joint, 0.06, "video"))
    pulled = predict_sequence(model, kp, sc, config, rays, fps=50.0)
    by_hand = pull_to_keypoints(plain, kp, sc, rays, per_joint, 3.0, H36M_17, "video")
    torch.testing.assert_close(pulled, by_hand, atol=1e-12, rtol=0)
    unmoved = EvaluationConfig(keypoint_pull=KeypointPull((0.0,) * 17))  # needs neither K nor fps
    torch.testing.assert_close(predict_sequence(model, kp, sc, unmoved), plain, atol=0, rtol=0)


def test_keypoint_pull_says_what_it_needs():
    model, seq = _tiny_models()["anatomy"], SEQS[0]
    kp, sc, rays = seq.keypoints_2d, seq.scores, assumed_intrinsics(1000, 1000)
    config = EvaluationConfig(keypoint_pull=KeypointPull())
    with pytest.raises(ValueError, match="keypoint_pull needs the camera's normalised intrinsics"):
        predict_sequence(model, kp, sc, config)
    with pytest.raises(ValueError, match="keypoint_pull smoothed over 0.04 s needs the video's"):
        predict_sequence(model, kp, sc, config, rays)
    torch.manual_seed(0)
    causal = AnatomyModel(ModelConfig.preset("tiny").replace(causal=True)).double().eval()
    with pytest.raises(ValueError, match="a causal model's pull is not smoothed"):
        predict_sequence(causal, kp, sc, config, rays, fps=50.0)
    per_video = EvaluationConfig(keypoint_pull=KeypointPull(0.5, 0.0, "video"))
    with pytest.raises(ValueError, match="a causal model's pull keeps each frame's lengths"):
        predict_sequence(causal, kp, sc, per_video, rays)
    unsmoothed = EvaluationConfig(keypoint_pull=KeypointPull(0.5, 0.0, "frame"))
    assert predict_sequence(causal, kp, sc, unsmoothed, rays).shape == (12, 17, 3)
    with pytest.raises(ValueError, match="EvaluationConfig.keypoint_pull: expected None or"):
        EvaluationConfig(keypoint_pull=0.5)

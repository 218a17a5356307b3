"""Stature from a skeleton and 3D scaled to a known height (anatomy_lib.stature)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import random_poses

from anatomy_lib import cli
from anatomy_lib.bones import bones_to_joints, joints_to_bones
from anatomy_lib.data.bodies import load_body_table
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17
from anatomy_lib.stature import (
    STANDING_CHAIN,
    check_stature,
    estimate_stature,
    frame_statures,
    scale_to_stature,
    standing_chain,
    stature_fit,
)
from anatomy_lib.wild import FrameStatus, LiftResult


def _video_of_body(bone_lengths: torch.Tensor, frames: int, seed: int) -> torch.Tensor:
    """``(frames, 17, 3)`` root-relative joints: one body's bones in random directions."""
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(frames, H36M_17.num_bones, 3, generator=g, dtype=bone_lengths.dtype)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    return bones_to_joints(bone_lengths.expand(frames, -1), dirs, H36M_17)


def test_fit_is_least_squares_through_the_origin_on_training_bodies():
    """The ratio equals numpy's least squares on the training rows (a second
    implementation), and the held-out error is what it says."""
    table = load_body_table()
    weights = np.zeros(H36M_17.num_bones)
    for name, w in STANDING_CHAIN.items():
        weights[H36M_17.bone_names.index(name)] = w
    chain = table.bone_lengths.double().numpy() @ weights
    stature = table.stature.double().numpy()
    train = ~table.is_validation.numpy()
    ratio = np.linalg.lstsq(chain[train, None], stature[train], rcond=None)[0][0]
    fit = stature_fit()
    assert fit.ratio == pytest.approx(ratio, rel=1e-12)
    error = ratio * chain[~train] - stature[~train]
    assert fit.validation_rmse_m == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-9)
    assert fit.validation_max_abs_m == pytest.approx(np.abs(error).max(), rel=1e-9)
    assert (fit.train_bodies, fit.validation_bodies) == (int(train.sum()), int((~train).sum()))
    assert fit.validation_rmse_m < 0.01  # within a centimetre on held-out bodies


def test_estimate_does_not_depend_on_pose_and_matches_the_table():
    """A held-out body in random poses: every frame gives the same chain, and the estimate
    is ratio x chain of its table bone lengths (a stature within the fit's error)."""
    table = load_body_table()
    row = int(table.rows("validation")[3])
    lengths = table.bone_lengths[row].double()
    video = _video_of_body(lengths, frames=7, seed=1)
    estimate = estimate_stature(video)
    assert float(estimate) == pytest.approx(stature_fit().ratio * float(standing_chain(lengths)))
    assert abs(float(estimate) - float(table.stature[row])) <= stature_fit().validation_max_abs_m


def test_estimate_is_homogeneous_and_ignores_rotation_and_nan_frames(dtype, device):
    video = random_poses(batch=(5,), seed=2, dtype=dtype).to(device)
    video = video - video[:, :1]
    h = estimate_stature(video)
    assert h.shape == () and h.dtype == dtype and h.device.type == device.type
    torch.testing.assert_close(estimate_stature(2.5 * video), 2.5 * h)
    rotation = torch.linalg.qr(torch.randn(3, 3, dtype=dtype, generator=torch.Generator()))[0]
    torch.testing.assert_close(estimate_stature(video @ rotation.to(device).T), h)
    with_gaps = video.clone()
    with_gaps[[0, 3]] = float("nan")
    torch.testing.assert_close(estimate_stature(with_gaps), estimate_stature(video[[1, 2, 4]]))


def test_scale_to_stature_round_trip_keeps_directions_and_root(dtype, device):
    """Batched: each video's estimate after scaling is its requested height; bone
    directions and the root do not move; NaN frames stay NaN."""
    video = random_poses(batch=(3, 6), seed=3, dtype=dtype).to(device)
    video = video - video[..., :1, :]
    video[1, 2] = float("nan")
    heights = torch.tensor([1.55, 1.72, 1.9], dtype=dtype, device=device)
    scaled = scale_to_stature(video, heights)
    torch.testing.assert_close(estimate_stature(scaled), heights)
    ok = ~video.isnan().any(-1).any(-1)
    assert scaled[~ok].isnan().all()
    before = joints_to_bones(video[ok], H36M_17).directions
    after = joints_to_bones(scaled[ok], H36M_17).directions
    torch.testing.assert_close(after, before)
    assert float(scaled[ok][:, 0].abs().max()) == 0.0
    one = scale_to_stature(video[0], 1.6)  # a plain number for one video
    assert float(estimate_stature(one)) == pytest.approx(1.6, rel=1e-5)


def test_causal_scaling_never_looks_ahead(dtype):
    """Causal: a prefix scaled alone equals the same frames scaled with the whole video, and
    every frame's own stature is the one asked for; the video-wide scaling differs."""
    video = random_poses(batch=(8,), seed=7, dtype=dtype)
    video = video - video[:, :1]
    video[5] = float("nan")
    whole = scale_to_stature(video, 1.7, causal=True)
    prefix = scale_to_stature(video[:4], 1.7, causal=True)
    torch.testing.assert_close(whole[:4], prefix)
    ok = ~video.isnan().any(-1).any(-1)
    heights = frame_statures(whole)[ok]
    torch.testing.assert_close(heights, torch.full_like(heights, 1.7))
    assert not torch.allclose(scale_to_stature(video[:4], 1.7), whole[:4])
    assert whole[5].isnan().all()


def test_scale_to_stature_gradient():
    video = random_poses(batch=(4,), seed=4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: scale_to_stature(x, 1.7), (video,))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: estimate_stature(v[0]), "expected shape"),
        (lambda v: estimate_stature(v[..., :2]), "expected 3 coordinates"),
        (lambda v: estimate_stature(torch.full_like(v, float("nan"))), "every frame has a NaN"),
        (lambda v: estimate_stature(torch.full_like(v, float("inf"))), "infinite"),
        (lambda v: scale_to_stature(v, 0.0), "finite length > 0"),
        (lambda v: scale_to_stature(v, float("nan")), "finite length > 0"),
        (lambda v: standing_chain(v[0, :, 0]), "bone lengths: expected shape"),
        (lambda v: estimate_stature(v, MPI_INF_3DHP_17), "lacks"),
    ],
)
def test_bad_input_is_named(call, message):
    video = random_poses(batch=(3,), seed=5)
    with pytest.raises(ValueError, match=message):
        call(video)


@pytest.mark.parametrize(
    ("value", "message"),
    [(172, "centimetres\\? give metres"), (0.2, "0.5 to 2.5"), (float("nan"), "got nan"),
     (True, "expected a height in metres"), ("1.7", "expected a height in metres")],
)  # fmt: skip
def test_check_stature(value, message):
    with pytest.raises(ValueError, match=message):
        check_stature(value)
    assert check_stature(1.72) == 1.72


def test_lift_result_scaled_to_stature_leaves_missing_frames_and_records_it(tmp_path):
    video = random_poses(batch=(5,), seed=6)
    video = (video - video[:, :1]).numpy()
    status = np.array([0, 1, 2, 0, 0], dtype=np.int8)
    video[status == FrameStatus.MISSING] = np.nan
    result = LiftResult(video, np.zeros((5, 17, 2)), np.ones((5, 17)), status, None,
                        640, 480, 30.0, "test", False)  # fmt: skip
    scaled = result.scaled_to_stature(1.64)
    assert scaled.stature_m == 1.64 and result.stature_m is None
    assert np.isnan(scaled.joints_3d[2]).all()
    valid = torch.from_numpy(scaled.joints_3d[result.valid])
    assert float(estimate_stature(valid)) == pytest.approx(1.64, rel=1e-9)
    (path,) = scaled.save(tmp_path / "out.npz", formats="npz")
    with np.load(path) as f:
        assert json.loads(str(f["meta_json"]))["stature_m"] == 1.64
    with pytest.raises(ValueError, match="centimetres"):
        result.scaled_to_stature(164)
    causal = LiftResult(video, np.zeros((5, 17, 2)), np.ones((5, 17)), status, None,
                        640, 480, 30.0, "test", True).scaled_to_stature(1.64)  # fmt: skip
    statures = frame_statures(torch.from_numpy(causal.joints_3d[result.valid]))
    torch.testing.assert_close(statures, torch.full_like(statures, 1.64))


def test_infer_stature_option(tmp_path, capsys):
    """--stature scales the keypoint file's 3D to that height and says so; without it the
    model's size stays and the meta says null."""
    from test_cli import _trial_keypoint_file

    kp, _ = _trial_keypoint_file(tmp_path, 30)
    lifted = {}
    for name, flags in (("model", []), ("given", ["--stature", "1.58"])):
        out = tmp_path / f"{name}.npz"
        argv = ["infer", "anatomy_small", str(kp), "--out", str(out), "--device", "cpu"]
        assert cli.main([*argv, *flags]) == 0
        said = "3D scaled to a height of 1.58 m (--stature)" in capsys.readouterr().out
        assert said == (name == "given")
        with np.load(out) as f:
            lifted[name] = torch.from_numpy(f["joints_3d"]).double()
            assert json.loads(str(f["meta_json"]))["stature_m"] == (1.58 if flags else None)
    assert float(estimate_stature(lifted["given"])) == pytest.approx(1.58, rel=1e-5)
    factor = 1.58 / float(estimate_stature(lifted["model"]))
    torch.testing.assert_close(lifted["given"], factor * lifted["model"], atol=1e-6, rtol=1e-5)

"""The scoring of ``benchmarks/real_data.py`` is an independent implementation: it must agree
with the library's metrics, invert the camera model, and find a known frame offset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.camera import project
from anatomy_lib.data import load_pose2sim_trial
from anatomy_lib.metrics import mpjpe, p_mpjpe, procrustes_align


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("real_data")


def _poses(seed: int, t: int = 40) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    target = g.normal(size=(t, 17, 3)) * 0.3
    pred = target + g.normal(size=(t, 17, 3)) * 0.08
    return pred, target


def test_fifteen_joints_leave_out_nose_and_head(bench):
    assert bench.JOINTS_15 == (0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_similarity_alignment_matches_the_library(bench, seed):
    pred, target = _poses(seed)
    ours = bench.similarity_align(pred, target)
    lib = procrustes_align(torch.tensor(pred), torch.tensor(target)).aligned.numpy()
    np.testing.assert_allclose(ours, lib, atol=1e-10)


@pytest.mark.parametrize("joints", [None, "15"])
def test_errors_match_the_library_metrics(bench, joints):
    pred, target = _poses(3)
    pred = pred + 0.5  # not root-relative: the MPJPE must subtract the root itself
    sel = bench.JOINTS_15 if joints else None
    ours = bench.pose_errors_mm(pred, target, sel)
    p = torch.tensor(pred - pred[:, :1])
    t = torch.tensor(target - target[:, :1])
    lib_p = 1000 * p_mpjpe(p, t, reduction="none", joints=sel).numpy()
    lib_m = 1000 * mpjpe(p, t, reduction="none", joints=sel).numpy()
    np.testing.assert_allclose(ours["p_mpjpe"], lib_p, atol=1e-8)
    np.testing.assert_allclose(ours["mpjpe"], lib_m, atol=1e-8)
    assert (ours["p_mpjpe"] <= ours["mpjpe"] + 1e-9).all()


def test_p_mpjpe_forgives_similarity_but_not_mirroring(bench):
    _, target = _poses(4, t=5)
    angle = 0.7
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    moved = 1.7 * target @ rot.T + np.array([0.3, -2.0, 4.0])
    assert bench.pose_errors_mm(moved, target)["p_mpjpe"].max() < 1e-9
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    assert bench.pose_errors_mm(mirrored, target)["p_mpjpe"].min() > 1.0


def test_score_cameras_averages_cameras_and_respects_frames(bench):
    pred_a, target_a = _poses(5)
    pred_b, target_b = _poses(6)
    preds, targets = {"a": pred_a, "b": pred_b}, {"a": target_a, "b": target_b}
    row = bench.score_cameras(preds, targets)
    per = row["p_mpjpe_15"]["per_camera"]
    assert row["p_mpjpe_15"]["mean"] == pytest.approx((per["a"] + per["b"]) / 2, abs=0.051)
    assert row["frames_per_camera"] == {"a": 40, "b": 40}
    # NaN outside the scored frames does not leak in.
    pred_a = pred_a.copy()
    pred_a[:10] = np.nan
    sub = bench.score_cameras({"a": pred_a}, {"a": target_a}, {"a": np.arange(10, 40)})
    ref = bench.pose_errors_mm(pred_a[10:], target_a[10:], bench.JOINTS_15)["p_mpjpe"].mean()
    assert sub["p_mpjpe_15"]["mean"] == pytest.approx(ref, abs=0.051)
    assert sub["frames_per_camera"] == {"a": 30}


def test_unprojection_inverts_the_distorted_camera(bench):
    seq = load_pose2sim_trial()[1]
    assert any(abs(k) > 0 for k in seq.camera.radial)  # a real lens model is inverted
    pts = seq.joints_3d[:20].double()
    px = project(pts, seq.camera).numpy()
    back = bench.unproject_at_depth(px, pts[..., 2].numpy(), seq.camera)
    np.testing.assert_allclose(back, pts.numpy(), atol=1e-9)


def test_pose_errors_reject_mismatched_shapes(bench):
    with pytest.raises(ValueError, match=r"expected two \(T, J, 3\) arrays"):
        bench.pose_errors_mm(np.zeros((4, 17, 3)), np.zeros((4, 16, 3)))


def test_frame_offset_recovers_a_known_shift_and_crop(bench):
    g = np.random.default_rng(7)
    t_count = 60
    # A smoothly moving body so that neighbouring frames differ by several pixels.
    base = g.uniform(300, 800, size=(17, 2))
    motion = 40 * np.sin(np.arange(t_count)[:, None, None] / 4.0 + g.uniform(0, 6, (1, 17, 2)))
    op = base + motion
    op_scores = np.ones((t_count, 17))
    k = 1  # video frame v shows trial frame v + 1
    video = np.full_like(op, np.nan)
    video[: t_count - k] = op[k:]
    video = video * np.array([1080 / 1088, 1.0]) - np.array([3.0, 0.0])  # scaled and shifted
    vid_scores = np.where(np.isfinite(video).all(-1), 0.9, 0.0)
    found = bench.offset_distances(np.nan_to_num(video), vid_scores, op, op_scores)
    assert min(found, key=found.get) == k
    assert found[k] < 1e-6 and found[0] > 1.0
    # A frame on another person (far away) is left out of the fit.
    video[10] += 400.0
    found = bench.offset_distances(np.nan_to_num(video), vid_scores, op, op_scores)
    assert found[k] < 1e-6


def test_who_the_detector_followed_tells_swapped_labels_from_another_person(bench):
    truth = load_pose2sim_trial()[0].keypoints_pixels[:4].double().numpy()
    mirror = list(bench.H36M_17.mirror_permutation)
    pixels = truth + 3.0
    pixels[1] = truth[1][mirror]  # the performer, left and right exchanged
    pixels[2] = truth[2] + np.array([300.0, 0.0])  # someone 300 px away
    pixels[3] = (truth[3] + np.array([300.0, 0.0]))[mirror]  # also someone else
    on_person, swapped = bench.person_and_labels(pixels, truth)
    np.testing.assert_array_equal(on_person, [True, True, False, False])
    np.testing.assert_array_equal(swapped, [False, True, False, False])


def test_mean_pose_recovers_a_shape_seen_under_similarities(bench):
    _, target = _poses(8, t=1)
    g = np.random.default_rng(9)
    copies = []
    for _ in range(12):
        q, r = np.linalg.qr(g.normal(size=(3, 3)))
        rot = q * np.sign(np.diag(r))
        rot *= np.sign(np.linalg.det(rot))
        copies.append(g.uniform(0.5, 2.0) * target[0] @ rot.T + g.normal(size=3))
    poses = np.stack(copies)
    mean = bench.mean_pose(poses)
    assert mean.shape == (17, 3) and np.allclose(mean[0], 0.0)
    err = bench.pose_errors_mm(np.broadcast_to(mean, poses.shape), poses)["p_mpjpe"]
    assert err.max() < 1e-6
    # On varied poses it fits at least as well as the plain mean of root-relative poses.
    pred, real = _poses(10)
    plain = (real - real[:, :1]).mean(0)
    fitted = bench.pose_errors_mm(np.broadcast_to(bench.mean_pose(real), real.shape), real)
    naive = bench.pose_errors_mm(np.broadcast_to(plain, real.shape), real)
    assert fitted["p_mpjpe"].mean() <= naive["p_mpjpe"].mean() + 1e-9


def test_unknown_model_exits_with_status_2_and_a_message(bench, capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--model", "no_such_model", "--no-video"])
    assert info.value.code == 2
    assert "no_such_model" in capsys.readouterr().err

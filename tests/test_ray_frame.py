"""The ray frame (anatomy_lib.ray_frame) and the models, samplers and evaluation using it."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import random_poses, standing_pose, tolerance

from anatomy_lib.bones import joints_to_bones, mirror_joints, swap_left_right
from anatomy_lib.camera import Camera, normalize_screen, project_normalized
from anatomy_lib.data.augment import mirror_intrinsics, normalized_intrinsics
from anatomy_lib.data.samplers import SamplerConfig, WindowBatchSampler
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.evaluation import EvaluationConfig, predict_sequence
from anatomy_lib.models import AnatomyModel, ModelConfig
from anatomy_lib.ray_frame import (
    assumed_intrinsics,
    from_ray_frame,
    pixel_rays,
    ray_rotation,
    roll_view,
    rotation_about,
    to_ray_frame,
)
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.config import ExperimentConfig

MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))


def _rays(n: int, dtype, device, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = 0.8 * (2 * torch.rand(n, 2, generator=g, dtype=torch.float64) - 1)
    depth = 2 + 6 * torch.rand(n, 1, generator=g, dtype=torch.float64)
    return (torch.cat([xy, torch.ones(n, 1, dtype=torch.float64)], -1) * depth).to(device, dtype)


def test_ray_rotation_is_a_rotation_that_turns_the_ray_onto_the_axis(dtype, device):
    rays = _rays(50, dtype, device)
    rot = ray_rotation(rays)
    eye = torch.eye(3, dtype=dtype, device=device).expand(50, 3, 3)
    tol = 10 * tolerance(dtype)
    torch.testing.assert_close(rot @ rot.transpose(-1, -2), eye, atol=tol, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rot), torch.ones_like(rays[:, 0]), atol=tol, rtol=0)
    turned = (rot @ rays.unsqueeze(-1)).squeeze(-1)
    axis = torch.zeros_like(rays)
    axis[:, 2] = rays.norm(dim=-1)
    torch.testing.assert_close(turned, axis, atol=10 * tol, rtol=0)
    # The new x axis stays in the camera's x-z plane (no roll about the ray).
    torch.testing.assert_close(rot[:, 0, 1], torch.zeros_like(rays[:, 0]), atol=tol, rtol=0)
    on_axis = torch.tensor([[0.0, 0.0, 3.0]], dtype=dtype, device=device)
    torch.testing.assert_close(ray_rotation(on_axis)[0], eye[0], atol=tol, rtol=0)


def test_to_and_from_the_ray_frame_round_trip_and_keep_bone_lengths(dtype, device):
    joints = random_poses(batch=(6,), dtype=dtype).to(device)
    joints = joints - joints[..., :1, :]
    rays = _rays(6, dtype, device, seed=1)
    turned = to_ray_frame(joints, rays)
    tol = 10 * tolerance(dtype)
    torch.testing.assert_close(from_ray_frame(turned, rays), joints, atol=tol, rtol=0)
    torch.testing.assert_close(
        joints_to_bones(turned, H36M_17).lengths,
        joints_to_bones(joints, H36M_17).lengths,
        atol=tol,
        rtol=0,
    )
    assert (turned - joints).abs().max() > 0.01  # off-axis rays do turn the pose


def test_mirroring_commutes_with_the_ray_frame():
    """R(M r) M X = M R(r) X: flip augmentation and test-time flip need no change."""
    joints = random_poses(batch=(5,), seed=2)
    rays = _rays(5, torch.float64, "cpu", seed=2)
    mirrored = to_ray_frame(joints @ MIRROR, rays @ MIRROR)
    torch.testing.assert_close(mirrored, to_ray_frame(joints, rays) @ MIRROR)


def test_pixel_rays_go_through_the_projected_points():
    camera = Camera("c", 1280, 720, (900.0, 910.0), (600.0, 380.0))
    points = torch.tensor(
        [[0.4, -0.3, 3.0], [-1.0, 0.5, 6.0], [0.0, 0.0, 2.0]], dtype=torch.float64
    )
    screen = project_normalized(points, camera)
    rays = pixel_rays(screen, normalized_intrinsics(camera, dtype=torch.float64))
    torch.testing.assert_close(rays * points[:, 2:], points)


@pytest.mark.parametrize("width, height", [(1920, 1080), (1080, 1920), (1000, 1000)])
def test_assumed_intrinsics_put_the_field_of_view_at_the_long_side_edges(width, height):
    k = assumed_intrinsics(width, height, long_side_fov_deg=60.0, dtype=torch.float64)
    half = math.tan(math.radians(30.0))
    # The image's edge pixels, in pixels, normalised: x = 0 / w (landscape), y = 0 / h
    # (portrait), both for a square image.
    axis = 0 if width >= height else 1
    edges_px = torch.tensor([[width / 2, height / 2]] * 2, dtype=torch.float64)
    edges_px[0, axis], edges_px[1, axis] = 0.0, (width, height)[axis]
    rays = pixel_rays(normalize_screen(edges_px, width, height), k)
    torch.testing.assert_close(rays[:, axis], torch.tensor([-half, half], dtype=torch.float64))
    torch.testing.assert_close(rays[:, 1 - axis], torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="long_side_fov_deg"):
        assumed_intrinsics(width, height, long_side_fov_deg=180.0)


def test_bad_rays_raise():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        ray_rotation(torch.ones(4, 2))
    with pytest.raises(ValueError, match="in front of the camera"):
        ray_rotation(torch.tensor([[0.1, 0.2, -1.0]]))
    with pytest.raises(ValueError, match=r"intrinsics \(\.\.\., 9\)"):
        pixel_rays(torch.zeros(3, 2), torch.ones(4))


def test_rotation_about_is_a_rotation_about_the_axis_by_the_angle(dtype, device):
    axes = _rays(20, dtype, device, seed=1)
    angles = torch.linspace(-1.0, 2.5, 20, dtype=dtype, device=device)
    rot = rotation_about(axes, angles)
    tol = 10 * tolerance(dtype)
    eye = torch.eye(3, dtype=dtype, device=device).expand(20, 3, 3)
    torch.testing.assert_close(rot @ rot.transpose(-1, -2), eye, atol=tol, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rot), torch.ones_like(angles), atol=tol, rtol=0)
    torch.testing.assert_close((rot @ axes.unsqueeze(-1)).squeeze(-1), axes, atol=tol, rtol=tol)
    # The trace of a rotation by theta is 1 + 2 cos(theta); angles add about one axis.
    torch.testing.assert_close(rot.diagonal(dim1=-2, dim2=-1).sum(-1), 1 + 2 * torch.cos(angles))
    half = rotation_about(axes, angles / 2)
    torch.testing.assert_close(half @ half, rot, atol=tol, rtol=0)
    # Right-handed: about z, x turns towards y.
    quarter = rotation_about(torch.tensor([0.0, 0.0, 2.0], dtype=dtype, device=device), math.pi / 2)
    x = torch.tensor([1.0, 0.0, 0.0], dtype=dtype, device=device)
    torch.testing.assert_close(quarter @ x, torch.roll(x, 1), atol=tol, rtol=0)


def test_rotation_about_gradcheck():
    axis = torch.tensor([0.3, -0.5, 2.0], dtype=torch.float64, requires_grad=True)
    angle = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rotation_about, (axis, angle))


def test_roll_view_is_the_projection_of_the_turned_pose(dtype, device):
    camera = Camera("c", 1280, 720, (900.0, 910.0), (600.0, 380.0))
    k = normalized_intrinsics(camera, dtype=dtype).to(device)
    poses = random_poses(batch=(6,), seed=5, dtype=dtype).to(device)
    offset = torch.tensor([0.8, -0.3, 4.5], dtype=dtype, device=device)  # off the optical axis
    joints = 0.5 * (poses - poses[:, :1]) + offset  # (6, 17, 3)
    points = project_normalized(joints, camera, distort=False)
    root_rays = pixel_rays(points[:, 0], k)
    angle = math.radians(12.0)
    turned, rot = roll_view(points, k, root_rays, angle)
    torch.testing.assert_close(rot, rotation_about(root_rays, angle))
    expected = project_normalized(joints @ rot.transpose(-1, -2), camera, distort=False)
    tol = 100 * tolerance(dtype)
    torch.testing.assert_close(turned, expected, atol=tol, rtol=0)
    torch.testing.assert_close(turned[:, 0], points[:, 0], atol=tol, rtol=0)  # the root stays
    back, _ = roll_view(turned, k, pixel_rays(turned[:, 0], k), -angle)
    torch.testing.assert_close(back, points, atol=tol, rtol=0)
    # Positive angles turn the picture clockwise on the screen (y down): right goes down.
    right = points[:, :1] + torch.tensor([0.2, 0.0], dtype=dtype, device=device)
    assert bool((roll_view(right, k, root_rays, angle)[0][..., 1] > right[..., 1]).all())


def _off_centre_sequence(frames: int = 30) -> tuple[PoseSequence, Camera]:
    camera = Camera("c", 1000, 1000, (1100.0, 1100.0), (510.0, 490.0))
    g = torch.Generator().manual_seed(3)
    pose = standing_pose() * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)  # y down
    drift = torch.linspace(0, 1, frames, dtype=torch.float64)[:, None, None]
    joints = (
        pose
        + torch.tensor([1.2, 0.4, 5.0], dtype=torch.float64)
        + drift * torch.tensor([-2.0, 0.3, 1.0], dtype=torch.float64)
    )
    joints = joints + 0.01 * torch.randn(frames, 17, 3, generator=g, dtype=torch.float64)
    seq = PoseSequence(
        "S",
        "walk",
        project_normalized(joints, camera),
        torch.ones(frames, 17, dtype=torch.float64),
        joints,
        H36M_17,
        50.0,
        camera=camera,
    )
    return seq, camera


def test_sampler_targets_in_the_ray_frame():
    seq, _ = _off_centre_sequence()
    cfg = SamplerConfig(9, 4, target_frame="ray")
    ray = WindowBatchSampler([seq], cfg, dtype=torch.float64)
    camera = WindowBatchSampler([seq], SamplerConfig(9, 4), dtype=torch.float64)
    index = (torch.tensor([0, 0, 0]), torch.tensor([0, 11, 29]), torch.tensor([[1, 2, 3, 4]] * 3))
    a, b = ray.gather(*index), camera.gather(*index)
    roots = seq.joints_3d[:, 0]
    torch.testing.assert_close(a.target_3d, to_ray_frame(b.target_3d, roots[[0, 11, 29]]))
    torch.testing.assert_close(
        a.length_target_3d, to_ray_frame(b.length_target_3d, roots[[1, 2, 3, 4]].expand(3, 4, 3))
    )
    torch.testing.assert_close(a.bone_lengths, b.bone_lengths)
    torch.testing.assert_close(a.keypoints_2d, b.keypoints_2d)
    with pytest.raises(ValueError, match="target_frame"):
        SamplerConfig(9, 4, target_frame="world")


def _ray_model() -> AnatomyModel:
    torch.manual_seed(0)
    config = ModelConfig.preset("tiny", input_normalization="person", output_frame="ray")
    return AnatomyModel(config).double().eval()


def test_a_ray_frame_model_is_turned_back_with_the_rays_of_the_2d_root():
    seq, camera = _off_centre_sequence()
    model = _ray_model()
    k = normalized_intrinsics(camera, dtype=torch.float64)
    got = predict_sequence(model, seq.keypoints_2d, seq.scores, EvaluationConfig(), k)
    as_camera = AnatomyModel(model.config.replace(output_frame="camera")).double().eval()
    as_camera.load_state_dict(model.state_dict())
    in_model_frame = predict_sequence(as_camera, seq.keypoints_2d, seq.scores, EvaluationConfig())
    rays = pixel_rays(seq.keypoints_2d[:, 0], k)
    torch.testing.assert_close(got, from_ray_frame(in_model_frame, rays))
    # The rays of the 2D root are the rays of the 3D root (no distortion, exact 2D here).
    torch.testing.assert_close(
        rays / rays.norm(dim=-1, keepdim=True),
        seq.joints_3d[:, 0] / seq.joints_3d[:, 0].norm(dim=-1, keepdim=True),
    )
    # A camera-frame model ignores intrinsics.
    torch.testing.assert_close(
        predict_sequence(as_camera, seq.keypoints_2d, seq.scores, EvaluationConfig(), k),
        in_model_frame,
    )
    with pytest.raises(ValueError, match="ray frame and needs the camera's normalised intrinsics"):
        predict_sequence(model, seq.keypoints_2d, seq.scores)


def test_test_time_flip_of_a_ray_frame_model_is_mirror_symmetric():
    """The flip-averaged prediction of the mirrored video (seen by the mirrored camera) is the
    mirror image of the prediction, as for camera-frame models."""
    seq, camera = _off_centre_sequence()
    model = _ray_model()
    k = normalized_intrinsics(camera, dtype=torch.float64)
    kp_m = mirror_joints(seq.keypoints_2d, H36M_17)
    sc_m = swap_left_right(seq.scores, H36M_17, dim=-1)
    pred = predict_sequence(model, seq.keypoints_2d, seq.scores, EvaluationConfig(), k)
    mirrored = predict_sequence(model, kp_m, sc_m, EvaluationConfig(), mirror_intrinsics(k))
    torch.testing.assert_close(mirrored, mirror_joints(pred, H36M_17))


@pytest.mark.parametrize("output_frame", ["ray", "camera"])
def test_roll_views_average_the_turned_views_turned_back(output_frame):
    """``roll_views_deg`` is the mean of the plain prediction and each turned view's, each
    lifted as a video of its own and turned back by the view's rotation."""
    seq, camera = _off_centre_sequence()
    model = AnatomyModel(_ray_model().config.replace(output_frame=output_frame)).double().eval()
    k = normalized_intrinsics(camera, dtype=torch.float64)
    got = predict_sequence(
        model, seq.keypoints_2d, seq.scores, EvaluationConfig(roll_views_deg=(-7.0, 4.0)), k
    )
    views = [predict_sequence(model, seq.keypoints_2d, seq.scores, EvaluationConfig(), k)]
    for degrees in (-7.0, 4.0):
        rays = pixel_rays(seq.keypoints_2d[:, 0], k)
        turned, rot = roll_view(seq.keypoints_2d, k, rays, math.radians(degrees))
        lifted = predict_sequence(model, turned, seq.scores, EvaluationConfig(), k)
        views.append((rot.transpose(-1, -2) @ lifted.transpose(-1, -2)).transpose(-1, -2))
    torch.testing.assert_close(got, torch.stack(views).mean(0))
    assert (got - views[0]).abs().max() > 1e-4  # the views changed the prediction


def test_roll_views_refuse_bad_angles_and_missing_intrinsics():
    for bad in [(50.0,), [5.0], (True,), (float("nan"),), 5.0]:
        with pytest.raises(ValueError, match="roll_views_deg: expected a tuple of angles"):
            EvaluationConfig(roll_views_deg=bad)
    seq, _ = _off_centre_sequence()
    as_camera = AnatomyModel(_ray_model().config.replace(output_frame="camera")).double().eval()
    with pytest.raises(ValueError, match="roll_views_deg needs the camera's normalised"):
        predict_sequence(
            as_camera, seq.keypoints_2d, seq.scores, EvaluationConfig(roll_views_deg=(3.0,))
        )


def test_ray_frame_needs_the_anatomy_model_without_the_extra_batch():
    cfg = ExperimentConfig.preset("full@medium")
    assert cfg.override(["model.output_frame=ray"]).model.output_frame == "ray"
    with pytest.raises(ValueError, match="output_frame='ray'"):
        ExperimentConfig.preset("full@small").override(["model.output_frame=ray"])
    with pytest.raises(ValueError, match="output_frame"):
        ModelConfig.preset("tiny", output_frame="world")

"""Tests of cameras: transforms, projection, distortion, screen normalisation, H36M data."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import random_poses, standing_pose, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

from anatomy_lib.camera import (
    H36M_CAMERA_IDS,
    H36M_SUBJECTS,
    Camera,
    camera_to_world,
    h36m_camera,
    h36m_cameras,
    normalize_screen,
    project,
    project_normalized,
    project_with_intrinsics,
    quaternion_to_matrix,
    unnormalize_screen,
    world_to_camera,
)

ALL_H36M = [(s, i) for s in H36M_SUBJECTS for i in range(4)]


def pinhole(**kwargs) -> Camera:
    base = dict(
        id="test", width=1000, height=800, focal_length=(1000.0, 900.0), center=(480.0, 410.0)
    )
    base.update(kwargs)
    return Camera(**base)


def points_in_front(n: int = 20, seed: int = 0, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """``(n, 3)`` camera-space points 2-7 m in front of the camera, inside the field of view."""
    g = torch.Generator().manual_seed(seed)
    xy = (torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5) * 1.6
    z = 2.0 + 5.0 * torch.rand(n, 1, generator=g, dtype=torch.float64)
    return torch.cat([xy * z / 2, z], dim=-1).to(device=device, dtype=dtype)


def pose_in_camera(camera: Camera, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """A standing pose (y down in camera space) 5 m in front of ``camera``."""
    pose = standing_pose(dtype, device) * torch.tensor([1.0, -1.0, 1.0], dtype=dtype, device=device)
    return pose + torch.tensor([0.1, 0.6, 5.0], dtype=dtype, device=device)


# ------------------------------------------------------------------------ rotations


@given(
    st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(
        lambda q: sum(v * v for v in q) > 1e-3
    )
)
@settings(max_examples=50, deadline=None)
def test_quaternion_gives_proper_rotation(q):
    rot = quaternion_to_matrix(torch.tensor(q, dtype=torch.float64))
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(rot @ rot.T, eye, atol=1e-12)
    assert torch.linalg.det(rot).item() == pytest.approx(1.0, abs=1e-12)
    # q and -q are the same rotation; a scaled quaternion too (it is normalised).
    assert torch.allclose(quaternion_to_matrix(-3.0 * torch.tensor(q, dtype=torch.float64)), rot)


def test_quaternion_hand_computed():
    # 90 degrees about z: x -> y, y -> -x.
    half = math.sqrt(0.5)
    rot = quaternion_to_matrix(torch.tensor([half, 0.0, 0.0, half], dtype=torch.float64))
    expected = torch.tensor(
        [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64
    )
    assert torch.allclose(rot, expected, atol=1e-15)
    batch = quaternion_to_matrix(torch.tensor([[1.0, 0, 0, 0], [half, 0, 0, half]]).expand(5, 2, 4))
    assert batch.shape == (5, 2, 3, 3)


def test_quaternion_bad_input():
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        quaternion_to_matrix(torch.zeros(3))
    with pytest.raises(ValueError, match="zero quaternion"):
        quaternion_to_matrix(torch.zeros(2, 4))


@pytest.mark.parametrize("subject,index", ALL_H36M)
def test_h36m_rotations_are_proper(subject, index):
    rot = h36m_camera(subject, index).rotation_matrix(dtype=torch.float64)
    assert torch.allclose(rot @ rot.T, torch.eye(3, dtype=torch.float64), atol=1e-6)
    assert torch.linalg.det(rot).item() == pytest.approx(1.0, abs=1e-6)


# ------------------------------------------------------------------------ transforms


@pytest.mark.parametrize("index", range(4))
def test_world_camera_round_trip(index, device, dtype):
    cam = h36m_camera("S9", index)
    world = random_poses(batch=(3, 5)).to(device=device, dtype=dtype)
    cam_space = world_to_camera(world, cam)
    assert cam_space.shape == world.shape and cam_space.dtype == dtype
    assert cam_space.device == world.device
    back = camera_to_world(cam_space, cam)
    assert (back - world).abs().max().item() < 20 * tolerance(dtype)


def test_world_to_camera_hand_computed():
    # Camera at (1, 2, 3) rotated 90 degrees about z: camera x axis = world y.
    half = math.sqrt(0.5)
    cam = pinhole(orientation=(half, 0.0, 0.0, half), translation=(1.0, 2.0, 3.0))
    world = torch.tensor([[1.0, 3.0, 3.0], [0.0, 2.0, 5.0]], dtype=torch.float64)
    expected = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    assert torch.allclose(world_to_camera(world, cam), expected, atol=1e-12)


def test_camera_centre_maps_to_origin():
    for cam in h36m_cameras("S1"):
        centre = cam.translation_vector(dtype=torch.float64).reshape(1, 3)
        assert world_to_camera(centre, cam).abs().max().item() < 1e-12


def test_distances_preserved():
    cam = h36m_camera("S11", 2)
    pose = random_poses(batch=(2,))
    moved = world_to_camera(pose, cam)
    assert torch.allclose(torch.cdist(pose, pose), torch.cdist(moved, moved), atol=1e-9)


# ------------------------------------------------------------------------ projection


def test_pinhole_hand_computed(device, dtype):
    cam = pinhole()
    x = torch.tensor(
        [[0.0, 0.0, 2.0], [1.0, -0.5, 4.0], [0.3, 0.6, 3.0]], dtype=dtype, device=device
    )
    expected = torch.tensor(
        [[480.0, 410.0], [480.0 + 250.0, 410.0 - 112.5], [480.0 + 100.0, 410.0 + 180.0]],
        dtype=dtype,
        device=device,
    )
    for distort in (True, False):  # zero distortion coefficients
        out = project(x, cam, distort=distort)
        assert out.dtype == dtype and out.device == x.device
        assert torch.allclose(out, expected, atol=1e-4 if dtype == torch.float32 else 1e-10)


def test_distortion_hand_computed():
    k1, k2, k3, p1, p2 = 0.1, -0.05, 0.02, 0.003, -0.004
    cam = pinhole(radial=(k1, k2, k3), tangential=(p1, p2))
    x = torch.tensor([[0.4, -0.2, 2.0]], dtype=torch.float64)
    u, v = 0.2, -0.1
    r2 = u * u + v * v
    scale = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3 + p1 * v + p2 * u
    expected = [1000.0 * (u * scale + p2 * r2) + 480.0, 900.0 * (v * scale + p1 * r2) + 410.0]
    assert project(x, cam)[0].tolist() == pytest.approx(expected, abs=1e-9)
    assert project(x, cam, distort=False)[0].tolist() == pytest.approx([680.0, 320.0], abs=1e-9)


def test_zero_distortion_equals_pinhole_h36m():
    cam = h36m_camera("S1", 0)
    flat = Camera(cam.id, cam.width, cam.height, cam.focal_length, cam.center)
    x = points_in_front()
    assert torch.allclose(project(x, flat), project(x, cam, distort=False), atol=1e-10)
    # The real lens moves points by at most a few tens of pixels inside the image.
    shift = (project(x, cam) - project(x, cam, distort=False)).norm(dim=-1)
    assert 0 < shift.max().item() < 60


def test_project_with_intrinsics_batches_cameras():
    cams = h36m_cameras("S5")
    x = points_in_front(12).reshape(4, 3, 3)
    stacked = torch.stack([c.intrinsics(dtype=torch.float64) for c in cams])  # (4, 9)
    batched = project_with_intrinsics(x, stacked)
    for i, cam in enumerate(cams):
        assert torch.allclose(batched[i], project(x[i], cam), atol=1e-10)


@pytest.mark.parametrize("distort", [True, False])
def test_project_gradcheck(distort):
    cam = h36m_camera("S9", 1)
    x = points_in_front(5).requires_grad_(True)
    k = cam.intrinsics(dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: project(p, cam, distort), (x,))
    assert torch.autograd.gradcheck(lambda p, kk: project_with_intrinsics(p, kk, distort), (x, k))


def test_project_bad_input():
    cam = h36m_camera("S1", 0)
    with pytest.raises(ValueError, match="3 coordinates"):
        project(torch.ones(4, 2), cam)
    with pytest.raises(ValueError, match="Z <= 0"):
        project(torch.tensor([[0.0, 0.0, 1.0], [0.1, 0.1, -2.0]]), cam)
    with pytest.raises(ValueError, match="Z <= 0"):
        project(torch.tensor([[0.1, 0.1, 0.0]]), cam)
    with pytest.raises(ValueError, match="NaN"):
        project(torch.tensor([[0.1, float("nan"), 2.0]]), cam)
    with pytest.raises(ValueError, match=r"\(\.\.\., 9\)"):
        project_with_intrinsics(torch.ones(2, 3), torch.ones(8))
    with pytest.raises(ValueError, match="3 coordinates"):
        world_to_camera(torch.ones(2, 4), cam)


# ------------------------------------------------------------------------ screen


def test_normalize_screen_hand_computed():
    px = torch.tensor([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]], dtype=torch.float64)
    norm = normalize_screen(px, 1000, 1002)
    expected = torch.tensor([[-1.0, -1.002], [1.0, 1.002], [0.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(norm, expected, atol=1e-12)


@given(
    w=st.integers(16, 4096),
    h=st.integers(16, 4096),
    xy=st.lists(st.floats(-5000, 5000), min_size=2, max_size=2),
)
@settings(max_examples=50, deadline=None)
def test_normalize_round_trip(w, h, xy):
    px = torch.tensor(xy, dtype=torch.float64)
    back = unnormalize_screen(normalize_screen(px, w, h), w, h)
    assert torch.allclose(back, px, atol=1e-9)
    # Aspect ratio kept: the same scale on both axes.
    a, b = normalize_screen(torch.stack([px, px + 7.0]), w, h)
    assert (b - a)[0].item() == pytest.approx((b - a)[1].item(), rel=1e-9)


def test_normalize_dtype_device(device, dtype):
    px = torch.tensor([[10.0, 20.0]], dtype=dtype, device=device)
    out = normalize_screen(px, 1000, 1000)
    assert out.dtype == dtype and out.device == px.device
    assert torch.allclose(unnormalize_screen(out, 1000, 1000), px, atol=1e-3)


def test_screen_bad_input():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        normalize_screen(torch.ones(4, 3), 100, 100)
    with pytest.raises(ValueError, match="positive"):
        unnormalize_screen(torch.ones(4, 2), 0, 100)


def test_project_normalized_matches_composition(device, dtype):
    cam = h36m_camera("S11", 3)
    x = pose_in_camera(cam, dtype, device)
    expected = normalize_screen(project(x, cam), cam.width, cam.height)
    assert torch.allclose(project_normalized(x, cam), expected)


# ------------------------------------------------------------------------ mirroring


def flip(norm: torch.Tensor) -> torch.Tensor:
    return norm * torch.tensor([-1.0, 1.0], dtype=norm.dtype)


def mirror3d(x: torch.Tensor) -> torch.Tensor:
    return x * torch.tensor([-1.0, 1.0, 1.0], dtype=x.dtype)


@pytest.mark.parametrize("subject,index", ALL_H36M)
def test_mirrored_camera_sees_flipped_image(subject, index):
    cam = h36m_camera(subject, index)
    x = torch.cat([points_in_front(30, seed=index), pose_in_camera(cam)])
    original = project_normalized(x, cam)
    mirrored = project_normalized(mirror3d(x), cam.mirrored())
    assert torch.allclose(mirrored, flip(original), atol=1e-10)
    # The naive choice (same camera) is wrong by pixels: the test can fail.
    naive = project_normalized(mirror3d(x), cam)
    assert (naive - flip(original)).abs().max().item() * cam.width / 2 > 1.0


def test_mirrored_twice_is_identity():
    for cam in h36m_cameras("S7"):
        twice = cam.mirrored().mirrored()
        assert twice.center == pytest.approx(cam.center, abs=1e-12)
        assert twice.tangential == cam.tangential
        assert twice.orientation == cam.orientation and twice.translation == cam.translation


# ------------------------------------------------------------------------ H36M data


def test_h36m_camera_lists():
    assert H36M_CAMERA_IDS == ("54138969", "55011271", "58860488", "60457274")
    assert set(H36M_SUBJECTS) == {"S1", "S5", "S6", "S7", "S8", "S9", "S11"}
    cams = h36m_cameras("S9")
    assert [c.id for c in cams] == list(H36M_CAMERA_IDS)
    assert all(c.width == 1000 and c.height in (1000, 1002) for c in cams)
    # Intrinsics are shared across subjects, extrinsics are not.
    other = h36m_cameras("S1")
    assert all(a.intrinsics().equal(b.intrinsics()) for a, b in zip(cams, other, strict=True))
    assert all(a.translation != b.translation for a, b in zip(cams, other, strict=True))


@pytest.mark.parametrize("subject,index", ALL_H36M)
def test_h36m_cameras_look_at_capture_volume(subject, index):
    cam = h36m_camera(subject, index)
    # Metres: cameras stand 3-7 m from the centre of the room, 1-2 m above the floor (z up).
    centre = torch.tensor(cam.translation)
    assert 3.0 < centre[:2].norm().item() < 7.0 and 1.0 < centre[2].item() < 2.0
    # A person standing at the world origin is in front of the camera and inside the image.
    body = torch.tensor([[0.0, 0.0, z] for z in (0.0, 0.5, 1.0, 1.8)], dtype=torch.float64)
    x_cam = world_to_camera(body, cam)
    assert (x_cam[:, 2] > 2.0).all()
    px = project(x_cam, cam)
    assert (px[:, 0] > 0).all() and (px[:, 0] < cam.width).all()
    assert (px[:, 1] > 0).all() and (px[:, 1] < cam.height).all()
    # World z is up and image y is down: the head is drawn above the feet.
    assert (px[1:, 1] < px[:-1, 1]).all()


def test_h36m_bad_input():
    with pytest.raises(ValueError, match="unknown Human3.6M subject 'S2'"):
        h36m_camera("S2", 0)
    with pytest.raises(ValueError, match="unknown Human3.6M subject"):
        h36m_cameras("s9")
    with pytest.raises(ValueError, match="index must be 0-3"):
        h36m_camera("S9", 4)
    with pytest.raises(ValueError, match="got 1.5"):
        h36m_camera("S9", 1.5)


def test_camera_validation_and_with_extrinsics():
    cam = h36m_camera("S9", 0)
    moved = cam.with_extrinsics((1.0, 0.0, 0.0, 0.0), (0.0, 0.0, -5.0))
    assert moved.intrinsics().equal(cam.intrinsics())
    point = torch.tensor([[0.0, 0.0, 0.0]], dtype=torch.float64)
    assert world_to_camera(point, moved).tolist() == [[0.0, 0.0, 5.0]]
    assert cam.intrinsics(dtype=torch.float64).shape == (9,)
    with pytest.raises(ValueError, match="unit quaternion"):
        cam.with_extrinsics((2.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="translation needs 3 numbers"):
        cam.with_extrinsics((1.0, 0.0, 0.0, 0.0), (0.0, 0.0))
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        pinhole(focal_length=(0.0, 100.0))
    with pytest.raises(ValueError, match="image size must be positive"):
        pinhole(width=0)

"""Triangulation and undistortion: round trips, weights, missing views, invariances, errors."""

from __future__ import annotations

import math

import pytest
import torch

from anatomy_lib.camera import Camera, h36m_cameras, project, undistort, world_to_camera
from anatomy_lib.data.rotations import matrix_to_quaternion
from anatomy_lib.triangulation import reprojection_errors, triangulate


def ring_cameras(n: int = 4, radius: float = 4.0, strong_lens: bool = True) -> list[Camera]:
    """``n`` portrait cameras on a circle around the origin at 1.5 m, looking at (0, 0, 1)."""
    import numpy as np

    cams = []
    for i in range(n):
        angle = 2 * math.pi * i / n + 0.3
        centre = np.array([radius * math.cos(angle), radius * math.sin(angle), 1.5])
        forward = np.array([0.0, 0.0, 1.0]) - centre
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        rot = np.stack([right, down, forward], 1)  # camera-to-world, columns = camera axes
        cams.append(
            Camera(
                id=f"ring{i}", width=1088, height=1920, focal_length=(1680.0, 1679.0),
                center=(540.0 + 3 * i, 955.0 - 2 * i),
                radial=(-0.2, 0.25, -0.003) if strong_lens else (0.0, 0.0, 0.0),
                tangential=(-0.001, -0.0014) if strong_lens else (0.0, 0.0),
                orientation=tuple(matrix_to_quaternion(rot).tolist()),
                translation=tuple(centre.tolist()),
            )
        )  # fmt: skip
    return cams


def random_points(shape, dtype, device, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(*shape, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 1.0, 1.8])
    return (pts - torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)).to(device, dtype)


def pixels_of(points: torch.Tensor, cameras) -> torch.Tensor:
    """``(..., V, J, 2)``."""
    return torch.stack([project(world_to_camera(points, c), c) for c in cameras], -3)


def test_undistort_inverts_project(dtype, device):
    cam = h36m_cameras("S1")[0]
    g = torch.Generator().manual_seed(1)
    uv = ((torch.rand(200, 2, generator=g, dtype=torch.float64) - 0.5) * 0.8).to(device, dtype)
    pixels = project(torch.cat([uv, torch.ones_like(uv[:, :1])], -1), cam)
    back = undistort(pixels, cam)
    assert back.dtype == dtype and back.device.type == device.type
    tol = 1e-5 if dtype == torch.float32 else 1e-11
    assert torch.allclose(back, uv, atol=tol)
    # without the lens model's inversion the same pixels land elsewhere: the lens matters
    fx, fy, cx, cy = (float(v) for v in cam.intrinsics(dtype=torch.float64)[:4])
    naive = torch.stack(((pixels[:, 0] - cx) / fx, (pixels[:, 1] - cy) / fy), -1)
    assert (naive - uv).abs().max() > 100 * tol


def test_undistort_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        undistort(torch.zeros(5, 3), h36m_cameras("S1")[0])


def test_triangulate_round_trip(dtype, device):
    cams = ring_cameras()
    pts = random_points((6, 17), dtype, device)  # (T, J, 3)
    px = pixels_of(pts, cams)  # (T, V, J, 2)
    out = triangulate(px, torch.ones(px.shape[:-1], dtype=dtype, device=device), cams)
    assert out.shape == pts.shape and out.dtype == dtype and out.device.type == device.type
    tol = 2e-4 if dtype == torch.float32 else 1e-9
    assert torch.allclose(out, pts, atol=tol)
    errors = reprojection_errors(out, px, cams)
    assert errors.shape == px.shape[:-1]
    assert float(errors.max()) < (0.5 if dtype == torch.float32 else 1e-6)


def test_views_with_zero_weight_are_ignored_even_when_nan():
    cams = ring_cameras()
    pts = random_points((5, 17), torch.float64, "cpu", seed=2)
    px = pixels_of(pts, cams)
    w = torch.ones(px.shape[:-1], dtype=torch.float64)
    px[:, 1] = float("nan")
    w[:, 1] = 0
    px[:, 3, :4] = px[:, 3, :4] + 500.0  # far off, but weighted 0
    w[:, 3, :4] = 0
    out = triangulate(px, w, cams)
    assert torch.allclose(out, pts, atol=1e-9)


def test_too_few_views_gives_nan_only_there():
    cams = ring_cameras()
    pts = random_points((3, 17), torch.float64, "cpu", seed=3)
    px = pixels_of(pts, cams)
    w = torch.ones(px.shape[:-1], dtype=torch.float64)
    w[:, 1:, 5] = 0  # joint 5 in one view only
    w[:, 2:, 7] = 0  # joint 7 in two views
    out = triangulate(px, w, cams)
    assert torch.isnan(out[:, 5]).all()
    assert torch.allclose(out[:, 7], pts[:, 7], atol=1e-9)
    keep = [j for j in range(17) if j != 5]
    assert torch.allclose(out[:, keep], pts[:, keep], atol=1e-9)
    out3 = triangulate(px, w, cams, min_views=3)
    assert torch.isnan(out3[:, 7]).all() and torch.isfinite(out3[:, 0]).all()


def test_view_order_does_not_matter():
    cams = ring_cameras()
    pts = random_points((4, 17), torch.float64, "cpu", seed=4)
    g = torch.Generator().manual_seed(5)
    px = pixels_of(pts, cams) + 3.0 * torch.randn(4, 4, 17, 2, generator=g, dtype=torch.float64)
    w = torch.rand(px.shape[:-1], generator=g, dtype=torch.float64) + 0.1
    order = [2, 0, 3, 1]
    a = triangulate(px, w, cams)
    b = triangulate(px[:, order], w[:, order], [cams[i] for i in order])
    assert torch.allclose(a, b, atol=1e-12)


def test_a_low_weight_bad_view_moves_the_point_less():
    cams = ring_cameras()
    pts = random_points((50, 17), torch.float64, "cpu", seed=6)
    px = pixels_of(pts, cams)
    px[:, 0] += 40.0  # one view off by 40 px
    w = torch.ones(px.shape[:-1], dtype=torch.float64)
    even = (triangulate(px, w, cams) - pts).norm(dim=-1).mean()
    w[:, 0] = 0.2
    down = (triangulate(px, w, cams) - pts).norm(dim=-1).mean()
    assert down < 0.5 * even


def test_batched_equals_one_at_a_time():
    cams = ring_cameras(3)
    pts = random_points((2, 3, 17), torch.float64, "cpu", seed=7)
    g = torch.Generator().manual_seed(8)
    px = pixels_of(pts, cams) + torch.randn(2, 3, 3, 17, 2, generator=g, dtype=torch.float64)
    w = torch.rand(px.shape[:-1], generator=g, dtype=torch.float64)
    whole = triangulate(px, w, cams)
    for i in range(2):
        for t in range(3):
            assert torch.allclose(whole[i, t], triangulate(px[i, t], w[i, t], cams), atol=1e-12)


def test_bad_inputs_name_what_was_expected():
    cams = ring_cameras()
    px = torch.zeros(4, 17, 2)
    with pytest.raises(ValueError, match="one per view"):
        triangulate(px, torch.ones(4, 17), cams[:3])
    with pytest.raises(ValueError, match=r"weights: expected shape \(4, 17\)"):
        triangulate(px, torch.ones(17), cams)
    with pytest.raises(ValueError, match=">= 0"):
        triangulate(px, -torch.ones(4, 17), cams)
    with pytest.raises(ValueError, match=r"\(\.\.\., V, J, 2\)"):
        triangulate(torch.zeros(17, 2), torch.ones(17), cams)
    with pytest.raises(ValueError, match="at least 2 views"):
        triangulate(px, torch.ones(4, 17), cams, min_views=1)


def test_reprojection_errors_nan_behind_the_camera():
    cams = ring_cameras()
    pts = random_points((2, 17), torch.float64, "cpu", seed=9)
    px = pixels_of(pts, cams)
    behind = pts.clone()
    behind[0, 0] = torch.tensor(cams[0].translation, dtype=torch.float64) * 2  # behind cam 0
    errors = reprojection_errors(behind, px, cams)
    assert torch.isnan(errors[0, 0, 0]) and torch.isfinite(errors[1]).all()

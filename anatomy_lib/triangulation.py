"""Points seen by several calibrated cameras: weighted linear triangulation.

A pixel ``x_v`` of camera ``v`` (rotation ``R_v`` camera-to-world, centre ``t_v``) lies on the
ray ``t_v + s R_v (u_v, v_v, 1)`` where ``(u_v, v_v)`` are its undistorted image-plane
coordinates (:func:`anatomy_lib.camera.undistort`). With ``r_i`` the rows of ``R_v^T``, a world
point ``X`` is on that ray when

.. math::  (r_1 - u_v r_3) \\cdot (X - t_v) = 0, \\qquad (r_2 - v_v r_3) \\cdot (X - t_v) = 0,

two linear equations per view (the direct linear transform, DLT). Each pair is scaled by the
view's weight (e.g. the detector's score; 0 leaves the view out) and divided by the point's
approximate depth along that camera once a first solution is known, so that the residual is
close to an image-plane distance; the point solves the ``3 x 3`` normal equations.

Functions here are batched over leading dimensions: ``(..., V, J, 2)`` pixels of ``V`` views
of ``J`` points -> ``(..., J, 3)`` world points, metres.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .camera import Camera, project, undistort, world_to_camera

__all__ = ["triangulate", "reprojection_errors"]


def _check(pixels: torch.Tensor, weights: torch.Tensor | None, cameras: Sequence[Camera]) -> None:
    if not isinstance(pixels, torch.Tensor) or pixels.dim() < 3 or pixels.shape[-1] != 2:
        got = tuple(pixels.shape) if isinstance(pixels, torch.Tensor) else type(pixels).__name__
        raise ValueError(f"pixels: expected a tensor of shape (..., V, J, 2), got {got}")
    if len(cameras) != pixels.shape[-3]:
        raise ValueError(
            f"cameras: expected one per view, {pixels.shape[-3]} (pixels {tuple(pixels.shape)}), "
            f"got {len(cameras)}"
        )
    if weights is None:
        return
    if not isinstance(weights, torch.Tensor) or weights.shape != pixels.shape[:-1]:
        got = tuple(weights.shape) if isinstance(weights, torch.Tensor) else type(weights).__name__
        raise ValueError(f"weights: expected shape {tuple(pixels.shape[:-1])}, got {got}")
    if bool((weights < 0).any()) or not bool(torch.isfinite(weights).all()):
        raise ValueError("weights: expected finite values >= 0")


def _ray_equations(
    pixels: torch.Tensor, cameras: Sequence[Camera]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``A (..., V, J, 2, 3)`` and ``b (..., V, J, 2)`` with ``A X = b`` on each view's ray."""
    rows, rhs = [], []
    for v, cam in enumerate(cameras):
        uv = undistort(pixels[..., v, :, :], cam)  # (..., J, 2)
        rot_t = cam.rotation_matrix(pixels.device, pixels.dtype).T  # world -> camera
        centre = cam.translation_vector(pixels.device, pixels.dtype)
        a = rot_t[:2] - uv.unsqueeze(-1) * rot_t[2]  # (..., J, 2, 3)
        rows.append(a)
        rhs.append(a @ centre)
    return torch.stack(rows, -4), torch.stack(rhs, -3)


def _solve(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted least squares over views and both equations: ``(..., J, 3)``."""
    aw = a * w[..., None, None]
    bw = b * w[..., None]
    normal = torch.einsum("...vjei,...vjek->...jik", aw, aw)
    target = torch.einsum("...vjei,...vje->...ji", aw, bw)
    return torch.linalg.solve(normal, target.unsqueeze(-1)).squeeze(-1)


def triangulate(
    pixels: torch.Tensor,
    weights: torch.Tensor,
    cameras: Sequence[Camera],
    min_views: int = 2,
) -> torch.Tensor:
    """World points from their pixels in several calibrated views (module docstring).

    Args:
        pixels: ``(..., V, J, 2)`` pixel coordinates in each of the ``V`` cameras; entries whose
            weight is 0 are ignored (they may be NaN).
        weights: ``(..., V, J)`` non-negative weight of each observation (e.g. the detector's
            score).
        cameras: the ``V`` cameras, in the order of the views.
        min_views: fewest views with a positive weight a point needs (at least 2).

    Returns:
        ``(..., J, 3)`` world points, metres, in ``pixels``' dtype; NaN where fewer than
        ``min_views`` views see the point.

    Raises:
        ValueError: wrong shapes, a camera count that differs from ``V``, negative or
            non-finite weights, ``min_views < 2``.
    """
    _check(pixels, weights, cameras)
    if min_views < 2:
        raise ValueError(f"min_views: a point needs at least 2 views, got {min_views}")
    w = weights.to(pixels.dtype)
    seen = w > 0
    enough = seen.sum(-2) >= min_views  # (..., J)
    # Every view's pixel must be finite for the equations; a view left out has weight 0.
    clean = torch.where(seen.unsqueeze(-1), pixels, torch.zeros_like(pixels))
    a, b = _ray_equations(clean, cameras)
    # Points that too few views see get a harmless identity system, then NaN.
    pad = (~enough).to(w.dtype).unsqueeze(-2).expand_as(w)
    w_first = w + pad
    point = _solve(a, b, w_first)
    # Second pass: divide each view's equations by the point's depth there, so the residual
    # approximates an image-plane distance (far views do not dominate).
    depth = torch.stack(
        [world_to_camera(point.nan_to_num(), cam)[..., 2].abs().clamp_min(1e-3) for cam in cameras],
        -2,
    )  # (..., V, J)
    point = _solve(a, b, w_first / depth)
    return torch.where(enough.unsqueeze(-1), point, torch.full_like(point, float("nan")))


def reprojection_errors(
    points: torch.Tensor, pixels: torch.Tensor, cameras: Sequence[Camera]
) -> torch.Tensor:
    """Pixel distance between each view's observation and the projection of the point.

    Args:
        points: ``(..., J, 3)`` world points, metres.
        pixels: ``(..., V, J, 2)`` the observed pixels.
        cameras: the ``V`` cameras.

    Returns:
        ``(..., V, J)`` distances in pixels; NaN where the point or the pixel is NaN or the
        point is behind the camera.
    """
    _check(pixels, None, cameras)
    out = []
    for v, cam in enumerate(cameras):
        x_cam = world_to_camera(points.nan_to_num(), cam)
        in_front = (x_cam[..., 2] > 1e-6) & torch.isfinite(points).all(-1)
        safe = torch.where(in_front.unsqueeze(-1), x_cam, torch.ones_like(x_cam))
        d = (project(safe, cam) - pixels[..., v, :, :]).norm(dim=-1)
        out.append(torch.where(in_front, d, torch.full_like(d, float("nan"))))
    return torch.stack(out, -2)

"""The ray frame: a person's pose as seen by a camera turned to look straight at them.

A lifting network reads 2D keypoints; its camera-space output must also say how the body
is turned relative to the camera's optical axis. Under perspective, the 2D shape of a pose
depends on how the body is turned relative to the *viewing ray* through it, not relative
to the optical axis: the same pose, seen at the edge of the image instead of its centre,
looks (almost) the same but is turned in camera space by the angle between the ray and the
axis. A network whose input drops the person's position in the image (the person-centred
normalisation, :func:`~anatomy_lib.models.inputs.normalize_keypoints`) cannot know that
angle and averages over it.

The ray frame removes it from what the network must learn: for frame ``t`` with root ray
``r`` (the direction from the camera centre through the root joint), the rotation
:math:`R(r)` has rows

.. math::  z = r / |r|, \\quad x = \\frac{e_y \\times z}{|e_y \\times z|}, \\quad
           y = z \\times x

(``e_y`` = the camera's y axis, image down), so :math:`R(r) r = (0, 0, |r|)` and
:math:`R = I` on the optical axis. Training targets are ``R(r_t) (X_t - X_t^{root})``;
predictions go back to camera space with :math:`R(r_t)^T`, the ray taken from the detected
2D root and the camera's intrinsics (:func:`pixel_rays`); a video without calibration
assumes a field of view (:func:`assumed_intrinsics`).

Mirroring commutes with the frame: ``R(M r) M X = M R(r) X`` for ``M = diag(-1, 1, 1)``, so
flip augmentation and test-time flip work unchanged in the ray frame. A camera turned about
the root's ray sees the same pose turned about the ray frame's z axis: :func:`roll_view` makes
that view from the 2D alone, for test-time turned views
(``EvaluationConfig.roll_views_deg``, session 39).

Shapes: rays ``(..., 3)``, rotations ``(..., 3, 3)``, joints ``(..., J, 3)``; intrinsics in
the library's normalised layout ``(..., 9)`` (``fx fy cx cy k1 k2 k3 p1 p2``,
:func:`~anatomy_lib.data.augment.normalized_intrinsics`). Device and dtype follow the inputs.
"""

from __future__ import annotations

import math

import torch

from .camera import normalize_screen, project_with_intrinsics

__all__ = [
    "ASSUMED_LONG_SIDE_FOV_DEG",
    "assumed_intrinsics",
    "from_ray_frame",
    "pixel_rays",
    "ray_rotation",
    "roll_view",
    "rotation_about",
    "to_ray_frame",
]

#: Field of view across the image's long side assumed for a video without calibration: the
#: middle of the engine's camera range (45-80 deg,
#: :class:`~anatomy_lib.data.virtual_cameras.VirtualCameraConfig`; phones about 65-75,
#: webcams 55-78), whether the video is landscape or portrait.
ASSUMED_LONG_SIDE_FOV_DEG = 62.0


def ray_rotation(ray: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` rays (any length, ``z > 0``) -> ``(..., 3, 3)`` rotations camera -> ray
    frame (rows ``x, y, z`` of the module docstring)."""
    if ray.shape[-1:] != (3,):
        raise ValueError(f"ray: expected shape (..., 3), got {tuple(ray.shape)}")
    if not bool((ray[..., 2] > 0).all()):
        raise ValueError("ray: expected points in front of the camera (z > 0)")
    z = ray / ray.norm(dim=-1, keepdim=True)
    # e_y x z = (z_z, 0, -z_x): never zero in front of the camera.
    x = torch.stack([z[..., 2], torch.zeros_like(z[..., 0]), -z[..., 0]], -1)
    x = x / x.norm(dim=-1, keepdim=True)
    y = torch.linalg.cross(z, x)
    return torch.stack([x, y, z], -2)


def to_ray_frame(joints: torch.Tensor, ray: torch.Tensor) -> torch.Tensor:
    """Root-relative camera-space joints ``(..., J, 3)`` -> the same in the ray frame of
    ``ray (..., 3)``."""
    return joints @ ray_rotation(ray).transpose(-1, -2)


def from_ray_frame(joints: torch.Tensor, ray: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_ray_frame`: ray-frame joints ``(..., J, 3)`` -> camera space."""
    return joints @ ray_rotation(ray)


def pixel_rays(points: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Rays ``(..., 3)`` through 2D points ``(..., 2)`` in normalised screen coordinates:
    ``((x - cx) / fx, (y - cy) / fy, 1)`` with normalised ``intrinsics (..., 9)`` (lens
    distortion left out: it moves a ray by a fraction of a degree near the centre)."""
    if points.shape[-1:] != (2,) or intrinsics.shape[-1:] != (9,):
        raise ValueError(
            f"expected points (..., 2) and intrinsics (..., 9), got {tuple(points.shape)} "
            f"and {tuple(intrinsics.shape)}"
        )
    k = intrinsics.to(points.dtype)
    xy = (points - k[..., 2:4]) / k[..., 0:2]
    return torch.cat([xy, torch.ones_like(xy[..., :1])], -1)


def rotation_about(axis: torch.Tensor, angle: float | torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` rotations by ``angle`` radians (a number or ``(...)``) about ``axis
    (..., 3)`` (any length > 0), right-handed (Rodrigues):
    :math:`I + \\sin\\theta\\,K + (1 - \\cos\\theta)\\,K^2` with :math:`K = [a]_\\times`."""
    if axis.shape[-1:] != (3,):
        raise ValueError(f"axis: expected shape (..., 3), got {tuple(axis.shape)}")
    a = axis / axis.norm(dim=-1, keepdim=True)
    theta = torch.as_tensor(angle, dtype=a.dtype, device=a.device)[..., None, None]
    x, y, z = a.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).unflatten(-1, (3, 3))
    eye = torch.eye(3, dtype=a.dtype, device=a.device)
    return eye + torch.sin(theta) * k + (1 - torch.cos(theta)) * (k @ k)


def roll_view(
    points: torch.Tensor, intrinsics: torch.Tensor, ray: torch.Tensor, angle: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2D points as the camera would see them turned by ``angle`` radians about ``ray``.

    Every point's ray (:func:`pixel_rays`) is rotated by :math:`R` = :func:`rotation_about`
    ``(ray, angle)`` and projected again (a homography: exact for points of any depth,
    lens distortion left out as in :func:`pixel_rays`). A point on ``ray`` (the root, for
    the root's ray) stays where it is, so the ray frame of the turned view is the plain
    view's turned by ``angle`` about its z axis. Camera-space joints ``X'`` predicted from
    the turned view go back to the plain camera as :math:`R^\\top X'` (``X' @ R``).

    Args:
        points: ``(..., J, 2)`` normalised screen coordinates.
        intrinsics: normalised intrinsics, ``(9,)`` or ``(..., 9)``.
        ray: ``(..., 3)`` the axis, e.g. the root's ray.
        angle: radians; positive turns the image content clockwise on the screen (y down).

    Returns:
        ``(points', R)``: ``(..., J, 2)`` and ``(..., 3, 3)``, with ``X_turned = R X``.
    """
    rays = pixel_rays(points, intrinsics.unsqueeze(-2))  # (..., J, 3)
    rotation = rotation_about(ray.to(rays), angle)
    turned = rays @ rotation.transpose(-1, -2)
    if not bool((turned[..., 2] > 0).all()):
        raise ValueError(f"roll_view: turning by {angle} rad moves points behind the camera")
    return project_with_intrinsics(turned, intrinsics.to(rays), distort=False), rotation


def assumed_intrinsics(
    width: float,
    height: float,
    long_side_fov_deg: float = ASSUMED_LONG_SIDE_FOV_DEG,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``(9,)`` normalised intrinsics of an uncalibrated ``width x height`` camera: the
    principal point at the image centre, square pixels, the given field of view across the
    image's long side (``max(width, height)``), no distortion."""
    if not (width > 0 and height > 0 and 0 < long_side_fov_deg < 180):
        raise ValueError(
            f"expected width, height > 0 and 0 < long_side_fov_deg < 180, got {width}, "
            f"{height}, {long_side_fov_deg}"
        )
    # focal in pixels (L / 2) / tan(fov / 2), normalised by the half-width w / 2
    focal = (max(width, height) / width) / math.tan(math.radians(long_side_fov_deg) / 2)
    centre = normalize_screen(torch.tensor([width / 2, height / 2], dtype=dtype), width, height)
    focals = torch.tensor([focal, focal], dtype=dtype)
    return torch.cat([focals, centre, torch.zeros(5, dtype=dtype)])

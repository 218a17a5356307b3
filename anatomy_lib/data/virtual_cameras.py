"""Random virtual cameras that frame a person, one per synthetic video.

A user's video is filmed by a camera we know nothing about: a phone held upright or
sideways, a webcam on a desk, a tripod at chest height. The training-data engine
(:mod:`anatomy_lib.data.engine`) therefore sees every motion through a new camera drawn
from :class:`VirtualCameraConfig`:

* **intrinsics**: an image size from a list of common landscape and portrait formats, a
  field of view ``fov`` across the image's long side (``fx = fy = (L / 2) / tan(fov / 2)``
  with ``L = max(w, h)``: a phone held upright has the same lens as held sideways), the principal
  point near the image centre, and, for some cameras, radial lens distortion ``k1, k2``
  (the library's lens model, :func:`~anatomy_lib.camera.project_with_intrinsics`);
* **framing**: the person's standing height covers a fraction ``phi`` of the image height,
  which sets the distance ``d = fy * H / (phi * h)``; the person's centre is placed
  anywhere in the central part of the frame;
* **pose**: an elevation (how far the camera looks down on the person's centre), an
  azimuth around the person, and a small roll about the optical axis.

World coordinates are Z up, metres (as the motion capture of the embedded dataset).
Camera axes follow the library's convention: x right, y down, z forward; a camera is a
rotation ``R`` (camera-to-world, columns = camera axes in world) and a centre ``c``, and
``x_cam = (x_world - c) R``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._validation import check_points
from ._random import uniform

__all__ = ["VirtualCameraConfig", "VirtualCameras", "sample_virtual_cameras", "look_at_rotation"]


@dataclass(frozen=True)
class VirtualCameraConfig:
    """Ranges of the random cameras (each drawn uniformly unless said otherwise).

    The ranges are assumptions about how people film people, chosen wide on purpose
    (domain randomisation); none was fitted to a test set.

    Attributes:
        image_sizes: ``(width, height)`` pixels, drawn with equal probability: 1080p and
            720p landscape and portrait (phones), 4:3 webcams, a square frame.
        long_side_fov_deg: field of view across the image's long side, whatever the
            orientation (phones ~65-75 deg, webcams ~55-78; the Pose2Sim trial's portrait
            cameras ~60). Before 2026-12-02 the range applied to the width, which gave
            portrait frames 73-112 deg on their long side.
        principal_jitter: principal point offset from the centre, fraction of the width.
        person_height_fraction: ``phi``, the person's standing height over the image height.
        min_distance_m, max_distance_m: clamp of the distance that ``phi`` implies.
        elevation_deg: angle of the camera above the person's centre, seen from it
            (negative: from below); phones and tripods rarely look down more than ~30 deg.
        roll_deg_std: normal std of the roll about the optical axis.
        centre_offset: the person's centre lies within this fraction of the half-width
            (and half-height) from the image centre.
        distortion_probability: chance that a camera has radial distortion.
        k1_range, k2_range: radial distortion terms when it has.
        min_depth_m: the camera backs away along its axis until every joint of every
            frame is at least this far in front of it.
    """

    image_sizes: tuple[tuple[int, int], ...] = (
        (1920, 1080),
        (1080, 1920),
        (1280, 720),
        (720, 1280),
        (640, 480),
        (1000, 1000),
    )
    long_side_fov_deg: tuple[float, float] = (45.0, 80.0)
    principal_jitter: float = 0.01
    person_height_fraction: tuple[float, float] = (0.3, 0.85)
    min_distance_m: float = 1.5
    max_distance_m: float = 25.0
    elevation_deg: tuple[float, float] = (-10.0, 30.0)
    roll_deg_std: float = 3.0
    centre_offset: float = 0.35
    distortion_probability: float = 0.3
    k1_range: tuple[float, float] = (-0.25, 0.05)
    k2_range: tuple[float, float] = (0.0, 0.08)
    min_depth_m: float = 0.5

    def __post_init__(self) -> None:
        if not self.image_sizes or any(w < 1 or h < 1 for w, h in self.image_sizes):
            raise ValueError(
                f"image_sizes: expected positive (width, height), got {self.image_sizes}"
            )
        lo, hi = self.long_side_fov_deg
        if not 0 < lo <= hi < 180:
            raise ValueError(f"long_side_fov_deg: expected 0 < lo <= hi < 180, got {(lo, hi)}")
        lo, hi = self.person_height_fraction
        if not 0 < lo <= hi:
            raise ValueError(f"person_height_fraction: expected 0 < lo <= hi, got {(lo, hi)}")
        if not 0 < self.min_distance_m <= self.max_distance_m:
            raise ValueError("min_distance_m, max_distance_m: expected 0 < min <= max")
        if not 0 <= self.distortion_probability <= 1:
            raise ValueError(
                f"distortion_probability: expected [0, 1], got {self.distortion_probability}"
            )

    @classmethod
    def human36m_like(cls) -> VirtualCameraConfig:
        """Cameras like Human3.6M's: 1000 x 1002 images, ~53 deg, 4-6 m, chest height."""
        return cls(
            image_sizes=((1000, 1002),),
            long_side_fov_deg=(47.0, 50.0),
            person_height_fraction=(0.3, 0.45),
            elevation_deg=(0.0, 10.0),
            roll_deg_std=0.5,
            centre_offset=0.1,
            distortion_probability=0.0,
        )


class VirtualCameras(NamedTuple):
    """``N`` cameras (one per video). World is Z up, metres; image in pixels."""

    rotation: torch.Tensor  # (N, 3, 3) camera-to-world, columns = camera x, y, z in world
    centre: torch.Tensor  # (N, 3) camera centre in world
    intrinsics: torch.Tensor  # (N, 9) fx fy cx cy k1 k2 k3 p1 p2 (pixels)
    width: torch.Tensor  # (N,) long, pixels
    height: torch.Tensor  # (N,) long, pixels

    def world_to_camera(self, joints_world: torch.Tensor) -> torch.Tensor:
        """``(N, ..., J, 3)`` world joints -> the same in each video's camera coordinates."""
        n = self.centre.shape[0]
        extra = joints_world.dim() - 2
        shape = (n,) + (1,) * (extra - 1)
        centre = self.centre.reshape(*shape, 1, 3)
        rotation = self.rotation.reshape(*shape, 3, 3)
        return (joints_world - centre) @ rotation


def look_at_rotation(
    eye: torch.Tensor, target: torch.Tensor, roll: torch.Tensor | None = None
) -> torch.Tensor:
    """Camera-to-world rotation of cameras at ``eye`` looking at ``target`` (Z-up world).

    The camera's x axis is horizontal (to the right of the view), y points down the image,
    z along the view; ``roll`` (radians) then turns x and y about z.

    Args:
        eye, target: ``(..., 3)`` world points, metres; the view must not be vertical.
        roll: ``(...)`` radians, or None.

    Returns:
        ``(..., 3, 3)`` rotation with columns ``(x, y, z)`` of the camera in world.
    """
    forward = target - eye
    forward = forward / forward.norm(dim=-1, keepdim=True)
    up = torch.zeros_like(forward)
    up[..., 2] = 1.0
    right = torch.linalg.cross(forward, up)
    norm = right.norm(dim=-1, keepdim=True)
    if bool((norm < 1e-6).any()):
        raise ValueError("look_at_rotation: a camera looks straight up or down")
    right = right / norm
    down = torch.linalg.cross(forward, right)
    if roll is not None:
        c, s = torch.cos(roll).unsqueeze(-1), torch.sin(roll).unsqueeze(-1)
        right, down = c * right + s * down, c * down - s * right
    return torch.stack([right, down, forward], dim=-1)


def sample_virtual_cameras(
    joints_world: torch.Tensor,
    generator: torch.Generator,
    config: VirtualCameraConfig | None = None,
    standing_height: torch.Tensor | None = None,
) -> VirtualCameras:
    """One random camera per video, framing that video's person.

    Args:
        joints_world: ``(N, T, J, 3)`` world joints (Z up, metres) of ``N`` videos.
        generator: seeded CPU generator.
        config: the ranges (default :class:`VirtualCameraConfig`).
        standing_height: ``(N,)`` the person's standing height in metres, used for the
            framing; default the vertical extent of the video's joints (95th percentile
            over frames).

    Returns:
        :class:`VirtualCameras` in the dtype of ``joints_world`` (CPU).
    """
    check_points(joints_world, None, coords=3, name="joints_world")
    if joints_world.dim() != 4:
        raise ValueError(f"joints_world: expected (N, T, J, 3), got {tuple(joints_world.shape)}")
    cfg = config or VirtualCameraConfig()
    g, dtype = generator, joints_world.dtype
    n = joints_world.shape[0]
    if standing_height is None:
        extent = joints_world[..., 2].amax(-1) - joints_world[..., 2].amin(-1)  # (N, T)
        standing_height = extent.quantile(0.95, dim=1).clamp_min(0.5)
    sizes = torch.tensor(cfg.image_sizes, dtype=torch.long)
    pick = torch.randint(len(cfg.image_sizes), (n,), generator=g)
    width, height = sizes[pick, 0], sizes[pick, 1]
    w, h = width.to(dtype), height.to(dtype)
    fov = torch.deg2rad(uniform(cfg.long_side_fov_deg, n, g, dtype))
    focal = (torch.maximum(w, h) / 2) / torch.tan(fov / 2)
    jitter = (torch.rand(n, 2, generator=g, dtype=torch.float64).to(dtype) * 2 - 1) * (
        cfg.principal_jitter * w.unsqueeze(-1)
    )
    cx, cy = w / 2 + jitter[:, 0], h / 2 + jitter[:, 1]
    phi = uniform(cfg.person_height_fraction, n, g, dtype)
    distance = (focal * standing_height / (phi * h)).clamp(cfg.min_distance_m, cfg.max_distance_m)

    root_xy = joints_world[..., 0, :].mean(1)  # (N, 3) mean root position
    mid_z = 0.5 * (joints_world[..., 2].amax((1, 2)) + joints_world[..., 2].amin((1, 2)))
    centre_point = torch.stack([root_xy[:, 0], root_xy[:, 1], mid_z], -1)
    azimuth = uniform((0.0, 2 * math.pi), n, g, dtype)
    elevation = torch.deg2rad(uniform(cfg.elevation_deg, n, g, dtype))
    rise, horizontal = distance * torch.sin(elevation), distance * torch.cos(elevation)
    eye = centre_point + torch.stack(
        [horizontal * torch.cos(azimuth), horizontal * torch.sin(azimuth), rise], -1
    )
    base = look_at_rotation(eye, centre_point)
    # Shift the aim so that the person lands off-centre by up to centre_offset of the frame.
    offset = (torch.rand(n, 2, generator=g, dtype=torch.float64).to(dtype) * 2 - 1) * (
        cfg.centre_offset
    )
    across = offset[:, 0] * (w / 2) / focal  # (N,) tangent of the horizontal offset
    along = offset[:, 1] * (h / 2) / focal
    shift = -(across.unsqueeze(-1) * base[..., :, 0] + along.unsqueeze(-1) * base[..., :, 1])
    target = centre_point + distance.unsqueeze(-1) * shift
    roll = torch.deg2rad(cfg.roll_deg_std * torch.randn(n, generator=g, dtype=torch.float64)).to(
        dtype
    )
    rotation = look_at_rotation(eye, target, roll)

    distorted = torch.rand(n, generator=g, dtype=torch.float64) < cfg.distortion_probability
    k1 = uniform(cfg.k1_range, n, g, dtype) * distorted
    k2 = uniform(cfg.k2_range, n, g, dtype) * distorted
    zeros = torch.zeros(n, dtype=dtype)
    intrinsics = torch.stack([focal, focal, cx, cy, k1, k2, zeros, zeros, zeros], -1)

    # Back away until every joint is in front of the camera.
    depth = ((joints_world - eye[:, None, None]) * rotation[:, None, None, :, 2]).sum(-1)
    deficit = (cfg.min_depth_m - depth.amin((1, 2))).clamp_min(0)
    eye = eye - deficit.unsqueeze(-1) * rotation[..., :, 2]
    return VirtualCameras(rotation, eye, intrinsics, width, height)

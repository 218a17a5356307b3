"""Simulated 2D detections: geometric visibility and a model of detector error.

Used to turn motion capture into the embedded dataset's 2D input. Nothing here is
measured: the visibility comes from geometry (the body as capsules around bones) and the
errors from a seeded noise model whose parameters are documented in
:class:`DetectorNoiseConfig` and ``files/DATA.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._validation import check_points
from ..camera import Camera, project
from ..skeleton import Skeleton

__all__ = [
    "BodyVolume",
    "body_volume",
    "occlusion_visibility",
    "in_frame_visibility",
    "DetectorNoiseConfig",
    "SimulatedDetections",
    "simulate_detections",
]


@dataclass(frozen=True)
class BodyVolume:
    """The body as capsules: segments ``(a, b)`` between joints with radii in metres."""

    segments: tuple[tuple[int, int], ...]
    radii: tuple[float, ...]


def body_volume(
    skeleton: Skeleton, limb_radius: float = 0.05, torso_radius: float = 0.11
) -> BodyVolume:
    """Capsules around every bone, plus torso capsules when the skeleton has named hips/shoulders.

    Bones touching the root or the thorax (trunk bones) get ``torso_radius``; the others
    ``limb_radius``. With joints named ``left_hip``, ``right_shoulder`` and so on, the four
    hip-shoulder segments (both sides and both diagonals) fill the torso.
    """
    trunk = {skeleton.root}
    for name in ("thorax", "spine", "neck", "pelvis"):
        if name in skeleton.joint_names:
            trunk.add(skeleton.joint_index(name))
    segments = [(p, c) for c, p in skeleton.bones]
    radii = [
        torso_radius if (p in trunk and c in trunk) else limb_radius for c, p in skeleton.bones
    ]
    names = set(skeleton.joint_names)
    if {"left_hip", "right_hip", "left_shoulder", "right_shoulder"} <= names:
        lh, rh, ls, rs = (
            skeleton.joint_index(n)
            for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
        )
        for seg in ((lh, ls), (rh, rs), (lh, rs), (rh, ls)):
            segments.append(seg)
            radii.append(torso_radius * 0.8)
    return BodyVolume(tuple(segments), tuple(radii))


def occlusion_visibility(
    joints_cam: torch.Tensor, volume: BodyVolume, softness: float = 0.5
) -> torch.Tensor:
    """How visible each joint is from the camera centre, given the body's own capsules.

    For each joint and each capsule not attached to it, the ray from the camera centre
    to the joint is tested against the capsule's axis segment (closest approach, exact in
    3D). A capsule in front of the joint (closer along the ray by more than its radius)
    whose axis passes within ``radius`` of the ray occludes it; the occlusion fades in
    over the outer ``softness * radius`` of the capsule.

    Args:
        joints_cam: ``(..., J, 3)`` camera-space joints, metres, ``Z > 0``.
        volume: the capsules.
        softness: fraction of the radius over which occlusion goes from 0 to 1.

    Returns:
        ``(..., J)`` visibility in ``[0, 1]`` (1 = nothing in front).
    """
    check_points(joints_cam, None, coords=3, name="camera-space joints")
    seg = torch.tensor(volume.segments, device=joints_cam.device)
    radius = torch.tensor(volume.radii, device=joints_cam.device, dtype=joints_cam.dtype)
    a = joints_cam[..., seg[:, 0], :].unsqueeze(-3)  # (..., 1, S, 3)
    e = (joints_cam[..., seg[:, 1], :] - joints_cam[..., seg[:, 0], :]).unsqueeze(-3)
    p = joints_cam.unsqueeze(-2)  # (..., J, 1, 3)
    dist_p = p.norm(dim=-1)
    d = p / dist_p.unsqueeze(-1)
    ad, ed = (a * d).sum(-1), (e * d).sum(-1)
    qa = (e * e).sum(-1) - ed * ed
    qb = 2 * ((a * e).sum(-1) - ad * ed)
    s = (-qb / (2 * qa.clamp_min(1e-12))).clamp(0, 1)
    q = a + s.unsqueeze(-1) * e
    along = (q * d).sum(-1)
    off_ray = ((q * q).sum(-1) - along * along).clamp_min(0).sqrt()
    in_front = along < dist_p - radius
    amount = ((radius - off_ray) / (softness * radius)).clamp(0, 1) * in_front
    j = joints_cam.shape[-2]
    attached = torch.zeros(j, seg.shape[0], dtype=torch.bool, device=joints_cam.device)
    attached[seg[:, 0], torch.arange(seg.shape[0])] = True
    attached[seg[:, 1], torch.arange(seg.shape[0])] = True
    amount = amount.masked_fill(attached, 0.0)
    return 1.0 - amount.amax(-1)


def in_frame_visibility(
    pixels: torch.Tensor, width: int, height: int, margin: float = 10.0
) -> torch.Tensor:
    """``(..., J)`` 1 inside the image, falling linearly to 0 at ``margin`` pixels outside it."""
    x, y = pixels[..., 0], pixels[..., 1]
    out = torch.stack([-x, x - width, -y, y - height], -1).amax(-1)
    return (1 - out.clamp_min(0) / margin).clamp(0, 1)


@dataclass(frozen=True)
class DetectorNoiseConfig:
    """Parameters of the simulated detector (pixels are for a 1000-pixel-wide image).

    Attributes:
        jitter_px: per-frame white noise std of a fully visible joint.
        drift_px: stationary std of the slow, temporally correlated drift.
        drift_correlation: AR(1) coefficient of the drift per frame (0.95 at 50 Hz ~ 0.4 s).
        occluded_factor: noise multiplier reached at visibility 0 (linear in between).
        outlier_probability: chance per joint and frame of a gross error.
        outlier_px: std of a gross error.
        score_visible: mean score of a visible joint; ``score_occluded`` at visibility 0.
        score_noise: std of the per-frame score noise.
    """

    jitter_px: float = 2.5
    drift_px: float = 4.0
    drift_correlation: float = 0.95
    occluded_factor: float = 3.0
    outlier_probability: float = 0.01
    outlier_px: float = 40.0
    score_visible: float = 0.92
    score_occluded: float = 0.35
    score_noise: float = 0.05

    @classmethod
    def clean(cls) -> DetectorNoiseConfig:
        """No noise, no outliers; scores still follow visibility."""
        return cls(jitter_px=0.0, drift_px=0.0, outlier_probability=0.0, score_noise=0.0)


class SimulatedDetections(NamedTuple):
    """Output of :func:`simulate_detections` (``T`` frames, ``J`` joints)."""

    pixels: torch.Tensor  # (T, J, 2) detections, pixels
    scores: torch.Tensor  # (T, J) simulated detector confidence in [0, 1]
    visibility: torch.Tensor  # (T, J) geometric visibility (occlusion x in-frame)
    outliers: torch.Tensor  # (T, J) bool, frames/joints with a gross error


def simulate_detections(
    joints_cam: torch.Tensor,
    camera: Camera,
    volume: BodyVolume,
    config: DetectorNoiseConfig,
    generator: torch.Generator,
) -> SimulatedDetections:
    """Project camera-space joints and corrupt them like a 2D detector would.

    ``detection = projection + drift + jitter * (1 + (occluded_factor - 1) * (1 - vis))
    (+ outlier)``, where the drift is an AR(1) process per joint and coordinate.
    ``score = clip(score_occluded + (score_visible - score_occluded) * vis + noise, 0, 1)``,
    scaled by ``U(0.2, 0.6)`` on outliers. Reproducible for a seeded ``generator``.

    Args:
        joints_cam: ``(T, J, 3)`` camera-space joints, metres, ``Z > 0``.
        camera: the camera (image size scales the pixel noise: ``width / 1000``).
        volume: the body capsules for :func:`occlusion_visibility`.
        config: the noise model.
        generator: a seeded CPU ``torch.Generator``.

    Returns:
        :class:`SimulatedDetections`.
    """
    check_points(joints_cam, None, coords=3, name="camera-space joints")
    if joints_cam.dim() != 3:
        raise ValueError(f"camera-space joints: expected (T, J, 3), got {tuple(joints_cam.shape)}")
    dtype = joints_cam.dtype
    t, j = joints_cam.shape[:2]
    clean = project(joints_cam, camera)
    vis = occlusion_visibility(joints_cam, volume) * in_frame_visibility(
        clean, camera.width, camera.height
    )
    scale = camera.width / 1000.0

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, dtype=torch.float64).to(dtype)

    innovation = randn(t, j, 2) * config.drift_px * (1 - config.drift_correlation**2) ** 0.5
    drift = torch.empty(t, j, 2, dtype=dtype)
    drift[0] = randn(j, 2) * config.drift_px
    for k in range(1, t):
        drift[k] = config.drift_correlation * drift[k - 1] + innovation[k]
    jitter = (
        randn(t, j, 2)
        * config.jitter_px
        * (1 + (config.occluded_factor - 1) * (1 - vis)).unsqueeze(-1)
    )
    outliers = rand(t, j) < config.outlier_probability
    gross = randn(t, j, 2) * config.outlier_px * outliers.unsqueeze(-1)
    pixels = clean + scale * (drift + jitter + gross)
    score = config.score_occluded + (config.score_visible - config.score_occluded) * vis
    score = score + randn(t, j) * config.score_noise
    score = torch.where(outliers, score * (0.2 + 0.4 * rand(t, j)), score)
    return SimulatedDetections(pixels, score.clamp(0, 1), vis, outliers)

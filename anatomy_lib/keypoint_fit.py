"""Lifted 3D fitted to the 2D it was lifted from: a test-time refinement.

The network's 3D need not reproject onto its own 2D input. With the bone lengths held at
the model's, a bone's 2D length says how far it leans in depth (foreshortening), so making
the pose agree with the 2D can correct the directions in depth, where the default model's
error lies (``benchmarks/error_sources.py``). Per frame, with the model's bone lengths
:math:`L_b` and directions :math:`\\hat d_b` (Eq. 1), the 2D keypoints :math:`x_j` with
scores :math:`w_j` and the camera's normalised intrinsics :math:`K`,
:func:`fit_to_keypoints` minimises over unit directions :math:`d_b` and the root's
position :math:`t`

.. math::  E(d, t) = \\sum_j w_j \\frac{|\\pi_K(X_j(L, d) + t) - x_j|^2}{\\sigma^2}
           + \\lambda \\sum_b |d_b - \\hat d_b|^2,

where :math:`X(L, d)` is Eq. 1 with the root at the origin and :math:`\\pi_K` the pinhole
projection to normalised screen coordinates (no lens distortion, as
:func:`~anatomy_lib.ray_frame.pixel_rays`). It starts at the model's directions and at the
translation that least-squares places the model's pose on the keypoints' viewing rays
(:func:`root_translation`, exact for exact 2D) and runs Adam. The prior (weight
:math:`\\lambda`) keeps each bone near the network's direction: it chooses the side in
depth that the 2D cannot see, and stops the fit from following the detector's noise.

Measured in session 30 (``benchmarks/keypoint_fit.py``,
``anatomy_lib/results/keypoint_fit.json``): :math:`\\lambda = 300` (chosen on the engine's
``fixed`` validation split) lowers the engine's validation P1 by 3.5-4.9 mm but raises the
real validation person's P-MPJPE by 0.7 mm, so it is **not** part of the default lifting;
call it yourself, and judge it on your own data.

A cheaper, partial agreement: :func:`pull_to_keypoints` (session 37). It places the
lifted pose on the rays as above (:func:`root_translation`, translation :math:`t`), keeps
every joint's depth :math:`z_j = (X_j + t)_z` and moves its :math:`x, y` part of the way to
the point of its keypoint's ray at that depth,

.. math::  c_j = z_j (m_j, 1) - (X_j + t), \\qquad
           X'_j = X_j + t + \\lambda \\, w_j \\, (G_\\sigma * c)_j,

with :math:`m_j` the keypoint's pinhole image point, :math:`w_j` its score, :math:`G_\\sigma`
a Gaussian over time (:func:`~anatomy_lib.smoothing.smooth_over_time`) that keeps the
detector's frame-to-frame jitter out of the pull, and :math:`\\lambda` the strength; the
result is made root-relative again. It changes no depth on purpose: the network's guess in
depth is kept, only what the 2D sees is shared between the two. Moving joints on their own
changes bone lengths from frame to frame; with ``bone_lengths="video"`` each bone then gets
its median length over the video and every frame keeps its pulled directions, one length per
bone as the anatomy-aware model predicts (the depths then move too). The strength may be one
per joint; :func:`least_squares_strengths` gives each joint the strength that brings the
network's 2D closest to the truth on data where the truth is known (session 38:
``benchmarks/pull_strengths.py``; fitted on the engine's simulated detectors they did not
help the validation person, so the default keeps one strength).

Shapes: joints ``(..., J, 3)`` root-relative camera space (metres), keypoints
``(..., J, 2)`` normalised screen coordinates, scores ``(..., J)``, intrinsics ``(9,)`` or
``(..., 9)`` (:func:`~anatomy_lib.data.augment.normalized_intrinsics`); translations
``(..., 3)``. The leading dimensions (frames, videos) are independent problems. Device and
dtype follow the joints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

from ._validation import (
    check_choice_field,
    check_int_field,
    check_points,
    check_positive_float_field,
    check_scores,
    check_screen_keypoints,
)
from .bones import bones_to_joints, joints_to_bones
from .ray_frame import pixel_rays
from .skeleton import H36M_17, Skeleton
from .smoothing import smooth_over_time

__all__ = [
    "KeypointFit",
    "KeypointFitConfig",
    "KeypointPull",
    "VIDEO_KEYPOINT_PULL",
    "fit_to_keypoints",
    "least_squares_strengths",
    "pull_to_keypoints",
    "root_translation",
]


@dataclass(frozen=True)
class KeypointFitConfig:
    """Settings of :func:`fit_to_keypoints` (the defaults are session 30's).

    Attributes:
        prior_weight: :math:`\\lambda`, the pull towards the network's bone directions;
            300 had the lowest P1 of a grid from 0.3 to 10,000 on the engine's ``fixed``
            validation split.
        noise: :math:`\\sigma`, the 2D error (normalised screen units, 2 / image width per
            pixel) that one unit of the 2D term stands for.
        iterations: Adam steps (200 and 400 gave the same P1 to 0.02 mm).
        learning_rate: Adam's step size (radians of a bone's turn; metres of translation).
    """

    prior_weight: float = 300.0
    noise: float = 0.01
    iterations: int = 200
    learning_rate: float = 0.01

    def __post_init__(self) -> None:
        for key in ("prior_weight", "noise", "learning_rate"):
            check_positive_float_field(self, key)
        check_int_field(self, "iterations", minimum=0)


class KeypointFit(NamedTuple):
    """:func:`fit_to_keypoints`' result: ``joints (..., J, 3)`` root-relative, with the
    model's bone lengths, and ``translation (..., 3)``, the root in camera space (metres),
    so that ``joints + translation[..., None, :]`` reprojects onto the keypoints."""

    joints: torch.Tensor
    translation: torch.Tensor


#: Where an unplaced frame's root waits during the fit (metres ahead; no 2D term there).
_AHEAD_M = 10.0


def _image_points(keypoints: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """``(..., J, 2)`` pinhole image coordinates (x / z, y / z) of the keypoints' rays."""
    return pixel_rays(keypoints, intrinsics.unsqueeze(-2))[..., :2]


def _checked(
    joints: torch.Tensor, keypoints_2d: torch.Tensor, scores: torch.Tensor | None,
    intrinsics: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """The inputs in the joints' dtype and device, checked; scores default to ones."""
    check_points(joints, None, 3, "joints")
    check_points(keypoints_2d, joints.shape[-2], 2, "keypoints_2d")
    check_screen_keypoints(keypoints_2d)
    if keypoints_2d.shape != joints.shape[:-1] + (2,):
        raise ValueError(
            f"keypoints_2d: expected shape {tuple(joints.shape[:-1]) + (2,)} to match joints "
            f"{tuple(joints.shape)}, got {tuple(keypoints_2d.shape)}"
        )
    if not isinstance(intrinsics, torch.Tensor) or intrinsics.shape[-1:] != (9,):
        got = tuple(intrinsics.shape) if isinstance(intrinsics, torch.Tensor) else intrinsics
        raise ValueError(
            "intrinsics: expected normalised intrinsics of shape (9,) or (..., 9) "
            f"(anatomy_lib.data.augment.normalized_intrinsics(camera)), got {got}"
        )
    if scores is None:
        scores = torch.ones(joints.shape[:-1], dtype=joints.dtype, device=joints.device)
    elif scores.shape != joints.shape[:-1]:
        raise ValueError(
            f"scores: expected shape {tuple(joints.shape[:-1])} (one per keypoint), "
            f"got {tuple(scores.shape)}"
        )
    check_scores(scores)
    like = {"dtype": joints.dtype, "device": joints.device}
    return keypoints_2d.to(**like), scores.to(**like), intrinsics.to(**like)


def root_translation(
    joints: torch.Tensor,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None,
    intrinsics: torch.Tensor,
) -> torch.Tensor:
    """Where to put the root so that root-relative joints lie on the keypoints' rays:
    ``(..., J, 3), (..., J, 2), (..., J), (..., 9) -> (..., 3)``.

    Each joint gives two equations linear in :math:`t`,
    :math:`(X_j + t)_{x,y} - m_j (X_j + t)_z = 0` with :math:`m_j` the keypoint's pinhole
    image coordinates, solved by weighted least squares (weights = scores, None: all 1).
    Exact when the keypoints are the joints' exact pinhole projection. A frame with fewer
    than two keypoints scored above 0 cannot be placed: its translation is NaN."""
    keypoints_2d, scores, intrinsics = _checked(joints, keypoints_2d, scores, intrinsics)
    return _root_on_rays(joints, _image_points(keypoints_2d, intrinsics), scores)


def _root_on_rays(joints: torch.Tensor, m: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """:func:`root_translation` of checked inputs, ``m (..., J, 2)`` the pinhole image points."""
    eye = torch.eye(2, dtype=joints.dtype, device=joints.device)
    a = torch.cat([eye.expand(*m.shape, 2), -m.unsqueeze(-1)], -1)  # (..., J, 2, 3)
    b = m * joints[..., 2:] - joints[..., :2]  # (..., J, 2)
    w = scores[..., None, None]
    normal = (a.transpose(-1, -2) @ (w * a)).sum(-3)  # (..., 3, 3)
    rhs = (a.transpose(-1, -2) @ (w * b.unsqueeze(-1))).sum(-3)  # (..., 3, 1)
    placed = ((scores > 0).sum(-1) >= 2).unsqueeze(-1)
    eye3 = torch.eye(3, dtype=joints.dtype, device=joints.device)
    normal = normal + (~placed).unsqueeze(-1) * eye3  # solvable everywhere; unplaced -> NaN
    translation = torch.linalg.solve(normal, rhs).squeeze(-1)
    return torch.where(placed, translation, torch.full_like(translation, math.nan))


def fit_to_keypoints(
    joints: torch.Tensor,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None,
    intrinsics: torch.Tensor,
    config: KeypointFitConfig = KeypointFitConfig(),
    skeleton: Skeleton = H36M_17,
) -> KeypointFit:
    """Minimise the module docstring's :math:`E` from the network's pose.

    Args:
        joints: ``(..., J, 3)`` the lifted root-relative camera-space joints (metres).
        keypoints_2d: ``(..., J, 2)`` the 2D they were lifted from, normalised screen
            coordinates.
        scores: ``(..., J)`` keypoint confidences in ``[0, 1]``, the 2D term's weights (a
            keypoint with score 0 has no say); None: all 1.
        intrinsics: ``(9,)`` or ``(..., 9)`` the camera's normalised intrinsics.
        config: :class:`KeypointFitConfig`.
        skeleton: the joint tree.

    Returns:
        :class:`KeypointFit`; its joints keep the input's bone lengths. A frame that
        :func:`root_translation` cannot place (fewer than two keypoints scored) keeps the
        network's joints, with a NaN translation. Not differentiable
        (an optimisation runs inside); the inputs' gradients are not tracked.
    """
    keypoints_2d, scores, intrinsics = _checked(joints, keypoints_2d, scores, intrinsics)
    joints = joints.detach()
    m = _image_points(keypoints_2d, intrinsics)
    focal = intrinsics[..., 0:2].unsqueeze(-2)  # normalised screen units per image unit
    bones = joints_to_bones(joints, skeleton)
    lengths, prior = bones.lengths, bones.directions
    translation = _root_on_rays(joints, m, scores)
    placed = torch.isfinite(translation).all(-1)
    ahead = torch.zeros_like(translation)
    ahead[..., 2] = _AHEAD_M
    start = torch.where(placed.unsqueeze(-1), translation, ahead)
    with torch.enable_grad():
        t = start.clone().requires_grad_(True)
        v = prior.clone().requires_grad_(True)
        optimiser = torch.optim.Adam([v, t], lr=config.learning_rate)
        for _ in range(config.iterations):
            optimiser.zero_grad()
            d = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            x = bones_to_joints(lengths, d, skeleton) + t.unsqueeze(-2)
            image = x[..., :2] / x[..., 2:].clamp_min(1e-3)
            residual = (image - m) * focal
            fit_2d = (scores.unsqueeze(-1) * residual**2).sum() / config.noise**2
            energy = fit_2d + config.prior_weight * ((d - prior) ** 2).sum()
            energy.backward()
            optimiser.step()
    with torch.no_grad():
        d = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        fitted = torch.where(placed[..., None, None], bones_to_joints(lengths, d, skeleton), joints)
        return KeypointFit(fitted, torch.where(placed.unsqueeze(-1), t.detach(), translation))


#: The choices of :attr:`KeypointPull.bone_lengths`.
BONE_LENGTHS = ("frame", "video")


@dataclass(frozen=True)
class KeypointPull:
    """Settings of :func:`pull_to_keypoints` as the video pipeline applies it
    (:data:`VIDEO_KEYPOINT_PULL`).

    Attributes:
        strength: :math:`\\lambda` in ``[0, 1]``: how far a keypoint of score 1 moves its
            joint towards its ray (0: not at all, 1: onto it); or a tuple of one such number
            per joint, in the skeleton's joint order (its length is checked when the pull
            runs).
        smoothing_s: :math:`\\sigma`, seconds, of the Gaussian that smooths the pull over
            time; 0: each frame on its own (what a causal model may use).
        bone_lengths: ``"frame"``: each frame keeps the lengths the pull gives it;
            ``"video"``: each bone gets its median length over the video's pulled frames,
            every frame its pulled directions (one length per bone, as the model predicts;
            not for a causal model: the median looks ahead).
    """

    strength: float | tuple[float, ...] = 0.5
    smoothing_s: float = 0.04
    bone_lengths: Literal["frame", "video"] = "video"

    def __post_init__(self) -> None:
        strengths = self._strengths()
        if not strengths or not all(_is_number_in(v, 1.0) for v in strengths):
            raise ValueError(
                "KeypointPull.strength: expected a number in [0, 1] or a non-empty tuple of "
                f"them (one per joint), got {self.strength!r}"
            )
        if not _is_number_in(self.smoothing_s, math.inf):
            raise ValueError(
                "KeypointPull.smoothing_s: expected a finite number of seconds >= 0, got "
                f"{self.smoothing_s!r}"
            )
        check_choice_field(self, "bone_lengths", BONE_LENGTHS)

    def _strengths(self) -> tuple:
        """The strength as a tuple: one number per joint, or the one number alone."""
        return self.strength if isinstance(self.strength, tuple) else (self.strength,)

    @property
    def moves(self) -> bool:
        """Whether the pull moves anything: some joint's strength is above 0."""
        return any(v > 0 for v in self._strengths())


def _is_number_in(value: object, high: float) -> bool:
    """``value`` is a real number (not a bool) in ``[0, high]``, finite."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and 0 <= value <= high
        and math.isfinite(value)
    )


def _joint_strengths(
    strength: float | tuple[float, ...] | torch.Tensor, joints: torch.Tensor
) -> float | torch.Tensor:
    """``strength`` checked: a number in ``[0, 1]``, or ``(J,)`` per-joint numbers in
    ``[0, 1]`` as a tensor like ``joints``."""
    if isinstance(strength, torch.Tensor | tuple | list):
        per_joint = torch.as_tensor(strength, dtype=joints.dtype, device=joints.device)
        if per_joint.shape != (joints.shape[-2],):
            raise ValueError(
                f"strength: expected one number per joint, shape ({joints.shape[-2]},), got "
                f"shape {tuple(per_joint.shape)}"
            )
        if not bool(((per_joint >= 0) & (per_joint <= 1)).all()):
            raise ValueError(
                f"strength: expected per-joint numbers in [0, 1], got {per_joint.tolist()}"
            )
        return per_joint
    if not _is_number_in(strength, 1.0):
        raise ValueError(f"strength: expected a number in [0, 1], got {strength!r}")
    return strength


def pull_to_keypoints(
    joints: torch.Tensor,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None,
    intrinsics: torch.Tensor,
    strength: float | tuple[float, ...] | torch.Tensor = 0.5,
    sigma_frames: float = 0.0,
    skeleton: Skeleton = H36M_17,
    bone_lengths: Literal["frame", "video"] = "frame",
) -> torch.Tensor:
    """The module docstring's partial pull of lifted joints towards their keypoints' rays.

    Args:
        joints: ``(..., T, J, 3)`` lifted root-relative camera-space joints (metres), time
            third from last (``(J, 3)`` for one frame when ``sigma_frames == 0``).
        keypoints_2d: ``(..., T, J, 2)`` the 2D they were lifted from, normalised screen
            coordinates.
        scores: ``(..., T, J)`` keypoint confidences in ``[0, 1]``, each joint's share of
            the pull (score 0: not pulled); None: all 1.
        intrinsics: ``(9,)`` or ``(..., T, 9)`` the camera's normalised intrinsics.
        strength: :math:`\\lambda` in ``[0, 1]``, or ``(J,)`` one per joint (a tuple or
            a tensor).
        sigma_frames: :math:`\\sigma` of the smoothing over time, frames (0: none).
        skeleton: the joint tree (its root, and its bones for ``bone_lengths="video"``).
        bone_lengths: ``"frame"``: the pulled joints as they are; ``"video"``: each bone's
            length set to its median over the time axis of the pulled joints, each frame's
            bone directions kept (Eq. 1 rebuilt from the root; needs a time axis).

    Returns:
        ``(..., T, J, 3)`` root-relative joints. With ``bone_lengths="frame"`` the depths
        relative to the placed root are kept in frames that :func:`root_translation` places
        with every joint in front of the camera; a frame it cannot place gets no pull of its
        own (its neighbours' may reach it through the smoothing). Differentiable in
        ``joints``.
    """
    strength = _joint_strengths(strength, joints)
    if isinstance(sigma_frames, bool) or not 0 <= sigma_frames < math.inf:
        raise ValueError(f"sigma_frames: expected a finite number >= 0, got {sigma_frames!r}")
    keypoints_2d, scores, intrinsics = _checked(joints, keypoints_2d, scores, intrinsics)
    if bone_lengths not in BONE_LENGTHS:
        raise ValueError(f"bone_lengths: expected one of {BONE_LENGTHS}, got {bone_lengths!r}")
    if joints.shape[-2] != skeleton.num_joints:
        raise ValueError(
            f"joints: expected {skeleton.num_joints} joints of {skeleton.name}, got "
            f"{joints.shape[-2]}"
        )
    over_time = sigma_frames > 0 or bone_lengths == "video"
    if over_time and joints.dim() < 3:
        what = "smoothing over time" if sigma_frames > 0 else 'bone_lengths="video"'
        raise ValueError(
            f"joints: {what} needs a time axis, shape (..., T, J, 3); got {tuple(joints.shape)}"
        )
    root = skeleton.root
    m = _image_points(keypoints_2d, intrinsics)
    translation = _root_on_rays(joints, m, scores)
    placed = joints + torch.nan_to_num(translation, nan=0.0).unsqueeze(-2)
    depth = placed[..., 2:]
    ok = torch.isfinite(translation).all(-1) & (depth.squeeze(-1) > 0).all(-1)
    towards = torch.cat([depth * m - placed[..., :2], torch.zeros_like(depth)], -1)
    towards = torch.where(ok[..., None, None], towards, torch.zeros_like(towards))
    if sigma_frames > 0:
        towards = smooth_over_time(towards, sigma_frames)
    pulled = placed + (strength * scores).unsqueeze(-1) * towards
    pulled = pulled - pulled[..., root : root + 1, :]
    if bone_lengths == "frame":
        return pulled
    bones = joints_to_bones(pulled, skeleton)
    lengths = bones.lengths.median(dim=-2, keepdim=True).values.expand_as(bones.lengths)
    return bones_to_joints(lengths, bones.directions, skeleton)


def least_squares_strengths(
    network_points: torch.Tensor,
    detected_points: torch.Tensor,
    true_points: torch.Tensor,
    scores: torch.Tensor | None = None,
) -> torch.Tensor:
    """Each joint's pull strength that brings the network's points closest to the truth:
    ``(..., J, 2) x 3, (..., J) -> (J,)``.

    With the network's error :math:`e_N = n - x`, the pull towards the detection
    :math:`d` gives :math:`n + \\lambda_j w (d - n)`; its squared error summed over every
    leading index is least at

    .. math::  \\lambda_j = \\frac{\\sum w \\, e_N \\cdot (n - d)}{\\sum w^2 |n - d|^2},

    which is :math:`\\sigma_N^2 / (\\sigma_N^2 + \\sigma_D^2)` when the two errors are
    independent, and accounts for their correlation when they are not (the network was lifted
    from the detections). Clamped to ``[0, 1]``, the pull's range. The points may be in any
    one unit (pinhole image points, pixels); ``scores`` ``w``, None: all 1. A joint whose
    network and detected points never differ gets 0.
    """
    check_points(network_points, None, 2, "network_points")
    for name, points in (("detected_points", detected_points), ("true_points", true_points)):
        if points.shape != network_points.shape:
            raise ValueError(
                f"{name}: expected the shape of network_points {tuple(network_points.shape)}, "
                f"got {tuple(points.shape)}"
            )
    like = {"dtype": torch.float64, "device": network_points.device}
    n, d, x = (p.to(**like) for p in (network_points, detected_points, true_points))
    w = torch.ones(n.shape[:-1], **like) if scores is None else scores.to(**like)
    if w.shape != n.shape[:-1]:
        raise ValueError(
            f"scores: expected shape {tuple(n.shape[:-1])} (one per point), got {tuple(w.shape)}"
        )
    joints = n.shape[-2]
    n, d, x, w = (
        n.reshape(-1, joints, 2),
        d.reshape(-1, joints, 2),
        x.reshape(-1, joints, 2),
        w.reshape(-1, joints),
    )
    apart = n - d
    numerator = (w * ((n - x) * apart).sum(-1)).sum(0)
    denominator = (w**2 * (apart * apart).sum(-1)).sum(0)
    ratio = torch.where(denominator > 0, numerator / denominator.clamp_min(1e-300), 0.0)
    return ratio.clamp(0.0, 1.0).to(network_points.dtype)


#: What ``anatomy3d infer`` applies to a non-causal model's 3D (none to a causal one):
#: chosen on the validation person and the engine's validation videos by session 37's two
#: rules, the second adding the video's bone lengths
#: (``anatomy_lib/results/keypoint_pull.json``).
VIDEO_KEYPOINT_PULL = KeypointPull()

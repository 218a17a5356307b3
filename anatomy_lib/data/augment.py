"""Training-time augmentation: horizontal flip and the paper's bone-length augmentation.

Cameras travel with a batch as **normalised intrinsics** ``(..., 9)``: the
:meth:`~anatomy_lib.camera.Camera.intrinsics` layout ``fx fy cx cy k1 k2 k3 p1 p2`` rescaled so
that :func:`~anatomy_lib.camera.project_with_intrinsics` returns normalised screen
coordinates directly (see :func:`normalized_intrinsics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._validation import check_points
from ..bones import joints_to_bones, mirror_joints, retarget_bone_lengths, swap_left_right
from ..camera import Camera, normalize_screen, project_with_intrinsics
from ..skeleton import Skeleton

__all__ = [
    "normalized_intrinsics",
    "mirror_intrinsics",
    "flip_batch",
    "BoneLengthAugmentConfig",
    "AugmentedPoses",
    "augment_bone_lengths",
]


def normalized_intrinsics(
    camera: Camera, device=None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(9,)`` intrinsics whose projection is in normalised screen coordinates.

    ``fx, fy -> 2 fx / w, 2 fy / w`` and ``(cx, cy) -> normalize_screen((cx, cy))``; the
    distortion terms are unchanged (they act before the focal length).
    """
    k = camera.intrinsics(device, dtype)
    centre = normalize_screen(k[2:4], camera.width, camera.height)
    return torch.cat([k[0:2] * (2.0 / camera.width), centre, k[4:]])


def mirror_intrinsics(intrinsics: torch.Tensor) -> torch.Tensor:
    """Normalised intrinsics ``(..., 9)`` of the mirrored camera (``Camera.mirrored``).

    ``cx`` and ``p2`` are negated.
    """
    if intrinsics.shape[-1:] != (9,):
        raise ValueError(f"intrinsics: expected shape (..., 9), got {tuple(intrinsics.shape)}")
    sign = torch.ones(9, device=intrinsics.device, dtype=intrinsics.dtype)
    sign[2] = sign[8] = -1
    return intrinsics * sign


def flip_batch(batch, skeleton: Skeleton):
    """Mirror a sampler batch left-right: 2D, scores, 3D, bone lengths and camera together.

    Works on any NamedTuple with the fields of :class:`~anatomy_lib.data.samplers.AnatomyBatch`:
    2D x is negated (normalised screen coordinates are centred), camera-space 3D x is
    negated, left and right joints (and bones) swap, and the intrinsics become those of
    the mirrored camera, so that projecting the flipped 3D gives the flipped 2D. Flipping
    twice gives back the batch exactly.
    """
    bone_perm = torch.tensor(skeleton.bone_mirror_permutation, device=batch.bone_lengths.device)
    return batch._replace(
        keypoints_2d=mirror_joints(batch.keypoints_2d, skeleton),
        scores=swap_left_right(batch.scores, skeleton, dim=-1),
        target_3d=mirror_joints(batch.target_3d, skeleton),
        length_keypoints_2d=mirror_joints(batch.length_keypoints_2d, skeleton),
        length_scores=swap_left_right(batch.length_scores, skeleton, dim=-1),
        length_target_3d=mirror_joints(batch.length_target_3d, skeleton),
        bone_lengths=batch.bone_lengths.index_select(-1, bone_perm),
        intrinsics=mirror_intrinsics(batch.intrinsics),
    )


@dataclass(frozen=True)
class BoneLengthAugmentConfig:
    """The paper's bone-length augmentation (values of the authors' release).

    Attributes:
        degree: new length = length + U(-0.5, 0.5) * degree * mean length of that bone in the batch.
        root_std: std of the random root position, metres.
        root_offset: added to the random root (x, y, z) in camera space, metres
            (z + 5 m puts the person in front of the camera, y - 0.3 m slightly up).
        min_depth: the root is pushed back until every joint is at least this deep, metres.
    """

    degree: float = 0.6
    root_std: float = 0.5
    root_offset: tuple[float, float, float] = (0.0, -0.3, 5.0)
    min_depth: float = 1.0


class AugmentedPoses(NamedTuple):
    """Output of :func:`augment_bone_lengths` (``B`` samples of ``L`` frames)."""

    joints_3d: torch.Tensor  # (B, L, J, 3) camera space with the random root, metres
    target_3d: torch.Tensor  # (B, L, J, 3) root-relative
    keypoints_2d: torch.Tensor  # (B, L, J, 2) projection, normalised screen coordinates
    bone_lengths: torch.Tensor  # (B, num_bones) the new lengths, metres


def _draw(sampler, shape: tuple[int, ...], generator, opts: dict) -> torch.Tensor:
    """``sampler`` (``torch.rand`` / ``torch.randn``) drawn in float64 on the CPU from
    ``generator``, converted to ``opts["dtype"]`` and then moved to ``opts["device"]``."""
    x = sampler(*shape, generator=generator, dtype=torch.float64)
    return x.to(opts["dtype"]).to(opts["device"])


def augment_bone_lengths(
    joints: torch.Tensor,
    intrinsics: torch.Tensor,
    skeleton: Skeleton,
    generator: torch.Generator,
    config: BoneLengthAugmentConfig = BoneLengthAugmentConfig(),
) -> AugmentedPoses:
    """Give each sample new bone lengths, a random root, and re-project it (Sec. 3.3).

    Each sample's reference lengths are its mean bone lengths over its ``L`` frames; all
    its frames get the same new lengths, every bone direction is kept
    (:func:`~anatomy_lib.bones.retarget_bone_lengths`), and the root is drawn once per
    sample. Works for any skeleton.

    Args:
        joints: ``(B, L, J, 3)`` root-relative camera-space joints, metres.
        intrinsics: ``(B, 9)`` normalised intrinsics (:func:`normalized_intrinsics`).
        skeleton: the joint tree.
        generator: seeded CPU generator.
        config: augmentation parameters.

    Returns:
        :class:`AugmentedPoses`.
    """
    check_points(joints, skeleton.num_joints, coords=3, name="joints")
    if joints.dim() != 4:
        raise ValueError(f"joints: expected (B, L, J, 3), got {tuple(joints.shape)}")
    b = joints.shape[0]
    if intrinsics.shape != (b, 9):
        raise ValueError(f"intrinsics: expected shape ({b}, 9), got {tuple(intrinsics.shape)}")
    opts = {"device": joints.device, "dtype": joints.dtype}
    lengths = joints_to_bones(joints, skeleton).lengths  # (B, L, Bn)
    reference = lengths.mean(1)
    batch_mean = lengths.mean((0, 1))
    # drawn in float64 on the CPU (reproducible on any device), converted before moving
    # (MPS has no float64)
    u = _draw(torch.rand, (b, skeleton.num_bones), generator, opts) - 0.5
    new_lengths = (reference + u * config.degree * batch_mean).clamp_min(0.0)
    rel = retarget_bone_lengths(joints, new_lengths.unsqueeze(1), skeleton)
    rel = rel - rel[..., skeleton.root : skeleton.root + 1, :]
    root = _draw(torch.randn, (b, 3), generator, opts) * config.root_std
    root = root + torch.tensor(config.root_offset, **opts)
    nearest = (rel[..., 2].amin((1, 2)) + root[:, 2]).unsqueeze(-1)
    push = (config.min_depth - nearest).clamp_min(0.0)
    root = root + torch.cat([torch.zeros(b, 2, **opts), push], -1)
    posed = rel + root[:, None, None, :]
    keypoints = project_with_intrinsics(posed, intrinsics[:, None, :])
    return AugmentedPoses(posed, rel, keypoints, new_lengths)

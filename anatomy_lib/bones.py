"""The paper's bone decomposition as batched, differentiable tensor functions.

Shapes use ``J`` joints and ``B = J - 1`` bones of a :class:`~anatomy_lib.skeleton.Skeleton`;
``...`` is any number of leading (batch, time) dimensions. Units are whatever the
joints are in (metres throughout the library). All functions work on any device and
floating dtype, and are differentiable with ``torch.autograd``.

The central identity is the paper's Eq. 1::

    J_k = J_root + sum_{b in B^k} D_b * L_b

computed here as a product with the skeleton's ``(J, B)`` path matrix, so there is
no Python loop over joints.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._validation import check_points
from .skeleton import Skeleton

__all__ = [
    "Bones",
    "bone_vectors",
    "joints_to_bones",
    "bones_to_joints",
    "bone_vectors_to_joints",
    "joint_shifts",
    "joint_shifts_from_bones",
    "retarget_bone_lengths",
    "mirror_joints",
    "swap_left_right",
]

#: Bones shorter than this (in the joints' unit) get a zero direction instead of NaN.
DIRECTION_EPS = 1e-8


class Bones(NamedTuple):
    """Bone lengths ``(..., B)`` and unit bone directions ``(..., B, 3)``."""

    lengths: torch.Tensor
    directions: torch.Tensor


def _index(skeleton: Skeleton, attr: str, device: torch.device) -> torch.Tensor:
    return torch.tensor(getattr(skeleton, attr), dtype=torch.long, device=device)


def bone_vectors(joints: torch.Tensor, skeleton: Skeleton) -> torch.Tensor:
    """Bone vectors ``J[child] - J[parent]`` in bone order.

    Args:
        joints: ``(..., J, C)`` joint positions (C = 2 or 3).
        skeleton: the joint tree.

    Returns:
        ``(..., B, C)`` bone vectors.
    """
    check_points(joints, skeleton.num_joints, coords=(2, 3), name="joints")
    child = _index(skeleton, "bone_children", joints.device)
    parent = _index(skeleton, "bone_parents", joints.device)
    return joints.index_select(-2, child) - joints.index_select(-2, parent)


def joints_to_bones(joints: torch.Tensor, skeleton: Skeleton, eps: float = DIRECTION_EPS) -> Bones:
    """Decompose joints into bone lengths and unit bone directions.

    Args:
        joints: ``(..., J, 3)`` joint positions.
        skeleton: the joint tree.
        eps: lengths below this give a zero direction (no NaN, finite gradients).

    Returns:
        :class:`Bones` with ``lengths (..., B)`` and ``directions (..., B, 3)``.
    """
    check_points(joints, skeleton.num_joints, coords=3, name="joints")
    vec = bone_vectors(joints, skeleton)
    # Norm via a clamped square root keeps the gradient finite at zero length.
    sq = (vec * vec).sum(-1)
    lengths = torch.sqrt(sq.clamp_min(eps * eps))
    directions = vec / lengths.unsqueeze(-1)
    lengths = torch.where(sq > eps * eps, lengths, torch.zeros_like(lengths))
    return Bones(lengths, directions)


def bone_vectors_to_joints(
    vectors: torch.Tensor, skeleton: Skeleton, root: torch.Tensor | None = None
) -> torch.Tensor:
    """Sum bone vectors from the root outward (Eq. 1 with ``D_b L_b`` given as one vector).

    Args:
        vectors: ``(..., B, C)`` bone vectors in bone order.
        skeleton: the joint tree.
        root: optional ``(..., C)`` root position; the origin by default.

    Returns:
        ``(..., J, C)`` joint positions.
    """
    check_points(vectors, skeleton.num_bones, coords=(2, 3), name="bone vectors")
    path = skeleton.path_matrix(device=vectors.device, dtype=vectors.dtype)  # (J, B)
    joints = torch.einsum("jb,...bc->...jc", path, vectors)
    if root is not None:
        if root.shape != vectors.shape[:-2] + vectors.shape[-1:]:
            raise ValueError(
                f"root: expected shape {tuple(vectors.shape[:-2] + vectors.shape[-1:])}, "
                f"got {tuple(root.shape)}"
            )
        joints = joints + root.unsqueeze(-2)
    return joints


def bones_to_joints(
    lengths: torch.Tensor,
    directions: torch.Tensor,
    skeleton: Skeleton,
    root: torch.Tensor | None = None,
) -> torch.Tensor:
    """Re-assemble joints from bone lengths and directions: the paper's Eq. 1.

    Args:
        lengths: ``(..., B)`` bone lengths.
        directions: ``(..., B, 3)`` bone directions (unit vectors for a faithful pose).
        skeleton: the joint tree.
        root: optional ``(..., 3)`` root position; the origin by default.

    Returns:
        ``(..., J, 3)`` joints, the root at ``root`` (or the origin).
    """
    check_points(directions, skeleton.num_bones, coords=3, name="directions")
    if lengths.shape != directions.shape[:-1]:
        raise ValueError(
            f"lengths: expected shape {tuple(directions.shape[:-1])} to match directions "
            f"{tuple(directions.shape)}, got {tuple(lengths.shape)}"
        )
    return bone_vectors_to_joints(directions * lengths.unsqueeze(-1), skeleton, root)


def joint_shifts(joints: torch.Tensor, pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """Relative joint shifts ``J[k2] - J[k1]`` for each pair ``(k1, k2)``.

    Args:
        joints: ``(..., J, C)`` joint positions.
        pairs: joint index pairs, e.g. ``skeleton.non_bone_pairs`` (the set P of Eq. 2).

    Returns:
        ``(..., len(pairs), C)`` shifts.
    """
    check_points(joints, None, coords=(2, 3), name="joints")
    if len(pairs) == 0:
        raise ValueError("pairs: expected at least one joint pair, got none")
    idx = torch.tensor(pairs, dtype=torch.long, device=joints.device)
    if int(idx.max()) >= joints.shape[-2] or int(idx.min()) < 0:
        raise ValueError(f"pairs: joint index out of range for {joints.shape[-2]} joints")
    return joints.index_select(-2, idx[:, 1]) - joints.index_select(-2, idx[:, 0])


def joint_shifts_from_bones(
    lengths: torch.Tensor,
    directions: torch.Tensor,
    skeleton: Skeleton,
    pairs: tuple[tuple[int, int], ...] | None = None,
) -> torch.Tensor:
    """Relative joint shifts derived from predicted bones (``X_JS`` of Eq. 2).

    Root-free: a shift only depends on the bones between the two joints.

    Args:
        lengths: ``(..., B)`` bone lengths.
        directions: ``(..., B, 3)`` bone directions.
        skeleton: the joint tree.
        pairs: joint pairs; ``skeleton.non_bone_pairs`` by default.

    Returns:
        ``(..., P, 3)`` shifts ``J[k2] - J[k1]``.
    """
    pairs = skeleton.non_bone_pairs if pairs is None else pairs
    return joint_shifts(bones_to_joints(lengths, directions, skeleton), pairs)


def retarget_bone_lengths(
    joints: torch.Tensor, lengths: torch.Tensor, skeleton: Skeleton
) -> torch.Tensor:
    """Give a pose sequence new bone lengths, keeping every bone direction and the root.

    This is the core of the paper's bone-length augmentation (Sec. 3.3).

    Args:
        joints: ``(..., J, 3)`` joint positions.
        lengths: new bone lengths, ``(B,)`` or broadcastable to ``(..., B)``.
        skeleton: the joint tree.

    Returns:
        ``(..., J, 3)`` joints with ``joints_to_bones(out).lengths == lengths`` and the
        same directions and root position as ``joints``.
    """
    bones = joints_to_bones(joints, skeleton)
    if lengths.shape[-1:] != (skeleton.num_bones,):
        raise ValueError(
            f"lengths: expected {skeleton.num_bones} bone lengths in the last dimension, "
            f"got shape {tuple(lengths.shape)}"
        )
    if (lengths < 0).any():
        raise ValueError("lengths: bone lengths must be non-negative")
    lengths = torch.broadcast_to(lengths.to(joints.dtype), bones.lengths.shape)
    root = joints[..., skeleton.root, :]
    return bones_to_joints(lengths, bones.directions, skeleton, root=root)


def swap_left_right(x: torch.Tensor, skeleton: Skeleton, dim: int = -2) -> torch.Tensor:
    """Swap left and right joints along ``dim`` (joints) without changing any value.

    Use ``dim=-1`` for per-joint scores ``(..., J)``.
    """
    if x.shape[dim] != skeleton.num_joints:
        raise ValueError(
            f"expected {skeleton.num_joints} joints in dimension {dim}, got shape {tuple(x.shape)}"
        )
    perm = _index(skeleton, "mirror_permutation", x.device)
    return x.index_select(dim, perm)


def mirror_joints(x: torch.Tensor, skeleton: Skeleton, axis: int = 0) -> torch.Tensor:
    """Mirror a pose: negate coordinate ``axis`` and swap left and right joints.

    Applying it twice gives back the input exactly.

    Args:
        x: ``(..., J, C)`` 2D or 3D joints, centred on the mirror plane (e.g. normalised
            screen coordinates or camera-space 3D).
        skeleton: the joint tree with its left/right lists.
        axis: coordinate to negate (0 = x).

    Returns:
        ``(..., J, C)`` mirrored joints.
    """
    check_points(x, skeleton.num_joints, coords=(2, 3), name="joints")
    sign = torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)
    sign[axis] = -1
    return swap_left_right(x * sign, skeleton)

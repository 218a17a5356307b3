"""Skeleton definitions: joints, the tree that joins them, bones and left/right symmetry.

A :class:`Skeleton` is a rooted tree. Every joint except the root has exactly one
parent, and the bone of a joint points from its parent to it:

    bone vector of joint k  =  J_k - J_parent(k)

so a skeleton of ``J`` joints has ``J - 1`` bones. Bones are numbered in
``bone_order`` (a list of child joints); by default that is the joint order with
the root left out. Nothing in the library assumes 17 joints or 16 bones.

Two skeletons are defined here:

* :data:`H36M_17`, the 17-joint Human3.6M skeleton used by the published lifting
  code (joint order and left/right lists as in the ``data_2d_h36m_*.npz`` metadata).
* :data:`MPI_INF_3DHP_17`, the 17-joint MPI-INF-3DHP skeleton in the order of the
  popular npz files (root = pelvis, joint 14), with its 14-joint evaluation subset
  :data:`MPI_INF_3DHP_EVAL_JOINTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import torch

__all__ = [
    "Skeleton",
    "H36M_17",
    "MPI_INF_3DHP_17",
    "MPI_INF_3DHP_EVAL_JOINTS",
    "get_skeleton",
]


@dataclass(frozen=True, eq=True)
class Skeleton:
    """A rooted joint tree with names, left/right symmetry and an ordered bone list.

    Attributes:
        name: short identifier (``"h36m"``).
        joint_names: one name per joint.
        parents: parent index of each joint, ``-1`` for the single root.
        joints_left: joints on the left side of the body.
        joints_right: their mirror images, in the same order as ``joints_left``.
        bone_order: child joint of each bone, in bone order. Empty means the joint
            order with the root removed.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    joints_left: tuple[int, ...] = ()
    joints_right: tuple[int, ...] = ()
    bone_order: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        j = len(self.parents)
        if len(self.joint_names) != j:
            raise ValueError(
                f"Skeleton {self.name!r}: {len(self.joint_names)} joint names for {j} parents"
            )
        roots = [k for k, p in enumerate(self.parents) if p == -1]
        if len(roots) != 1:
            raise ValueError(f"Skeleton {self.name!r}: expected exactly one root (-1), got {roots}")
        for k, p in enumerate(self.parents):
            if p != -1 and not 0 <= p < j:
                raise ValueError(f"Skeleton {self.name!r}: joint {k} has invalid parent {p}")
        # Every joint must reach the root: no cycles.
        for k in range(j):
            seen, q = set(), k
            while q != -1:
                if q in seen:
                    raise ValueError(f"Skeleton {self.name!r}: cycle through joint {k}")
                seen.add(q)
                q = self.parents[q]
        if len(self.joints_left) != len(self.joints_right):
            raise ValueError(
                f"Skeleton {self.name!r}: joints_left and joints_right differ in length "
                f"({len(self.joints_left)} vs {len(self.joints_right)})"
            )
        if set(self.joints_left) & set(self.joints_right):
            raise ValueError(f"Skeleton {self.name!r}: a joint is both left and right")
        if self.bone_order:
            expected = sorted(k for k in range(j) if k != roots[0])
            if sorted(self.bone_order) != expected:
                raise ValueError(
                    f"Skeleton {self.name!r}: bone_order must list every non-root joint once, "
                    f"got {list(self.bone_order)}"
                )

    # ------------------------------------------------------------------ sizes
    @property
    def num_joints(self) -> int:
        """Number of joints ``J``."""
        return len(self.parents)

    @property
    def num_bones(self) -> int:
        """Number of bones ``B = J - 1``."""
        return len(self.parents) - 1

    @cached_property
    def root(self) -> int:
        """Index of the root joint (the pelvis for both human skeletons)."""
        return self.parents.index(-1)

    # ------------------------------------------------------------------ bones
    @cached_property
    def bone_children(self) -> tuple[int, ...]:
        """Child joint of each bone, in bone order."""
        if self.bone_order:
            return tuple(self.bone_order)
        return tuple(k for k in range(self.num_joints) if k != self.root)

    @cached_property
    def bone_parents(self) -> tuple[int, ...]:
        """Parent joint of each bone, in bone order."""
        return tuple(self.parents[c] for c in self.bone_children)

    @cached_property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """``(child, parent)`` joint pair of each bone; bone vector = J[child] - J[parent]."""
        return tuple(zip(self.bone_children, self.bone_parents, strict=True))

    @cached_property
    def bone_names(self) -> tuple[str, ...]:
        """``"parent->child"`` name of each bone."""
        return tuple(f"{self.joint_names[p]}->{self.joint_names[c]}" for c, p in self.bones)

    @cached_property
    def bone_of_joint(self) -> tuple[int, ...]:
        """Index of the bone ending at each joint (``-1`` for the root)."""
        out = [-1] * self.num_joints
        for b, c in enumerate(self.bone_children):
            out[c] = b
        return tuple(out)

    @cached_property
    def path_matrix_list(self) -> tuple[tuple[int, ...], ...]:
        """``P[k][b] = 1`` if bone ``b`` lies on the path from the root to joint ``k``.

        With it the paper's Eq. 1 is a matrix product: ``J_k - J_root = sum_b P[k, b] D_b L_b``.
        """
        rows = []
        for k in range(self.num_joints):
            row = [0] * self.num_bones
            q = k
            while self.parents[q] != -1:
                row[self.bone_of_joint[q]] = 1
                q = self.parents[q]
            rows.append(tuple(row))
        return tuple(rows)

    def path_matrix(self, device=None, dtype=torch.float32) -> torch.Tensor:
        """Eq. 1 as a ``(J, B)`` 0/1 tensor (see :attr:`path_matrix_list`)."""
        return torch.tensor(self.path_matrix_list, device=device, dtype=dtype)

    @cached_property
    def depth(self) -> tuple[int, ...]:
        """Number of bones between the root and each joint."""
        return tuple(sum(row) for row in self.path_matrix_list)

    @cached_property
    def non_bone_pairs(self) -> tuple[tuple[int, int], ...]:
        """Joint pairs ``(k1, k2)``, ``k1 < k2``, not joined by a bone: the set P of Eq. 2.

        For the 17-joint Human3.6M skeleton this is 136 - 16 = 120 pairs.
        """
        bonded = {frozenset(b) for b in self.bones}
        return tuple(
            (a, b)
            for a in range(self.num_joints)
            for b in range(a + 1, self.num_joints)
            if frozenset((a, b)) not in bonded
        )

    # ------------------------------------------------------------- symmetry
    @cached_property
    def mirror_permutation(self) -> tuple[int, ...]:
        """Joint permutation that swaps each left joint with its right counterpart."""
        perm = list(range(self.num_joints))
        for left, right in zip(self.joints_left, self.joints_right, strict=True):
            perm[left], perm[right] = right, left
        return tuple(perm)

    @cached_property
    def bone_mirror_permutation(self) -> tuple[int, ...]:
        """Bone permutation induced by :attr:`mirror_permutation`."""
        m = self.mirror_permutation
        index = {bone: b for b, bone in enumerate(self.bones)}
        out = []
        for c, p in self.bones:
            mirrored = (m[c], m[p])
            if mirrored not in index:
                raise ValueError(
                    f"Skeleton {self.name!r}: left/right lists are not a tree symmetry "
                    f"(bone {c}<-{p} maps to {mirrored}, which is not a bone)"
                )
            out.append(index[mirrored])
        return tuple(out)

    def joint_index(self, name: str) -> int:
        """Index of the joint called ``name``."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(
                f"Skeleton {self.name!r} has no joint {name!r}; joints: {self.joint_names}"
            ) from None

    def __repr__(self) -> str:
        return f"Skeleton({self.name!r}, {self.num_joints} joints, {self.num_bones} bones)"


H36M_17 = Skeleton(
    name="h36m",
    joint_names=(
        "pelvis",
        "right_hip",
        "right_knee",
        "right_ankle",
        "left_hip",
        "left_knee",
        "left_ankle",
        "spine",
        "thorax",
        "neck_nose",
        "head",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
    ),  # fmt: skip
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    joints_left=(4, 5, 6, 11, 12, 13),
    joints_right=(1, 2, 3, 14, 15, 16),
)
"""The 17-joint Human3.6M skeleton (order of the published ``data_2d_h36m_*.npz`` files)."""

MPI_INF_3DHP_17 = Skeleton(
    name="mpi_inf_3dhp",
    joint_names=(
        "head_top",
        "neck",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_hip",
        "right_knee",
        "right_ankle",
        "left_hip",
        "left_knee",
        "left_ankle",
        "pelvis",
        "spine",
        "head",
    ),  # fmt: skip
    parents=(16, 15, 1, 2, 3, 1, 5, 6, 14, 8, 9, 14, 11, 12, -1, 14, 1),
    joints_left=(5, 6, 7, 11, 12, 13),
    joints_right=(2, 3, 4, 8, 9, 10),
)
"""The 17-joint MPI-INF-3DHP skeleton (order of the P-STMO-style npz files, root 14)."""

MPI_INF_3DHP_EVAL_JOINTS: tuple[int, ...] = tuple(range(14))
"""The 14 joints (head top to left ankle) scored by the MPI-INF-3DHP PCK/AUC protocol."""

_SKELETONS = {s.name: s for s in (H36M_17, MPI_INF_3DHP_17)}


def get_skeleton(name: str) -> Skeleton:
    """Look a skeleton up by name (``"h36m"`` or ``"mpi_inf_3dhp"``)."""
    try:
        return _SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; known: {sorted(_SKELETONS)}") from None

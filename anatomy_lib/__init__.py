"""anatomy_lib: anatomy-aware 3D human pose estimation in videos (Chen et al.).

The paper decomposes 3D joints into bone directions (a temporal network over nearby
frames) and bone lengths (a per-frame network over frames sampled from the whole video),
joined by a joint shift loss, with 2D keypoint visibility fed in by implicit attention.

Sub-modules, one concept each:

* :mod:`anatomy_lib.skeleton`: joint trees (Human3.6M, MPI-INF-3DHP).
* :mod:`anatomy_lib.bones`: Eq. 1 and the bone decomposition as tensor functions.
* :mod:`anatomy_lib.camera`: Human3.6M cameras, projection, screen normalisation.
* :mod:`anatomy_lib.metrics`: MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK, AUC, action tables.
"""

from . import camera, metrics
from .bones import (
    Bones,
    bone_vectors,
    bones_to_joints,
    joint_shifts,
    joint_shifts_from_bones,
    joints_to_bones,
    mirror_joints,
    retarget_bone_lengths,
    swap_left_right,
)
from .skeleton import H36M_17, MPI_INF_3DHP_17, Skeleton, get_skeleton

__version__ = "0.1.0"

__all__ = [
    "camera",
    "metrics",
    "Bones",
    "H36M_17",
    "MPI_INF_3DHP_17",
    "Skeleton",
    "bone_vectors",
    "bones_to_joints",
    "get_skeleton",
    "joint_shifts",
    "joint_shifts_from_bones",
    "joints_to_bones",
    "mirror_joints",
    "retarget_bone_lengths",
    "swap_left_right",
]

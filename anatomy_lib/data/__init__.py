"""Datasets, loaders, samplers and augmentation.

* :mod:`.sequences`: :class:`PoseSequence` / :class:`PoseDataset` records.
* :mod:`.embedded`: the shipped datasets (:func:`load_default_dataset`,
  :func:`load_pose2sim_trial`) and a real validation person (:func:`load_pose2sim_multiperson`:
  person 2 of a trial whose person 1 is the test performer, left out by default).
* :mod:`.h36m`, :mod:`.mpi_inf_3dhp`: loaders for the published npz formats.
* :mod:`.keypoint_formats`: COCO / OpenPose / Halpe / MediaPipe -> Human3.6M-17.
* :mod:`.samplers`: vectorised window + whole-video frame batches.
* :mod:`.augment`: flip and bone-length augmentation.
* :mod:`.joint_limits`: anatomical joint angles and their ranges (Rajagopal model).
* :mod:`.bodies`: ANSUR II bodies as Human3.6M-17 bone lengths.
* :mod:`.amp_motion`: the shipped AMP motion clips (:func:`load_amp_motion`), built by
  :mod:`.build_motion`.
* :mod:`.pose_recombination`: new motions by limb crossover and smooth mutation across
  windows, with a body-penetration check (:func:`recombine_limbs`).
* :mod:`.engine`, :mod:`.virtual_cameras`, :mod:`.detector_errors`: the training-data engine.
* :mod:`.rotations`: NumPy rotations (quaternion, axis-angle, Euler) for the readers.
* :mod:`.simulate`, :mod:`.build_embedded`, :mod:`.pose2sim`: building the data;
  :mod:`.build` holds the build-time-only motion-capture readers (ASF/AMC, DeepMimic,
  URDF, Mixamo), imported by nothing at run time.
"""

from .amp_motion import load_amp_motion
from .bodies import (
    BodyTable,
    MarkerJointDefinitions,
    MarkerJointRanges,
    load_body_table,
    lower_thorax,
    marker_joint_definitions,
    sample_bone_lengths,
    shoulders_above_thorax,
    vary_marker_joints,
    vary_thorax,
)
from .embedded import load_default_dataset, load_pose2sim_multiperson, load_pose2sim_trial
from .joint_limits import broken_limits, joint_angles, within_limits
from .pose_recombination import RecombinationConfig, RecombinationResult, recombine_limbs
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "BodyTable",
    "PoseDataset",
    "PoseSequence",
    "RecombinationConfig",
    "RecombinationResult",
    "broken_limits",
    "joint_angles",
    "load_amp_motion",
    "load_body_table",
    "MarkerJointRanges",
    "MarkerJointDefinitions",
    "marker_joint_definitions",
    "lower_thorax",
    "vary_marker_joints",
    "vary_thorax",
    "shoulders_above_thorax",
    "load_default_dataset",
    "load_pose2sim_multiperson",
    "load_pose2sim_trial",
    "recombine_limbs",
    "sample_bone_lengths",
    "within_limits",
]

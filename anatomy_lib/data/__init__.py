"""Datasets, loaders, samplers and augmentation.

* :mod:`.sequences`: :class:`PoseSequence` / :class:`PoseDataset` records.
* :mod:`.embedded`: the shipped datasets (:func:`load_default_dataset`,
  :func:`load_pose2sim_trial`).
* :mod:`.h36m`, :mod:`.mpi_inf_3dhp`: loaders for the published npz formats.
* :mod:`.keypoint_formats`: COCO / OpenPose / Halpe / MediaPipe -> Human3.6M-17.
* :mod:`.samplers`: vectorised window + whole-video frame batches.
* :mod:`.augment`: flip and bone-length augmentation.
* :mod:`.rotations`: NumPy rotations (quaternion, axis-angle, Euler) for the readers.
* :mod:`.simulate`, :mod:`.build_embedded`, :mod:`.pose2sim`: building the data;
  :mod:`.build` holds the build-time-only motion-capture readers (ASF/AMC, DeepMimic,
  URDF, Mixamo), imported by nothing at run time.
"""

from .embedded import load_default_dataset, load_pose2sim_trial
from .sequences import PoseDataset, PoseSequence

__all__ = ["PoseDataset", "PoseSequence", "load_default_dataset", "load_pose2sim_trial"]

"""Checking lifting on real detections: the Pose2Sim trial, camera by camera.

Each of the 4 cameras' real OpenPose detections (BODY_25B -> Human3.6M-17, confidences as
visibility) is lifted on its own and compared with the triangulated 3D of the trial
(:func:`anatomy_lib.data.load_pose2sim_trial`), expressed in that camera's axes:

* MPJPE after root alignment (both poses root-relative): meaningful here because the
  triangulation is metric, so the model's metric scale can be judged;
* P-MPJPE: after the best similarity transform (scale, rotation, translation).

The triangulated "truth" has its own error (it re-projects 7-20 px from the detections)
and the marker set differs from Human3.6M's joints (head, spine): numbers measure
agreement, not accuracy against motion capture.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["CameraErrors", "pose2sim_camera_errors"]


@dataclass(frozen=True)
class CameraErrors:
    """Errors of one camera's lifted sequence, millimetres, over ``frames`` frames."""

    camera: str
    frames: int
    mpjpe_mm: float
    p_mpjpe_mm: float


def pose2sim_camera_errors(
    model: nn.Module, flip: bool = True, joint_order: torch.Tensor | None = None
) -> list[CameraErrors]:
    """Lift each Pose2Sim camera and compare with the triangulated 3D (module docstring).

    Args:
        model: an ``AnatomyModel`` or ``TemporalConvNet`` on Human3.6M-17.
        flip: test-time flip augmentation.
        joint_order: optional ``(17,)`` permutation applied to the 2D joints before lifting
            (to show what a wrong keypoint layout does).

    Returns:
        One :class:`CameraErrors` per camera.
    """
    from ..data import load_pose2sim_trial
    from ..data.augment import normalized_intrinsics
    from ..evaluation import EvaluationConfig, predict_sequence
    from ..metrics import mpjpe, p_mpjpe

    data = load_pose2sim_trial()
    protocol = EvaluationConfig(flip=flip)
    out = []
    for seq in data.sequences:
        kp, sc = seq.keypoints_2d, seq.scores
        if joint_order is not None:
            kp, sc = kp[:, joint_order], sc[:, joint_order]
        intrinsics = normalized_intrinsics(seq.camera)
        pred = predict_sequence(model, kp, sc, protocol, intrinsics).detach().cpu().double()
        target = seq.joints_3d_relative.double()
        out.append(
            CameraErrors(
                camera=seq.camera.id,
                frames=len(target),
                mpjpe_mm=round(1000 * float(mpjpe(pred, target)), 1),
                p_mpjpe_mm=round(1000 * float(p_mpjpe(pred, target)), 1),
            )
        )
    return out

"""The training objective: Eq. 7 assembled from a model's output and the batch targets.

Which parameters each term reaches is decided by the model, which detaches its tensors
(Sec. 3.3-3.4): the joint shift loss trains only the direction network (and the shift
heads), the per-frame loss (Eq. 5) only the length network, the length loss (Eq. 4)
only the bone-length attention, and the final-joints loss only the final head. This
module adds the per-sub-network weighting of the direction losses:

* every sub-network gets Eq. 3 and Eq. 2 on its own output; all but the last are scaled
  by ``losses.first_stage_decay`` (1 in the paper, 0.5 in the released code);
* Baseline-D (``model.direction_loss_at_every_stage=False``) applies them at the top only.

With ML off (``per_frame_loss=False``, Table 4's AF) there is no Eq. 5: Eq. 4 is applied
to lengths pooled from the length network's *non-detached* per-frame lengths, so it
trains the length network directly (and the attention, when there is one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..bones import joint_shifts, joints_to_bones
from ..losses import (
    bone_direction_loss,
    bone_length_loss,
    joint_shift_loss,
    mpjpe_loss,
    per_frame_joint_loss,
    weighted_sum,
)
from ..models.anatomy import AnatomyOutput
from ..models.length import LengthOutput
from .config import ExperimentConfig

__all__ = ["Objective", "stage_weights", "anatomy_objective", "baseline_objective"]


@dataclass
class Objective:
    """A loss value and its parts.

    Attributes:
        total: scalar to back-propagate, ``sum_k weights[k] * terms[k]``.
        terms: unweighted terms by name (``"direction/1"`` is sub-network 1's Eq. 3).
        weights: the weight of each term in ``total``.
    """

    total: torch.Tensor
    terms: dict[str, torch.Tensor]
    weights: dict[str, float]

    def as_floats(self) -> dict[str, float]:
        """``{"loss": total, **terms}`` as Python floats (for the history)."""
        out = {"loss": float(self.total.detach())}
        out.update({k: float(v.detach()) for k, v in self.terms.items()})
        return out


def stage_weights(
    num_stages: int, at_every_stage: bool, first_stage_decay: float
) -> tuple[float, ...]:
    """Relative weight of each direction sub-network's losses, sub-network 1 first.

    >>> stage_weights(2, True, 0.5)
    (0.5, 1.0)
    >>> stage_weights(2, False, 0.5)
    (0.0, 1.0)
    """
    if num_stages < 1:
        raise ValueError(f"num_stages: expected >= 1, got {num_stages}")
    if not at_every_stage:
        return (0.0,) * (num_stages - 1) + (1.0,)
    return (float(first_stage_decay),) * (num_stages - 1) + (1.0,)


def anatomy_objective(
    output: AnatomyOutput,
    target: torch.Tensor,
    sampled_target: torch.Tensor,
    experiment: ExperimentConfig,
    generator: torch.Generator | None = None,
    augmented: LengthOutput | None = None,
    augmented_lengths: torch.Tensor | None = None,
    augmented_sampled_target: torch.Tensor | None = None,
) -> Objective:
    """Eq. 7 for an :class:`~anatomy_lib.models.AnatomyModel` batch.

    Args:
        output: the model's output for ``N`` windows.
        target: ``(N, J, 3)`` root-relative ground-truth joints of the target frames (m).
        sampled_target: ``(N, l, J, 3)`` ground truth of the frames fed to the length network.
        experiment: weights and switches (``losses``, ``per_frame_loss``, ``model``).
        generator: picks the frame of Eq. 5 (reproducible runs).
        augmented: length network output on the bone-length-augmented batch (AUG), or None.
        augmented_lengths: ``(N_a, B)`` bone lengths of the augmented clips (m).
        augmented_sampled_target: ``(N_a, l, J, 3)`` joints of the augmented sampled
            frames, for ``experiment.augmented_per_frame_loss``.

    Returns:
        :class:`Objective` with terms ``direction/k``, ``joint_shift/k``, ``length``,
        ``joints`` (ML on), ``final_joints`` and ``augmented_length`` /
        ``augmented_joints`` when given.
    """
    sk = experiment.model.skeleton_tree
    lw = experiment.losses
    bones = joints_to_bones(target, sk)
    pairs = sk.non_bone_pairs
    target_shifts = joint_shifts(target, pairs) if pairs else None
    k_total = len(output.stage_directions)
    per_stage = stage_weights(
        k_total, experiment.model.direction_loss_at_every_stage, lw.first_stage_decay
    )
    terms: dict[str, torch.Tensor] = {}
    weights: dict[str, float] = {}
    for k, (w, dirs, shifts) in enumerate(
        zip(per_stage, output.stage_directions, output.stage_joint_shifts, strict=True), start=1
    ):
        if w == 0:
            continue
        terms[f"direction/{k}"] = bone_direction_loss(dirs, bones.directions)
        weights[f"direction/{k}"] = lw.direction * w
        if lw.joint_shift > 0 and target_shifts is not None:
            terms[f"joint_shift/{k}"] = joint_shift_loss(shifts, target_shifts)
            weights[f"joint_shift/{k}"] = lw.joint_shift * w
    if experiment.per_frame_loss:
        terms["length"] = bone_length_loss(output.lengths, bones.lengths)
        terms["joints"] = per_frame_joint_loss(output.sampled_joints, sampled_target, generator)
        weights["joints"] = lw.joints
    else:
        frame_lengths = joints_to_bones(output.sampled_joints, sk).lengths
        terms["length"] = bone_length_loss(
            (output.attention * frame_lengths).sum(-2), bones.lengths
        )
    weights["length"] = lw.length
    terms["final_joints"] = mpjpe_loss(output.joints, target)
    weights["final_joints"] = lw.final_joints
    if augmented is not None:
        if augmented_lengths is None:
            raise ValueError("augmented_lengths: required with an augmented batch, got None")
        terms["augmented_length"] = bone_length_loss(augmented.lengths, augmented_lengths)
        weights["augmented_length"] = lw.length
        if experiment.augmented_per_frame_loss:
            if augmented_sampled_target is None:
                raise ValueError(
                    "augmented_sampled_target: required when augmented_per_frame_loss is on"
                )
            terms["augmented_joints"] = per_frame_joint_loss(
                augmented.sampled_joints, augmented_sampled_target, generator
            )
            weights["augmented_joints"] = lw.joints
    return Objective(weighted_sum(terms, weights), terms, weights)


def baseline_objective(
    prediction: torch.Tensor, target: torch.Tensor, experiment: ExperimentConfig
) -> Objective:
    """MPJPE of the baseline, plus Eq. 2 on its predicted joints' shifts (Baseline + JSL).

    Args:
        prediction: ``(N, J, 3)`` predicted root-relative joints (m).
        target: ``(N, J, 3)`` ground truth (m).
        experiment: ``losses.joint_shift`` > 0 adds the joint shift loss with that weight.
    """
    terms = {"final_joints": mpjpe_loss(prediction, target)}
    weights = {"final_joints": 1.0}
    pairs = experiment.model.skeleton_tree.non_bone_pairs
    if experiment.losses.joint_shift > 0 and pairs:
        terms["joint_shift/1"] = joint_shift_loss(
            joint_shifts(prediction, pairs), joint_shifts(target, pairs)
        )
        weights["joint_shift/1"] = experiment.losses.joint_shift
    return Objective(weighted_sum(terms, weights), terms, weights)

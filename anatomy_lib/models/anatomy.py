"""The anatomy-aware model (paper Fig. 1): bone directions + bone lengths -> 3D joints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from .config import ModelConfig
from .direction import BoneDirectionNet
from .heads import AnatomyHeads
from .inference_plan import forget_plan
from .inputs import check_sampled, check_window, normalize_keypoints
from .length import BoneLengthNet, LengthOutput

if TYPE_CHECKING:
    from .inference import LiftResult

__all__ = ["AnatomyModel", "AnatomyOutput"]


@dataclass
class AnatomyOutput:
    """Everything the losses need, for a batch of ``N`` windows (one target frame each).

    ``J`` joints, ``B = J - 1`` bones, ``P = len(skeleton.non_bone_pairs)``, ``K`` direction
    sub-networks, ``l`` sampled frames. Lengths and joints in metres (the targets' unit),
    joints root-relative in camera space.

    Attributes:
        joints: ``(N, J, 3)`` final joints of the target frame (head of Sec. 4.2 or Eq. 1).
        directions: ``(N, B, 3)`` unit bone directions of the top sub-network.
        stage_directions: ``K`` tensors ``(N, B, 3)``, sub-network 1 first.
        stage_joint_shifts: ``K`` tensors ``(N, P, 3)``: ``J[k2] - J[k1]`` per pair of
            ``skeleton.non_bone_pairs`` from each sub-network's directions and the
            (detached) lengths.
        lengths: ``(N, B)`` attention-pooled bone lengths.
        sampled_joints: ``(N, l, J, 3)`` joints of each sampled frame (length network).
        sampled_lengths: ``(N, l, B)`` bone lengths of each sampled frame (no gradient).
        attention: ``(N, l, B)`` attention over the sampled frames (sums to 1 over ``l``).
    """

    joints: torch.Tensor
    directions: torch.Tensor
    stage_directions: tuple[torch.Tensor, ...]
    stage_joint_shifts: tuple[torch.Tensor, ...]
    lengths: torch.Tensor
    sampled_joints: torch.Tensor
    sampled_lengths: torch.Tensor
    attention: torch.Tensor


class AnatomyModel(nn.Module):
    """Bone direction network + bone length network + heads (window / training form).

    Args:
        config: :class:`ModelConfig`, e.g. ``ModelConfig.preset("paper-243")``.

    Whole videos: :meth:`lift` (= :func:`anatomy_lib.models.lift_video`).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config: expected a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.skeleton = config.skeleton_tree
        self.direction = BoneDirectionNet(config)
        self.length = BoneLengthNet(config)
        self.heads = AnatomyHeads(config)

    @property
    def receptive_field(self) -> int:
        """Frames in the direction network's input window."""
        return self.config.receptive_field

    def forward(
        self,
        keypoints_2d: torch.Tensor,
        scores: torch.Tensor | None,
        sampled_2d: torch.Tensor,
    ) -> AnatomyOutput:
        """Predict the target frame of each window.

        Args:
            keypoints_2d: ``(N, T, J, 2)`` normalised screen coordinates, ``T`` = receptive
                field; the target frame is the centre (the last one when causal).
            scores: ``(N, T, J)`` visibility in ``[0, 1]``; required unless
                ``visibility="none"`` (then ignored).
            sampled_2d: ``(N, l, J, 2)`` keypoints of ``l`` frames sampled from the video.

        Returns:
            :class:`AnatomyOutput`.
        """
        needs_scores = self.config.visibility != "none"
        check_window(keypoints_2d, scores, self.skeleton, needs_scores, frames=self.receptive_field)
        check_sampled(sampled_2d, self.skeleton, batch=keypoints_2d.shape[0])
        keypoints_2d = self.normalize_input(keypoints_2d)
        sampled_2d = self.normalize_input(sampled_2d)
        dirs = self.direction(keypoints_2d, scores if needs_scores else None).stage_directions
        length = self.length(sampled_2d.to(keypoints_2d.dtype))
        shifts = tuple(self.heads.joint_shifts(k, length.lengths, d) for k, d in enumerate(dirs))
        return AnatomyOutput(
            joints=self.heads.joints(length.lengths, dirs[-1]),
            directions=dirs[-1],
            stage_directions=dirs,
            stage_joint_shifts=shifts,
            lengths=length.lengths,
            sampled_joints=length.sampled_joints,
            sampled_lengths=length.sampled_lengths,
            attention=length.attention,
        )

    def bone_lengths(self, sampled_2d: torch.Tensor, joints_grad: bool = True) -> LengthOutput:
        """Length network alone (the bone-length-augmented batch of Sec. 3.3).

        Args:
            sampled_2d: ``(N, l, J, 2)`` keypoints of sampled frames.
            joints_grad: record the per-frame network's graph (needed only when a loss
                reads ``sampled_joints``, e.g. the released code's per-frame loss on the
                augmented batch); the attention is trained either way.
        """
        check_sampled(sampled_2d, self.skeleton)
        return self.length(self.normalize_input(sampled_2d), joints_grad=joints_grad)

    def normalize_input(self, keypoints_2d: torch.Tensor) -> torch.Tensor:
        """``(..., J, 2)`` normalised screen coordinates as the networks read them
        (``config.input_normalization``, :func:`~anatomy_lib.models.inputs.normalize_keypoints`)."""
        return normalize_keypoints(keypoints_2d, self.config.input_normalization, self.skeleton)

    def lift(
        self, keypoints_2d: torch.Tensor, scores: torch.Tensor | None = None, **options
    ) -> LiftResult:
        """Whole-video inference: ``(T, J, 2)`` (+ ``(T, J)`` scores) -> :class:`LiftResult`.

        Same as ``lift_video(self, keypoints_2d, scores, **options)``; see
        :func:`anatomy_lib.models.lift_video` for the options (``length_frames``, ``seed``,
        ``chunk_size``, ``dtype``).
        """
        from .inference import lift_video

        return lift_video(self, keypoints_2d, scores, **options)

    def train(self, mode: bool = True) -> AnatomyModel:
        """Set training / eval mode (``nn.Module.train``); drops the cached inference plan."""
        forget_plan(self)
        return super().train(mode)

    def set_bn_momentum(self, momentum: float) -> None:
        """Set the momentum of every BatchNorm layer (the trainer decays it)."""
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum = momentum

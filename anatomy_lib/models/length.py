"""Bone length network (paper Sec. 3.3, Fig. 4, Eq. 6).

A fully-connected residual network maps each sampled frame's 2D keypoints ``(J, 2)``
to root-relative 3D joints ``(J, 3)`` (trained by MPJPE on one sampled frame, Eq. 5).
Per-frame bone lengths are derived from those joints; the clip's bone lengths are
their attention-weighted average over the ``l`` sampled frames (Eq. 6):

    A_i = softmax_i(gamma * W f(X_i)),   X_L = sum_i A_i * X_iL   (per bone)

with ``f(X) = X`` (paper) or ``[X, |X|]`` (released code). The attention reads
*detached* joints and weighs *detached* per-frame lengths, so the length loss (Eq. 4)
trains only ``W`` and the joint loss only the FC network, as the paper states.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..bones import joints_to_bones
from .config import ModelConfig
from .dropout import Dropout

__all__ = ["BoneLengthNet", "LengthOutput", "FCResidualBlock"]


@dataclass
class LengthOutput:
    """Output of :class:`BoneLengthNet` for ``N`` clips of ``l`` sampled frames.

    Attributes:
        lengths: ``(N, B)`` attention-pooled bone lengths (metres).
        sampled_joints: ``(N, l, J, 3)`` per-frame root-relative joints (metres).
        sampled_lengths: ``(N, l, B)`` per-frame bone lengths of the detached joints (metres).
        attention: ``(N, l, B)`` weights over the sampled frames, summing to 1 over ``l``.
    """

    lengths: torch.Tensor
    sampled_joints: torch.Tensor
    sampled_lengths: torch.Tensor
    attention: torch.Tensor


class FCResidualBlock(nn.Module):
    """Two (Linear, BatchNorm, ReLU, dropout) layers plus the residual."""

    def __init__(self, channels: int, dropout: float, bn_momentum: float) -> None:
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(channels, channels) for _ in range(2))
        self.bns = nn.ModuleList(nn.BatchNorm1d(channels, momentum=bn_momentum) for _ in range(2))
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(M, C) -> (M, C)``."""
        y = x
        for lin, bn in zip(self.linears, self.bns, strict=True):
            y = self.drop(F.relu(bn(lin(y))))
        return x + y


class BoneLengthNet(nn.Module):
    """Per-frame FC residual lifting network + bone-length attention (see module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.skeleton = sk = config.skeleton_tree
        c, j = config.channels, sk.num_joints
        self.input = nn.Linear(2 * j, c)
        self.input_bn = nn.BatchNorm1d(c, momentum=config.bn_momentum)
        self.drop = Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            FCResidualBlock(c, config.dropout, config.bn_momentum) for _ in range(config.num_blocks)
        )
        self.output = nn.Linear(c, 3 * j)
        self.attention: nn.Linear | None = None
        if config.length_attention == "softmax":
            feats = 3 * j * (2 if config.attention_features == "joints_abs" else 1)
            self.attention = nn.Linear(feats, sk.num_bones)

    def frame_joints(self, keypoints_2d: torch.Tensor) -> torch.Tensor:
        """``(..., J, 2)`` keypoints of single frames -> ``(..., J, 3)`` root-relative joints."""
        lead = keypoints_2d.shape[:-2]
        h = self.drop(
            F.relu(
                self.input_bn(self.input(keypoints_2d.reshape(-1, 2 * self.skeleton.num_joints)))
            )
        )
        for block in self.blocks:
            h = block(h)
        return self.output(h).reshape(*lead, self.skeleton.num_joints, 3)

    def frame_terms(self, joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame ``(lengths (..., B), attention logits gamma*W f(X) (..., B))`` of
        detached joints ``(..., J, 3)``; logits are zeros for ``"mean"`` attention."""
        joints = joints.detach()
        lengths = joints_to_bones(joints, self.skeleton).lengths
        if self.attention is None:
            return lengths, torch.zeros_like(lengths)
        x = joints.flatten(-2)
        if self.config.attention_features == "joints_abs":
            x = torch.cat([x, x.abs()], dim=-1)
        return lengths, self.config.attention_temperature * self.attention(x)

    def forward(self, sampled_2d: torch.Tensor, joints_grad: bool = True) -> LengthOutput:
        """``(N, l, J, 2)`` sampled frames' keypoints -> :class:`LengthOutput`.

        ``joints_grad=False`` runs the per-frame network without recording its graph, for
        batches whose per-frame joints feed no loss (the attention reads them detached
        anyway): same values and BatchNorm updates, less memory and time.
        """
        with torch.set_grad_enabled(torch.is_grad_enabled() and joints_grad):
            joints = self.frame_joints(sampled_2d)
        lengths, logits = self.frame_terms(joints)
        attention = torch.softmax(logits, dim=-2)  # zeros give the plain mean
        return LengthOutput((attention * lengths).sum(-2), joints, lengths, attention)

"""Heads joining bone lengths and directions into joints and joint shifts.

``joint_head="fc"`` (paper Sec. 4.2, released structure): a :class:`FusionHead`
``out(Linear(B, C)(lengths) * Linear(3B, C)(directions))`` gives the final ``3J`` joints,
and one per direction sub-network gives the ``3P`` joint shifts (``P`` =
``len(skeleton.non_bone_pairs)``, shift = ``J[k2] - J[k1]``). ``joint_head="exact"``
uses Eq. 1 instead (:func:`~anatomy_lib.bones.bones_to_joints`), with no parameters.

Gradient flow (paper Sec. 3.4): joint shifts see *detached* lengths, so the joint shift
loss trains only the direction network (and the shift heads); the final-joints head sees
detached lengths and directions, so its loss trains only that head. The exact final
joints are not detached (they have no parameters of their own).
"""

from __future__ import annotations

import torch
from torch import nn

from ..bones import bones_to_joints, joint_shifts_from_bones
from .config import ModelConfig

__all__ = ["FusionHead", "AnatomyHeads"]


class FusionHead(nn.Module):
    """``out(Linear(B, C)(lengths) * Linear(3B, C)(directions))``."""

    def __init__(self, num_bones: int, channels: int, out_features: int) -> None:
        super().__init__()
        self.length = nn.Linear(num_bones, channels)
        self.direction = nn.Linear(3 * num_bones, channels)
        self.out = nn.Linear(channels, out_features)

    def forward(self, lengths: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """``lengths (..., B)``, ``directions (..., B, 3)`` -> ``(..., out_features)``."""
        return self.out(self.length(lengths) * self.direction(directions.flatten(-2)))


class AnatomyHeads(nn.Module):
    """Final joints and per-stage joint shifts from lengths and directions."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.skeleton = sk = config.skeleton_tree
        self.exact = config.joint_head == "exact"
        self.num_pairs = len(sk.non_bone_pairs)
        if not self.exact:
            b, c = sk.num_bones, config.channels
            self.joints_head = FusionHead(b, c, 3 * sk.num_joints)
            self.shift_heads = nn.ModuleList(
                FusionHead(b, c, 3 * self.num_pairs) for _ in range(config.num_direction_stages)
            )

    def joints(self, lengths: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """``(..., B)`` lengths (m), ``(..., B, 3)`` unit directions -> ``(..., J, 3)``
        root-relative joints (m)."""
        if self.exact:
            return bones_to_joints(lengths, directions, self.skeleton)
        out = self.joints_head(lengths.detach(), directions.detach())
        return out.unflatten(-1, (self.skeleton.num_joints, 3))

    def joint_shifts(
        self, stage: int, lengths: torch.Tensor, directions: torch.Tensor
    ) -> torch.Tensor:
        """Shifts of sub-network ``stage``: ``(..., B)``, ``(..., B, 3)`` -> ``(..., P, 3)`` (m)."""
        lengths = lengths.detach()
        if self.num_pairs == 0:
            return directions.new_zeros(*directions.shape[:-2], 0, 3)
        if self.exact:
            return joint_shifts_from_bones(lengths, directions, self.skeleton)
        return self.shift_heads[stage](lengths, directions).unflatten(-1, (self.num_pairs, 3))

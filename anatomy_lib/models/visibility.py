"""Implicit visibility attention (paper Sec. 3.5, Fig. 5).

The visibility score sequence ``(N, J, T)`` goes through its own conv block (width
``w0``, BN, ReLU, dropout) to a ``C``-channel feature aligned with the keypoint feature
after the expand layer; their elementwise product (the keypoint feature acting as
implicit attention weights) is concatenated to the keypoint feature, so the first
residual block reads ``2C`` channels. The other visibility modes are ``"fusion"``
(scores appended to the 2D input, see :func:`~anatomy_lib.models.inputs.keypoint_channels`)
and ``"none"``.
"""

from __future__ import annotations

import torch
from torch import nn

from .temporal import ConvBNReLU

__all__ = ["VisibilityAttention"]


class VisibilityAttention(nn.Module):
    """Score branch of Fig. 5: ``weighted = keypoint_feature * ConvBNReLU(scores)``."""

    def __init__(
        self, num_joints: int, channels: int, width: int, dropout: float, bn_momentum: float
    ):
        super().__init__()
        self.scores = ConvBNReLU(num_joints, channels, width, 1, dropout, bn_momentum)

    def forward(
        self, keypoint_feature: torch.Tensor, scores: torch.Tensor, dense: bool
    ) -> torch.Tensor:
        """``keypoint_feature (N, C, T')`` (after the expand layer), ``scores (N, J, T)``
        -> weighted visibility feature ``(N, C, T')``."""
        return keypoint_feature * self.scores(scores, dense)

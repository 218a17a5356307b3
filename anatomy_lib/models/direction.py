"""Bone direction network (paper Sec. 3.2, Fig. 3): ``K`` stacked temporal sub-networks.

Sub-network 1 is a temporal conv net on the 2D keypoint window (with the visibility
branch of Fig. 5 when enabled). Sub-network ``k > 1`` has no expand layer: its input is
sub-network ``k-1``'s top feature repeated over ``receptive_field / w0`` positions, and
(with ``long_skip``) before each residual block the stream input of the matching block of
sub-network ``k-1`` is concatenated on channels. With ``block_gradients`` those features
are detached, so each sub-network is trained only by its own losses. Every sub-network
has a head giving unit bone directions.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .config import ModelConfig
from .inputs import keypoint_channels, score_channels
from .temporal import ConvBNReLU, StackOutput, TemporalStack
from .visibility import VisibilityAttention

__all__ = ["BoneDirectionNet", "DirectionOutput", "unit_directions", "DIRECTION_NORM_EPS"]

#: Added safety in the direction normalisation: vectors shorter than this are not blown up.
DIRECTION_NORM_EPS = 1e-6


def unit_directions(raw: torch.Tensor, num_bones: int) -> torch.Tensor:
    """``(..., 3B)`` raw head output -> ``(..., B, 3)`` unit vectors (norm clamped at eps)."""
    v = raw.unflatten(-1, (num_bones, 3))
    return v / v.norm(dim=-1, keepdim=True).clamp_min(DIRECTION_NORM_EPS)


class DirectionOutput(NamedTuple):
    """Output of :class:`BoneDirectionNet` (window form).

    Attributes:
        stage_directions: per sub-network, ``(N, B, 3)`` unit bone directions.
        stage_features: per sub-network, its :class:`StackOutput` (window form).
    """

    stage_directions: tuple[torch.Tensor, ...]
    stage_features: tuple[StackOutput, ...]


class DirectionStage(nn.Module):
    """One sub-network: (expand + visibility for the first) residual stack + direction head."""

    def __init__(self, config: ModelConfig, first: bool) -> None:
        super().__init__()
        sk, c, w = config.skeleton_tree, config.channels, config.filter_widths
        j, nb = sk.num_joints, config.num_blocks
        self.num_bones = sk.num_bones
        self.expand: ConvBNReLU | None = None
        self.visibility: VisibilityAttention | None = None
        if first:
            in_features = j * (3 if config.visibility == "fusion" else 2)
            self.expand = ConvBNReLU(in_features, c, w[0], 1, config.dropout, config.bn_momentum)
            if config.visibility == "attention":
                self.visibility = VisibilityAttention(
                    j, c, w[0], config.dropout, config.bn_momentum
                )
            extra = (c if self.visibility is not None else 0,) + (0,) * (nb - 1) if nb else ()
        else:
            extra = (c if config.long_skip else 0,) * nb
        self.stack = TemporalStack(w, c, extra, config.dropout, config.bn_momentum, config.causal)
        self.head = nn.Linear(c, 3 * self.num_bones)

    def first_features(
        self, x: torch.Tensor, scores: torch.Tensor | None, dense: bool
    ) -> StackOutput:
        """Sub-network 1: ``x (N, F, T)`` keypoint channels, ``scores (N, J, T)`` or None."""
        feature = self.expand(x, dense)
        extras = None
        if self.visibility is not None and len(self.stack.blocks):
            extras = (self.visibility(feature, scores, dense),) + (None,) * (
                len(self.stack.blocks) - 1
            )
        return self.stack(feature, extras, dense)

    def directions(self, top: torch.Tensor) -> torch.Tensor:
        """``(N, C, T)`` top feature -> ``(N, T, B, 3)`` unit directions."""
        return unit_directions(self.head(top.transpose(1, 2)), self.num_bones)


class BoneDirectionNet(nn.Module):
    """``K`` stacked direction sub-networks (see module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.stages = nn.ModuleList(
            DirectionStage(config, first=k == 0) for k in range(config.num_direction_stages)
        )

    def _pass_on(self, t: torch.Tensor) -> torch.Tensor:
        return t.detach() if self.config.block_gradients else t

    def later_features(self, k: int, previous: StackOutput) -> StackOutput:
        """Window form of sub-network ``k >= 1`` (0-based) from sub-network ``k-1``'s features."""
        stage = self.stages[k]
        repeats = self.config.receptive_field // self.config.filter_widths[0]
        stream = self._pass_on(previous.top)  # (N, C, 1), repeated over the window
        extras = None
        if self.config.long_skip:
            extras = tuple(self._pass_on(f) for f in previous.block_inputs)
        return stage.stack(stream, extras, dense=False, constant_positions=repeats)

    def forward(self, keypoints_2d: torch.Tensor, scores: torch.Tensor | None) -> DirectionOutput:
        """Window form: ``(N, T, J, 2)`` keypoints (``T`` = receptive field), ``(N, T, J)``
        scores or None -> per-stage ``(N, B, 3)`` directions of the target frame."""
        cfg = self.config
        x = keypoint_channels(keypoints_2d, scores, cfg.visibility == "fusion")
        s = score_channels(scores, x.dtype) if cfg.visibility == "attention" else None
        feats = [self.stages[0].first_features(x, s, dense=False)]
        for k in range(1, len(self.stages)):
            feats.append(self.later_features(k, feats[-1]))
        dirs = tuple(st.directions(f.top)[:, 0] for st, f in zip(self.stages, feats, strict=True))
        return DirectionOutput(dirs, tuple(feats))

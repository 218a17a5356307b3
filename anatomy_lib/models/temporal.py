"""Temporal convolution network (VideoPose3D architecture): one set of weights, two forms.

For filter widths ``w = (w0, w1, ...)`` the network is an expand layer (conv width
``w0``, BN, ReLU, dropout) and one residual block per further width: conv width
``w_i``, BN, ReLU, dropout, 1x1 conv, BN, ReLU, dropout, plus the residual input.

* **Window form** (training): the input is one receptive-field window of
  ``prod(w)`` frames; every conv has stride = its width, so the window shrinks to the
  single output frame.
* **Sequence form** (``dense=True``): the same weights as dilated convs (dilation =
  product of the previous widths) over a whole sequence of ``T`` frames, giving
  ``T - prod(w) + 1`` outputs, one per window.

The residual takes the input at the centre tap of each conv (``causal``: the last tap,
so the receptive field lies entirely to the left of the output frame).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import BaselineConfig
from .dropout import Dropout
from .inputs import check_window, keypoint_channels, normalize_keypoints

__all__ = [
    "ConvBNReLU",
    "ResidualBlock",
    "StackOutput",
    "TemporalStack",
    "TemporalConvNet",
    "residual_tap",
    "window_conv",
]


def window_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Conv with stride = width (non-overlapping windows) as one matrix product.

    ``x (N, C_in, P)``, ``weight (C_out, C_in, w)`` with ``w`` dividing ``P`` ->
    ``(N, C_out, P / w)``. Same values as ``F.conv1d(x, weight, stride=w)``; with it, a CPU
    training step of the paper's models was 6 % (243 frames) to 20 % (27 frames) faster
    than with the strided convolution, mostly in the backward pass.
    """
    n, c, p = x.shape
    c_out, _, w = weight.shape
    cols = x.unflatten(2, (p // w, w)).permute(0, 2, 1, 3).reshape(n * (p // w), c * w)
    return (cols @ weight.reshape(c_out, c * w).T).view(n, p // w, c_out).transpose(1, 2)


def residual_tap(width: int, causal: bool) -> int:
    """Tap of a width-``width`` conv whose input the residual connection carries."""
    return width - 1 if causal else width // 2


class ConvBNReLU(nn.Module):
    """Conv1d (no bias) -> BatchNorm -> ReLU -> dropout, in window or sequence form."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        width: int,
        dilation: int,
        dropout: float,
        bn_momentum: float,
    ) -> None:
        super().__init__()
        self.width, self.dilation = width, dilation
        self.conv = nn.Conv1d(in_channels, channels, width, bias=False)
        self.bn = nn.BatchNorm1d(channels, momentum=bn_momentum)
        self.drop = Dropout(dropout)

    def _activate(self, y: torch.Tensor) -> torch.Tensor:
        """BatchNorm -> ReLU -> dropout of the conv output ``y (N, C, T')``."""
        return self.drop(F.relu(self.bn(y)))

    def forward(self, x: torch.Tensor, dense: bool) -> torch.Tensor:
        """``(N, C_in, T) -> (N, C, T')``: stride = width, or dilation when ``dense``."""
        if dense:
            y = F.conv1d(x, self.conv.weight, dilation=self.dilation)
        else:
            y = window_conv(x, self.conv.weight)
        return self._activate(y)

    def forward_constant_stream(
        self, stream: torch.Tensor, extra: torch.Tensor | None, positions: int
    ) -> torch.Tensor:
        """Window form when the input's first ``C_s`` channels are constant over its
        ``positions`` window positions: ``stream (N, C_s, 1)``, ``extra (N, C_e, positions)``
        or None -> ``(N, C, positions / width)``.

        Equals ``forward(cat([stream.expand(-1, -1, positions), extra]), dense=False)``: over
        a constant input the conv is one product with the tap-summed weight
        ``sum_k W[:, :C_s, k]`` per window, instead of one per tap and output position.
        """
        c_s = stream.shape[1]
        weight = self.conv.weight
        y = F.linear(stream[..., 0], weight[:, :c_s].sum(-1)).unsqueeze(-1)  # (N, C, 1)
        if extra is not None:
            y = window_conv(extra, weight[:, c_s:]) + y
        else:
            y = y.expand(-1, -1, positions // self.width)
        return self._activate(y)


class ResidualBlock(nn.Module):
    """Temporal conv block + 1x1 conv block + residual (the stream input at the residual tap)."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        width: int,
        dilation: int,
        dropout: float,
        bn_momentum: float,
        causal: bool,
    ) -> None:
        super().__init__()
        self.causal = causal
        self.temporal = ConvBNReLU(in_channels, channels, width, dilation, dropout, bn_momentum)
        self.pointwise = ConvBNReLU(channels, channels, 1, 1, dropout, bn_momentum)

    def forward(self, x: torch.Tensor, residual: torch.Tensor, dense: bool) -> torch.Tensor:
        """``x (N, C_in, T)``, ``residual (N, C, T)`` (stream part of ``x``) -> ``(N, C, T')``."""
        y = self.pointwise(self.temporal(x, dense), dense)
        tap = residual_tap(self.temporal.width, self.causal)
        if dense:
            start = tap * self.temporal.dilation
            return y + residual[..., start : start + y.shape[-1]]
        return y + residual[..., tap :: self.temporal.width]

    def forward_constant_stream(
        self, stream: torch.Tensor, extra: torch.Tensor | None, positions: int
    ) -> torch.Tensor:
        """Window form on a stream ``(N, C, 1)`` constant over ``positions`` positions and
        an optional extra feature ``(N, C_e, positions)`` -> ``(N, C, positions / width)``
        (see :meth:`ConvBNReLU.forward_constant_stream`); the residual is the constant."""
        y = self.pointwise(self.temporal.forward_constant_stream(stream, extra, positions), False)
        return y + stream


class StackOutput(NamedTuple):
    """Features of a residual stack.

    Attributes:
        block_inputs: stream input of each block, ``(N, C, T_b)`` (what long skip
            connections pass to the next sub-network).
        top: ``(N, C, T_out)`` output feature (``T_out = 1`` in window form).
    """

    block_inputs: tuple[torch.Tensor, ...]
    top: torch.Tensor


class TemporalStack(nn.Module):
    """The residual blocks of a temporal network (widths ``filter_widths[1:]``).

    Block ``b`` reads ``channels + extra_channels[b]`` channels: its stream concatenated
    (on channels, stream first) with an optional extra feature (visibility feature or a
    long skip connection); the residual carries the stream only.
    """

    def __init__(
        self,
        filter_widths: tuple[int, ...],
        channels: int,
        extra_channels: tuple[int, ...],
        dropout: float,
        bn_momentum: float,
        causal: bool,
    ) -> None:
        super().__init__()
        if len(extra_channels) != len(filter_widths) - 1:
            raise ValueError("extra_channels: expected one entry per residual block")
        self.extra_channels = tuple(extra_channels)
        self.blocks = nn.ModuleList(
            ResidualBlock(
                channels + extra,
                channels,
                filter_widths[b + 1],
                math.prod(filter_widths[: b + 1]),
                dropout,
                bn_momentum,
                causal,
            )
            for b, extra in enumerate(extra_channels)
        )

    def forward(
        self,
        x: torch.Tensor,
        extras: tuple[torch.Tensor | None, ...] | None,
        dense: bool,
        constant_positions: int | None = None,
    ) -> StackOutput:
        """Run the blocks on stream ``x (N, C, T)`` with per-block extra features.

        ``constant_positions``: window form only; ``x`` is ``(N, C, 1)``, standing for a
        stream constant over that many positions (a later direction sub-network's input),
        and the first block takes the cheaper path of
        :meth:`ResidualBlock.forward_constant_stream`. Outputs are the same as for the
        expanded stream, which ``block_inputs[0]`` holds (as a view).
        """
        inputs = []
        for b, block in enumerate(self.blocks):
            extra = None if extras is None else extras[b]
            if b == 0 and constant_positions is not None:
                if dense:
                    raise ValueError("constant_positions: window form only (dense=False)")
                inputs.append(x.expand(-1, -1, constant_positions))
                x = block.forward_constant_stream(x, extra, constant_positions)
                continue
            inputs.append(x)
            x = block(x if extra is None else torch.cat([x, extra], dim=1), x, dense)
        return StackOutput(tuple(inputs), x)


class TemporalConvNet(nn.Module):
    """The baseline lifting network (VideoPose3D): 2D keypoint window -> 3D joints.

    Args:
        config: :class:`BaselineConfig` (``ModelConfig.baseline()`` gives the matching one).
    """

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        if not isinstance(config, BaselineConfig):
            raise TypeError(f"config: expected a BaselineConfig, got {type(config).__name__}")
        self.config = config
        self.skeleton = config.skeleton_tree
        j, c, w = self.skeleton.num_joints, config.channels, config.filter_widths
        fusion = config.visibility == "fusion"
        self.expand = ConvBNReLU(
            j * (3 if fusion else 2), c, w[0], 1, config.dropout, config.bn_momentum
        )
        self.stack = TemporalStack(
            w, c, (0,) * config.num_blocks, config.dropout, config.bn_momentum, config.causal
        )
        self.head = nn.Linear(c, 3 * j)

    @property
    def receptive_field(self) -> int:
        """Input frames per output frame."""
        return self.config.receptive_field

    def _run(
        self, keypoints_2d: torch.Tensor, scores: torch.Tensor | None, dense: bool
    ) -> torch.Tensor:
        keypoints_2d = normalize_keypoints(
            keypoints_2d, self.config.input_normalization, self.skeleton
        )
        x = keypoint_channels(keypoints_2d, scores, self.config.visibility == "fusion")
        top = self.stack(self.expand(x, dense), None, dense).top  # (N, C, T_out)
        out = self.head(top.transpose(1, 2))
        return out.unflatten(-1, (self.skeleton.num_joints, 3))

    def forward(
        self, keypoints_2d: torch.Tensor, scores: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Window form.

        Args:
            keypoints_2d: ``(N, T, J, 2)`` normalised screen coordinates, ``T`` = receptive field.
            scores: ``(N, T, J)`` visibility in ``[0, 1]`` (only with ``visibility="fusion"``).

        Returns:
            ``(N, J, 3)`` root-relative joints (metres) of the centre frame (last if causal).
        """
        fusion = self.config.visibility == "fusion"
        check_window(keypoints_2d, scores, self.skeleton, fusion, frames=self.receptive_field)
        return self._run(keypoints_2d, scores, dense=False)[:, 0]

    def forward_sequence(
        self, keypoints_2d: torch.Tensor, scores: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Sequence form: ``(N, T, J, 2)`` with ``T >= receptive field`` ->
        ``(N, T - receptive_field + 1, J, 3)``, output ``i`` = window form on frames
        ``i .. i + receptive_field - 1``. Pad the sequence first to get one output per frame."""
        fusion = self.config.visibility == "fusion"
        check_window(keypoints_2d, scores, self.skeleton, fusion, min_frames=self.receptive_field)
        return self._run(keypoints_2d, scores, dense=True)

    def set_bn_momentum(self, momentum: float) -> None:
        """Set the momentum of every BatchNorm layer (the trainer decays it)."""
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum = momentum

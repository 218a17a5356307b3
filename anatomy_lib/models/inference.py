"""Whole-video inference: every frame of a video in batched tensor ops, in bounded memory.

Padding protocol (as the published lifting code): the 2D sequence is extended by
replicating its first / last frame, ``receptive_field // 2`` frames on each side
(``receptive_field - 1`` on the left only when causal), so every frame gets a full
window. Videos shorter than the receptive field are padded the same way (the model
then sees mostly copies of the end frames), with a :class:`ShortVideoWarning`. The bone
length network only ever sees the real frames.

Bone lengths per output frame ``t``:

* ``length_frames="all"``: softmax attention (Eq. 6) over all real frames (released
  code's test-time protocol); causal: over frames ``0..t``.
* ``length_frames=l`` (int): ``l`` frames drawn uniformly with replacement from the
  video (causal: from ``0..t``), independently for every output frame, from
  ``torch.Generator().manual_seed(seed)``; see :func:`sample_length_frames`.

The length network runs once per frame; pooling is a gather (or a prefix log-sum-exp).

Direction sub-network 1 runs as dilated convolutions over the padded sequence.
Sub-network ``k > 1`` cannot be shared across frames: for frame ``t`` its stream starts as
the constant ``f_{k-1}(t)`` while its long skips read sub-network ``k-1``'s features at
absolute positions. It is evaluated for all frames at once by splitting each block
conv's weight into a stream part and a skip part. The skip part is a dilated conv over
the whole sequence, computed once and gathered per frame. The stream part of the first
block collapses to one product with the tap-summed weight, because its input is
constant over the taps; later blocks evaluate only the ``receptive_field / prod(w[:b+2])``
positions that depend on ``t`` as large matrix products over (frames x positions).
Every layer runs from an :class:`InferencePlan`: eval-mode BatchNorm folded into the
preceding conv / linear, conv taps laid out as one ``(C_out, w * C_in)`` matrix so that
each conv is a single large matrix product (with bias and ReLU fused by oneDNN on the
CPU), weights converted once to the compute dtype. The plan is cached per model and
rebuilt when any parameter or buffer changes.

Cost: sub-network ``k > 1`` shares little work between frames, so a frame of the
243-frame model costs ~119 C^2 multiply-adds (125 M at C = 1024; per-layer count in
``benchmarks/inference.py``): speed is bounded by the machine's matrix-product rate.
"""

from __future__ import annotations

import contextlib
import math
import warnings
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..length_frames import uniform_length_frames
from .anatomy import AnatomyModel
from .direction import unit_directions
from .inputs import check_window, keypoint_channels
from .temporal import TemporalConvNet, residual_tap

__all__ = [
    "InferencePlan",
    "ShortVideoWarning",
    "LiftResult",
    "lift_video",
    "lift_video_baseline",
    "pad_edges",
    "sample_length_frames",
]


@dataclass
class LiftResult:
    """Per-frame predictions for a whole video of ``T`` frames.

    Attributes:
        joints: ``(T, J, 3)`` root-relative joints (metres).
        lengths: ``(T, B)`` pooled bone lengths used for each frame (metres).
        directions: ``(T, B, 3)`` unit bone directions (top sub-network).
        frame_lengths: ``(T, B)`` bone lengths of each frame's own length-network joints.
        attention: ``(T, B)`` softmax weight of each frame (sums to 1 over ``T``) for
            non-causal ``length_frames="all"``; None otherwise.
    """

    joints: torch.Tensor
    lengths: torch.Tensor
    directions: torch.Tensor
    frame_lengths: torch.Tensor
    attention: torch.Tensor | None


class ShortVideoWarning(UserWarning):
    """A video shorter than the model's receptive field was lifted (after edge padding)."""


def warn_if_short(num_frames: int, receptive_field: int) -> None:
    """Say so when a video of ``num_frames`` is shorter than the receptive field."""
    if num_frames < receptive_field:
        warnings.warn(
            f"the video has {num_frames} frames, fewer than the model's receptive field "
            f"({receptive_field}): it is padded by repeating its first and last frames, as "
            "the published protocol does, so part of every window is copies of those frames",
            ShortVideoWarning,
            stacklevel=3,
        )


def pad_edges(x: torch.Tensor, receptive_field: int, causal: bool) -> torch.Tensor:
    """Replicate the first / last frame of ``x (T, ...)`` so that each of the ``T`` frames
    has a full window: ``(T + receptive_field - 1, ...)``."""
    left = receptive_field - 1 if causal else receptive_field // 2
    right = receptive_field - 1 - left
    return torch.cat([x[:1].expand(left, *x.shape[1:]), x, x[-1:].expand(right, *x.shape[1:])])


def sample_length_frames(
    num_frames: int, length_frames: int, causal: bool, seed: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Indices ``(T, l)`` of the frames feeding the length network for each output frame.

    Uniform with replacement over ``0..T-1`` (causal: ``0..t``), deterministic in ``seed``.
    """
    if not isinstance(length_frames, int) or length_frames < 1:
        raise ValueError(f"length_frames: expected 'all' or an int >= 1, got {length_frames!r}")
    if causal:
        available = torch.arange(1, num_frames + 1)
    else:
        available = torch.full((num_frames,), num_frames)
    gen = torch.Generator().manual_seed(seed)
    return uniform_length_frames(available, length_frames, gen).to(device)


@contextlib.contextmanager
def _inference_mode(
    model: nn.Module, dtype: torch.dtype | None, device: torch.device
) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if dtype is None:
                yield
            else:
                with torch.autocast(device.type, dtype=dtype):
                    yield
    finally:
        model.train(was_training)


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(start + size, total)


def _check_args(chunk_size: int, dtype: torch.dtype | None) -> None:
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected an int >= 1, got {chunk_size!r}")
    if dtype not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"dtype: expected None, torch.bfloat16 or torch.float16, got {dtype}")


# ---------------------------------------------------------------- inference plan
def _fold(weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm1d | None):
    """Fold an eval-mode BatchNorm into the preceding conv / linear: ``(C_out, ...)`` weight
    and ``(C_out,)`` bias."""
    if bias is None:
        bias = weight.new_zeros(weight.shape[0])
    if bn is None:
        return weight, bias
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shape = (-1,) + (1,) * (weight.dim() - 1)
    return weight * scale.view(shape), (bias - bn.running_mean) * scale + bn.bias


def _taps_matrix(weight: torch.Tensor) -> torch.Tensor:
    """Conv weight ``(C_out, C_in, w)`` -> ``(C_out, w * C_in)`` with tap-major columns."""
    return weight.permute(0, 2, 1).reshape(weight.shape[0], -1).contiguous()


def _fused_ok(x: torch.Tensor) -> bool:
    """oneDNN's fused linear + bias + ReLU (CPU, float32 / bfloat16) applies to ``x``."""
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.bfloat16)
        and torch.backends.mkldnn.is_available()
    )


@dataclass(frozen=True)
class _Layer:
    """A folded layer ``x @ weight.T + bias`` (channels last)."""

    weight: torch.Tensor  # (C_out, w * C_in)
    bias: torch.Tensor  # (C_out,)
    width: int = 1
    dilation: int = 1

    @staticmethod
    def conv(layer, dtype: torch.dtype, split: int | None = None) -> _Layer | tuple:
        weight, bias = _fold(layer.conv.weight, None, layer.bn)
        w = weight.shape[-1]
        if split is None:
            return _Layer(_taps_matrix(weight).to(dtype), bias.to(dtype), w, layer.dilation)
        stream, skip = weight[:, :split], weight[:, split:]
        return (
            _Layer(_taps_matrix(stream).to(dtype), bias.to(dtype), w, layer.dilation),
            _Layer(stream.sum(-1).contiguous().to(dtype), bias.to(dtype)),
            _Layer(_taps_matrix(skip).to(dtype), bias.to(dtype), w, layer.dilation)
            if skip.shape[1]
            else None,
        )

    @staticmethod
    def linear(linear: nn.Linear, bn: nn.BatchNorm1d | None, dtype: torch.dtype) -> _Layer:
        weight, bias = _fold(linear.weight, linear.bias, bn)
        return _Layer(weight.contiguous().to(dtype), bias.to(dtype))

    def __call__(self, rows: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """``(M, w * C_in)`` -> ``(M, C_out)``, optionally followed by ReLU (fused on CPU)."""
        if not bias:
            return rows @ self.weight.T
        if _fused_ok(rows):
            attr = "relu" if relu else "none"
            return torch.ops.mkldnn._linear_pointwise(
                rows.contiguous(), self.weight, self.bias, attr, [], ""
            )
        out = torch.addmm(self.bias, rows, self.weight.T)
        return out.relu_() if relu else out

    def dense(self, x: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """Dilated conv over a dense sequence ``x (L, C_in)`` -> ``(L - (w-1) d, C_out)``:
        one matrix product on the unfolded ``(L', w * C_in)`` taps."""
        out_len = x.shape[0] - (self.width - 1) * self.dilation
        if self.width > 1:
            c = x.shape[1]
            x = x.as_strided((out_len, self.width, c), (c, self.dilation * c, 1))
            x = x.reshape(out_len, self.width * c)
        return self(x, relu, bias)

    def windows(self, x: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """Stride-``w`` conv over per-frame windows ``x (T, n, C_in)`` -> ``(T, n / w, C_out)``."""
        t, n, c = x.shape
        out = self(x.reshape(t * (n // self.width), self.width * c), relu, bias)
        return out.view(t, n // self.width, -1)


@dataclass(frozen=True)
class _Block:
    """A residual block of a later direction sub-network, split into stream and skip parts."""

    stream: _Layer  # taps of the stream channels (+ bias)
    stream_sum: _Layer  # tap-summed stream weight (input constant over the taps)
    skip: _Layer | None  # taps of the long-skip channels
    pointwise: _Layer
    tap: int  # residual tap


@dataclass(frozen=True)
class InferencePlan:
    """Eval-mode BatchNorm folded into every conv / linear of an :class:`AnatomyModel`,
    weights laid out as ``(w * C_in, C_out)`` matrices in the compute ``dtype``.

    Built once per model state by :func:`lift_video` (cached; rebuilt when any parameter or
    buffer changes, or the model moves). ``InferencePlan.build(model, dtype)`` makes one.
    """

    dtype: torch.dtype
    expand: _Layer
    visibility: _Layer | None
    first_blocks: tuple[tuple[_Layer, _Layer, int], ...]  # (temporal, pointwise, tap)
    later_stages: tuple[tuple[_Block, ...], ...]
    direction_head: _Layer
    length_layers: tuple[_Layer, ...]  # input, 2 per block, output

    @classmethod
    def build(cls, model: AnatomyModel, dtype: torch.dtype) -> InferencePlan:
        """Fold ``model``'s weights (its BatchNorm running statistics) into a plan."""
        cfg = model.config
        with torch.no_grad():
            first = model.direction.stages[0]
            first_blocks = tuple(
                (
                    _Layer.conv(b.temporal, dtype),
                    _Layer.conv(b.pointwise, dtype),
                    residual_tap(b.temporal.width, cfg.causal),
                )
                for b in first.stack.blocks
            )
            later = tuple(
                tuple(
                    _Block(
                        *_Layer.conv(b.temporal, dtype, split=cfg.channels),
                        _Layer.conv(b.pointwise, dtype),
                        residual_tap(b.temporal.width, cfg.causal),
                    )
                    for b in stage.stack.blocks
                )
                for stage in list(model.direction.stages)[1:]
            )
            ln = model.length
            length = [_Layer.linear(ln.input, ln.input_bn, dtype)]
            for block in ln.blocks:
                length += [
                    _Layer.linear(lin, bn, dtype)
                    for lin, bn in zip(block.linears, block.bns, strict=True)
                ]
            length.append(_Layer.linear(ln.output, None, dtype))
            return cls(
                dtype,
                _Layer.conv(first.expand, dtype),
                None if first.visibility is None else _Layer.conv(first.visibility.scores, dtype),
                first_blocks,
                later,
                _Layer.linear(model.direction.stages[-1].head, None, dtype),
                tuple(length),
            )


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state_key(model: nn.Module) -> tuple:
    """Changes whenever a parameter or buffer is modified in place, replaced or moved."""
    return tuple(
        (t.data_ptr(), t._version, t.dtype, t.device)
        for t in (*model.parameters(), *model.buffers())
    )


def _plan_for(model: AnatomyModel, dtype: torch.dtype) -> InferencePlan:
    key = _state_key(model)
    cached = _PLANS.get(model)
    if cached is None or cached[0] != key:
        cached = (key, {})
        _PLANS[model] = cached
    if dtype not in cached[1]:
        cached[1].clear()  # keep one plan per model: the folded weights are as big as the model
        cached[1][dtype] = InferencePlan.build(model, dtype)
    return cached[1][dtype]


# ---------------------------------------------------------------- bone lengths
def _pooled_lengths(
    frame_lengths: torch.Tensor,
    logits: torch.Tensor,
    causal: bool,
    length_frames: int | str,
    seed: int,
    chunk_size: int,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-frame ``(T, B)`` lengths and logits -> ``(T, B)`` pooled lengths (+ attention)."""
    t = frame_lengths.shape[0]
    if length_frames == "all":
        if not causal:
            attention = torch.softmax(logits, dim=0)
            pooled = (attention * frame_lengths).sum(0)
            return pooled.expand(t, -1), attention
        # softmax over frames 0..t for every t: a ratio of prefix log-sum-exps, in float64
        # (float32 on MPS, which has no float64)
        wide = torch.float32 if logits.device.type == "mps" else torch.float64
        a, length = logits.to(wide), frame_lengths.to(wide)
        log_num = torch.logcumsumexp(a + length.log(), dim=0)
        log_den = torch.logcumsumexp(a, dim=0)
        return torch.exp(log_num - log_den).to(frame_lengths.dtype), None
    idx = sample_length_frames(t, length_frames, causal, seed, frame_lengths.device)
    out = []
    for s, e in _chunks(t, chunk_size):
        w = torch.softmax(logits[idx[s:e]], dim=1)  # (c, l, B)
        out.append((w * frame_lengths[idx[s:e]]).sum(1))
    return torch.cat(out), None


def _frame_joints(plan: InferencePlan, keypoints: torch.Tensor) -> torch.Tensor:
    """Length network's joints of single frames: ``(T, J, 2)`` -> ``(T, J, 3)`` (plan dtype)."""
    layers = plan.length_layers
    h = layers[0](keypoints.flatten(1).to(plan.dtype), relu=True)
    for a, b in zip(layers[1:-1:2], layers[2:-1:2], strict=True):
        h = h + b(a(h, relu=True), relu=True)
    return layers[-1](h).view(keypoints.shape[0], -1, 3)


# ---------------------------------------------------------------- directions
def _first_stage(
    plan: InferencePlan, x: torch.Tensor, scores: torch.Tensor | None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sub-network 1 over a dense sequence: ``x (L, F)`` channels, ``scores (L, J)`` or None
    -> top ``(L - rf + 1, C)`` and each block's dense stream input ``(L_b, C)``."""
    stream = plan.expand.dense(x, relu=True)
    extra = None
    if plan.visibility is not None:
        extra = plan.visibility.dense(scores, relu=True).mul_(stream)
    inputs = []
    for temporal, pointwise, tap in plan.first_blocks:
        inputs.append(stream)
        h = temporal.dense(
            stream if extra is None else torch.cat([stream, extra], dim=1), relu=True
        )
        extra = None
        y = pointwise(h, relu=True)
        start = tap * temporal.dilation
        stream = y.add_(stream[start : start + y.shape[0]])
    return stream, inputs


def _later_stage(
    blocks: tuple[_Block, ...],
    top: torch.Tensor,
    skips: list[torch.Tensor] | None,
    dense_skips: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sub-network ``k > 1`` for every frame at once (see module docstring).

    Args:
        blocks: its folded residual blocks.
        top: ``(T, C)`` top feature of sub-network ``k-1`` per output frame.
        skips: per block, sub-network ``k-1``'s stream input: dense ``(L_b, C)`` (when
            ``dense_skips``; window position ``q`` of frame ``t`` is row ``t + q * D_b``)
            or per-frame windows ``(T, n_b, C)`` (``n_b == 1``: constant); None without
            long skips.

    Returns:
        ``(T, C)`` top feature and the per-block stream inputs ``(T, n_b or 1, C)``.
    """
    t, c = top.shape
    stream = top.unsqueeze(1)  # (T, 1, C): constant over the window's positions
    positions = math.prod(b.stream.width for b in blocks)  # of the stream input
    inputs = []
    for b, block in enumerate(blocks):
        inputs.append(stream)
        width, positions = block.stream.width, positions // block.stream.width
        if stream.shape[1] == 1:  # constant input: one product with the tap-summed weight
            h = block.stream_sum(stream[:, 0]).unsqueeze(1)
        else:
            h = block.stream.windows(stream)
        if skips is not None:
            if dense_skips:
                g = block.skip.dense(skips[b], bias=False)  # (L_{b+1}, C)
                step = block.skip.dilation * width
                g = g.as_strided((t, positions, c), (c, step * c, 1))
            elif skips[b].shape[1] == 1:
                g = skips[b][:, 0] @ block.skip.weight.view(c, width, c).sum(1).T
                g = g.unsqueeze(1)
            else:
                g = block.skip.windows(skips[b], bias=False)
            h = h + g if h.shape[1] < g.shape[1] else h.add_(g)
        n = h.shape[1]  # 1 while the stream and the skips are constant over the window
        y = block.pointwise(h.relu_().reshape(t * n, c), relu=True).view(t, n, c)
        stream = y.add_(stream if stream.shape[1] == 1 else stream[:, block.tap :: width])
    return stream[:, 0], inputs


def _directions_sequence(
    model: AnatomyModel,
    plan: InferencePlan,
    keypoints: torch.Tensor,
    scores: torch.Tensor | None,
) -> torch.Tensor:
    """Padded ``(L, J, 2)`` (+ ``(L, J)`` scores) -> ``(L - rf + 1, B, 3)`` top directions."""
    cfg = model.config
    x = keypoint_channels(
        keypoints[None], None if scores is None else scores[None], cfg.visibility == "fusion"
    )[0].T.to(plan.dtype)
    s = scores.to(plan.dtype) if cfg.visibility == "attention" else None
    top, skips = _first_stage(plan, x, s)
    dense = True
    for blocks in plan.later_stages:
        top, inputs = _later_stage(blocks, top, skips if cfg.long_skip else None, dense)
        skips, dense = inputs, False
    raw = plan.direction_head(top).to(keypoints.dtype)
    return unit_directions(raw, model.skeleton.num_bones)


# ---------------------------------------------------------------- public API
def lift_video(
    model: AnatomyModel,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None = None,
    causal: bool | None = None,
    length_frames: int | str = "all",
    seed: int = 0,
    chunk_size: int = 1024,
    dtype: torch.dtype | None = None,
) -> LiftResult:
    """3D joints for every frame of a video (see the module docstring for the protocol).

    Equals :class:`AnatomyModel`'s window form applied to each padded window with the
    same sampled frames (to float32 rounding), for every configuration.

    Args:
        model: an :class:`AnatomyModel` (run in eval mode; its mode is restored).
        keypoints_2d: ``(T, J, 2)`` normalised screen coordinates, any ``T >= 1``.
        scores: ``(T, J)`` visibility in ``[0, 1]``; required unless ``visibility="none"``.
        causal: must match ``model.config.causal`` (None: take it from there).
        length_frames: ``"all"`` or ``l``, frames feeding the length network per output frame.
        seed: seed of the frame sampling (``length_frames=l`` only).
        chunk_size: output frames processed at once; memory grows with it, results do not
            change with it.
        dtype: compute dtype of the direction and length networks: None (the model's
            dtype), or ``torch.bfloat16`` / ``torch.float16``: weights converted once,
            activations stored in that dtype, products accumulated in float32; direction
            normalisation, attention softmax and heads stay in the model's dtype. bf16 is
            ~2.4x faster on CPUs with AVX512-BF16 and moves joints by ~1 mm on average
            (a few mm at worst) for a trained model (``benchmarks/inference.py``).

    Returns:
        :class:`LiftResult` with ``(T, ...)`` tensors in the model's dtype.
    """
    if not isinstance(model, AnatomyModel):
        raise TypeError(f"model: expected an AnatomyModel, got {type(model).__name__}")
    cfg = model.config
    if causal is None:
        causal = cfg.causal
    if causal != cfg.causal:
        raise ValueError(
            f"causal={causal} but the model was built with causal={cfg.causal}; a causal "
            "prediction needs a causal direction network"
        )
    if length_frames != "all" and (not isinstance(length_frames, int) or length_frames < 1):
        raise ValueError(f"length_frames: expected 'all' or an int >= 1, got {length_frames!r}")
    _check_args(chunk_size, dtype)
    needs_scores = cfg.visibility != "none"
    check_window(keypoints_2d, scores, model.skeleton, needs_scores, batched=False)
    param = next(model.parameters())
    kp = model.normalize_input(keypoints_2d.to(device=param.device, dtype=param.dtype))
    sc = scores.to(device=param.device, dtype=param.dtype) if needs_scores else None
    t, rf = kp.shape[0], cfg.receptive_field
    warn_if_short(t, rf)
    with torch.no_grad():
        plan = _plan_for(model, param.dtype if dtype is None else dtype)
        terms = [
            model.length.frame_terms(_frame_joints(plan, kp[s:e]).to(param.dtype))
            for s, e in _chunks(t, chunk_size)
        ]
        frame_lengths = torch.cat([a for a, _ in terms])
        logits = torch.cat([b for _, b in terms])
        lengths, attention = _pooled_lengths(
            frame_lengths, logits, causal, length_frames, seed, chunk_size
        )
        padded = pad_edges(kp, rf, causal)
        padded_scores = pad_edges(sc, rf, causal) if sc is not None else None
        directions, joints = [], []
        for s, e in _chunks(t, chunk_size):
            window_scores = None if padded_scores is None else padded_scores[s : e + rf - 1]
            d = _directions_sequence(model, plan, padded[s : e + rf - 1], window_scores)
            directions.append(d)
            joints.append(model.heads.joints(lengths[s:e], d))
    return LiftResult(
        torch.cat(joints), lengths.contiguous(), torch.cat(directions), frame_lengths, attention
    )


def lift_video_baseline(
    net: TemporalConvNet,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None = None,
    chunk_size: int = 4096,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Whole-video inference of the baseline: ``(T, J, 2)`` -> ``(T, J, 3)`` joints (m),
    same edge padding as :func:`lift_video`."""
    if not isinstance(net, TemporalConvNet):
        raise TypeError(f"net: expected a TemporalConvNet, got {type(net).__name__}")
    _check_args(chunk_size, dtype)
    fusion = net.config.visibility == "fusion"
    check_window(keypoints_2d, scores, net.skeleton, fusion, batched=False)
    param = next(net.parameters())
    kp = pad_edges(
        keypoints_2d.to(param.device, param.dtype), net.receptive_field, net.config.causal
    )
    sc = (
        pad_edges(scores.to(param.device, param.dtype), net.receptive_field, net.config.causal)
        if fusion
        else None
    )
    rf, t = net.receptive_field, keypoints_2d.shape[0]
    warn_if_short(t, rf)
    out = []
    with _inference_mode(net, dtype, param.device):
        for s, e in _chunks(t, chunk_size):
            window_scores = None if sc is None else sc[None, s : e + rf - 1]
            out.append(
                net._run(kp[None, s : e + rf - 1], window_scores, dense=True)[0].to(param.dtype)
            )
    return torch.cat(out)

"""Whole-video inference: every frame of a video in batched tensor ops, in bounded memory.

Padding protocol (as the published lifting code): the 2D sequence is extended by
replicating its first / last frame, ``receptive_field // 2`` frames on each side
(``receptive_field - 1`` on the left only when causal), so every frame gets a full
window. Videos shorter than the receptive field are padded the same way (the model
then sees mostly copies of the end frames). The bone length network only ever sees the
real frames.

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
BatchNorm is folded into the weights (eval mode).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .anatomy import AnatomyModel
from .direction import unit_directions
from .inputs import check_window, keypoint_channels, score_channels
from .temporal import ResidualBlock, TemporalConvNet, residual_tap

__all__ = [
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
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(num_frames, length_frames, generator=gen, dtype=torch.float64)
    if causal:
        count = torch.arange(1, num_frames + 1, dtype=torch.float64).unsqueeze(1)
    else:
        count = torch.full((num_frames, 1), float(num_frames), dtype=torch.float64)
    idx = torch.minimum((u * count).long(), count.long() - 1)
    return idx.to(device)


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
        # softmax over frames 0..t for every t: a ratio of prefix log-sum-exps (float64).
        a, length = logits.double(), frame_lengths.double()
        log_num = torch.logcumsumexp(a + length.log(), dim=0)
        log_den = torch.logcumsumexp(a, dim=0)
        return torch.exp(log_num - log_den).to(frame_lengths.dtype), None
    idx = sample_length_frames(t, length_frames, causal, seed, frame_lengths.device)
    out = []
    for s, e in _chunks(t, chunk_size):
        w = torch.softmax(logits[idx[s:e]], dim=1)  # (c, l, B)
        out.append((w * frame_lengths[idx[s:e]]).sum(1))
    return torch.cat(out), None


# ---------------------------------------------------------------- directions
def _folded(layer) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm (eval) folded into the conv: weight ``(C_out, C_in, w)`` and bias ``(C_out,)``."""
    bn = layer.bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return layer.conv.weight * scale[:, None, None], bn.bias - bn.running_mean * scale


def _strided(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Stride-``w`` conv over per-frame windows, channels last.

    ``x (T, n, C_in)`` (``n == 1``: constant over positions), ``weight (C_out, C_in, w)``
    -> ``(T, n / w, C_out)`` (``(T, 1, C_out)`` when constant).
    """
    w = weight.shape[-1]
    t, n, c = x.shape
    if n == 1:
        return (x[:, 0] @ weight.sum(-1).T).unsqueeze(1)
    out = x.reshape(t * (n // w), w * c) @ weight.permute(2, 1, 0).reshape(w * c, -1)
    return out.reshape(t, n // w, -1)


def _dilated(x: torch.Tensor, weight: torch.Tensor, dilation: int) -> torch.Tensor:
    """Dilated conv over a dense sequence, channels last: ``(L, C_in)`` -> ``(L', C_out)``."""
    w = weight.shape[-1]
    out_len = x.shape[0] - (w - 1) * dilation
    out = x[:out_len] @ weight[:, :, 0].T
    for k in range(1, w):
        out = out + x[k * dilation : k * dilation + out_len] @ weight[:, :, k].T
    return out


def _later_stage(
    block_list: nn.ModuleList,
    top: torch.Tensor,
    skips: list[torch.Tensor] | None,
    dense_skips: bool,
    dilations: list[int],
    causal: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sub-network ``k > 1`` for every frame at once (see module docstring).

    Args:
        block_list: its residual blocks.
        top: ``(T, C)`` top feature of sub-network ``k-1`` per output frame.
        skips: per block, sub-network ``k-1``'s stream input: dense ``(L_b, C)`` (when
            ``dense_skips``; window position ``q`` of frame ``t`` is row ``t + q * D_b``)
            or per-frame windows ``(T, n_b, C)``; None without long skips.
        dilations: ``D_b`` of each block (product of the widths before it).

    Returns:
        ``(T, C)`` top feature and the per-block stream inputs ``(T, n_b or 1, C)``.
    """
    t = top.shape[0]
    stream = top.unsqueeze(1)  # (T, 1, C): constant over the window's positions
    inputs = []
    for b, block in enumerate(block_list):
        block: ResidualBlock
        inputs.append(stream)
        weight, bias = _folded(block.temporal)
        c = stream.shape[-1]
        width = weight.shape[-1]
        h = _strided(stream, weight[:, :c])
        if skips is not None:
            skip_weight = weight[:, c:]
            if dense_skips:
                g = _dilated(skips[b], skip_weight, dilations[b])  # (L_{b+1}, C)
                q = torch.arange(_window_positions(block_list, b), device=g.device)
                rows = torch.arange(t, device=g.device).unsqueeze(1) + dilations[b] * width * q
                h = h + g[rows]
            else:
                h = h + _strided(skips[b], skip_weight)
        h = F.relu(h + bias)
        pw, pb = _folded(block.pointwise)
        h = F.relu(torch.addmm(pb, h.flatten(0, 1), pw[:, :, 0].T)).reshape(h.shape)
        tap = residual_tap(width, causal)
        residual = stream if stream.shape[1] == 1 else stream[:, tap::width]
        stream = h + residual
    return stream[:, 0], inputs


def _window_positions(block_list: nn.ModuleList, b: int) -> int:
    """Output positions of block ``b`` in the window form (``prod`` of the later widths)."""
    n = 1
    for block in list(block_list)[b + 1 :]:
        n *= block.temporal.width
    return n


def _directions_sequence(
    model: AnatomyModel, keypoints: torch.Tensor, scores: torch.Tensor | None
) -> torch.Tensor:
    """Padded ``(L, J, 2)`` (+ ``(L, J)`` scores) -> ``(L - rf + 1, B, 3)`` top directions."""
    cfg = model.config
    net = model.direction
    x = keypoint_channels(
        keypoints[None], None if scores is None else scores[None], cfg.visibility == "fusion"
    )
    s = score_channels(scores[None], x.dtype) if cfg.visibility == "attention" else None
    first = net.stages[0].first_features(x, s, dense=True)
    top = first.top[0].T  # (T, C)
    skips = [f[0].T for f in first.block_inputs]
    dense = True
    dilations = [block.temporal.dilation for block in net.stages[0].stack.blocks]
    for stage in list(net.stages)[1:]:
        top, inputs = _later_stage(
            stage.stack.blocks, top, skips if cfg.long_skip else None, dense, dilations, cfg.causal
        )
        skips, dense = inputs, False
    return unit_directions(net.stages[-1].head(top), model.skeleton.num_bones)


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
        dtype: None (model dtype), or ``torch.bfloat16`` / ``torch.float16`` to run under
            autocast (faster on CPUs with bf16 matrix units, ~1e-2 relative error).

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
    kp = keypoints_2d.to(device=param.device, dtype=param.dtype)
    sc = scores.to(device=param.device, dtype=param.dtype) if needs_scores else None
    t, rf = kp.shape[0], cfg.receptive_field
    with _inference_mode(model, dtype, param.device):
        terms = [
            model.length.frame_terms(model.length.frame_joints(kp[s:e]))
            for s, e in _chunks(t, chunk_size)
        ]
        frame_lengths = torch.cat([a for a, _ in terms]).to(param.dtype)
        logits = torch.cat([b for _, b in terms]).to(param.dtype)
        lengths, attention = _pooled_lengths(
            frame_lengths, logits, causal, length_frames, seed, chunk_size
        )
        padded = pad_edges(kp, rf, causal)
        padded_scores = pad_edges(sc, rf, causal) if sc is not None else None
        directions, joints = [], []
        for s, e in _chunks(t, chunk_size):
            window_scores = None if padded_scores is None else padded_scores[s : e + rf - 1]
            d = _directions_sequence(model, padded[s : e + rf - 1], window_scores).to(param.dtype)
            directions.append(d)
            joints.append(model.heads.joints(lengths[s:e], d).to(param.dtype))
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
    out = []
    with _inference_mode(net, dtype, param.device):
        for s, e in _chunks(t, chunk_size):
            window_scores = None if sc is None else sc[None, s : e + rf - 1]
            out.append(
                net._run(kp[None, s : e + rf - 1], window_scores, dense=True)[0].to(param.dtype)
            )
    return torch.cat(out)

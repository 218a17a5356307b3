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
Every layer runs from an :class:`~anatomy_lib.models.inference_plan.InferencePlan`
(eval-mode BatchNorm folded into the preceding conv / linear, conv taps laid out as one
matrix so that each conv is a single large matrix product, weights converted once to the
compute dtype, one kernel with a portable fallback; cached per model): see
:mod:`anatomy_lib.models.inference_plan` for the identities it rests on and for when the
cache is dropped.

Chunking (``chunk_size``) changes which rows go into one matrix product, and the BLAS may
then round a row differently: results for different chunk sizes agree to float rounding
(measured on the shipped models: below 1e-6 m in float32; tested to 1e-6 m in float32
and 1e-12 m in float64), not bit for bit.

Reading order: :func:`lift_video` is :func:`lift_videos` of one video. That validates, gets
the plan (``inference_plan.plan_for``), then ``_frame_lengths`` (length network per
frame), ``_video_directions`` (per chunk of windows: ``_directions_sequence`` =
``_first_stage``, then ``_later_stage`` per sub-network ``k > 1`` with ``_skip_term`` for
its long skips), then per video the pooling (``_pooled_lengths``) and the joint head.
Several videos (e.g. a video and its mirror image for test-time flip) run as one joined
sequence: one matrix product per layer for all of them.

Cost: sub-network ``k > 1`` shares little work between frames, so a frame of the
243-frame model costs ~119 C^2 multiply-adds (125 M at C = 1024; per-layer count in
``benchmarks/inference.py``): speed is bounded by the machine's matrix-product rate.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..length_frames import uniform_length_frames
from .anatomy import AnatomyModel
from .direction import unit_directions
from .inference_plan import InferencePlan, SplitBlock, inference_kernel, plan_for
from .inputs import check_window, keypoint_channels
from .temporal import TemporalConvNet

__all__ = [
    "InferencePlan",
    "ShortVideoWarning",
    "inference_kernel",
    "LiftResult",
    "lift_video",
    "lift_videos",
    "lift_video_baseline",
    "pad_edges",
    "sample_length_frames",
]


@dataclass
class LiftResult:
    """Per-frame predictions for a whole video of ``T`` frames.

    Attributes:
        joints: ``(T, J, 3)`` root-relative joints (metres) in the model's output frame:
            camera space, or the ray frame of a model with ``output_frame="ray"``
            (:func:`anatomy_lib.evaluation.predict_sequence` turns those into camera space).
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


def warn_if_short(num_frames: int, receptive_field: int, stacklevel: int = 3) -> None:
    """Say so when a video of ``num_frames`` is shorter than the receptive field (the
    warning points ``stacklevel`` frames up: 3, the caller of this function's caller)."""
    if num_frames < receptive_field:
        warnings.warn(
            f"the network sees {num_frames} frames (the video's, or its samples when it is "
            f"lifted at another frame rate), fewer than the model's receptive field "
            f"({receptive_field}): it is padded by repeating its first and last frames, as "
            "the published protocol does, so part of every window is copies of those frames",
            ShortVideoWarning,
            stacklevel=stacklevel,
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
    _check_length_frames(length_frames, allow_all=False)
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


def _check_length_frames(length_frames: int | str, allow_all: bool = True) -> None:
    if allow_all and length_frames == "all":
        return
    if isinstance(length_frames, bool) or not isinstance(length_frames, int) or length_frames < 1:
        raise ValueError(f"length_frames: expected 'all' or an int >= 1, got {length_frames!r}")


def _check_args(chunk_size: int, dtype: torch.dtype | None) -> None:
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected an int >= 1, got {chunk_size!r}")
    if dtype not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"dtype: expected None, torch.bfloat16 or torch.float16, got {dtype}")


# ---------------------------------------------------------------- bone lengths
def _frame_joints(plan: InferencePlan, keypoints: torch.Tensor) -> torch.Tensor:
    """Length network's joints of single frames: ``(T, J, 2)`` -> ``(T, J, 3)`` (plan dtype)."""
    layers = plan.length_layers
    h = layers[0](keypoints.flatten(1).to(plan.dtype), relu=True)
    for a, b in zip(layers[1:-1:2], layers[2:-1:2], strict=True):
        h = h + b(a(h, relu=True), relu=True)
    return layers[-1](h).view(keypoints.shape[0], -1, 3)


def _causal_softmax_pool(frame_lengths: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Eq. 6 over frames ``0..t`` for every ``t``: ``sum_s<=t e^a_s L_s / sum_s<=t e^a_s``,
    a ratio of prefix log-sum-exps, in float64 (float32 on MPS, which has no float64)."""
    wide = torch.float32 if logits.device.type == "mps" else torch.float64
    a, length = logits.to(wide), frame_lengths.to(wide)
    log_num = torch.logcumsumexp(a + length.log(), dim=0)
    log_den = torch.logcumsumexp(a, dim=0)
    return torch.exp(log_num - log_den).to(frame_lengths.dtype)


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
        if causal:
            return _causal_softmax_pool(frame_lengths, logits), None
        attention = torch.softmax(logits, dim=0)
        pooled = (attention * frame_lengths).sum(0)
        return pooled.expand(t, -1), attention
    idx = sample_length_frames(t, length_frames, causal, seed, frame_lengths.device)
    out = []
    for s, e in _chunks(t, chunk_size):
        w = torch.softmax(logits[idx[s:e]], dim=1)  # (c, l, B)
        out.append((w * frame_lengths[idx[s:e]]).sum(1))
    return torch.cat(out), None


def _frame_lengths(
    model: AnatomyModel, plan: InferencePlan, keypoints: torch.Tensor, chunk_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(T, J, 2)`` -> each frame's own bone lengths ``(T, B)`` and attention logits
    ``(T, B)`` (the length network per frame, ``chunk_size`` frames at a time)."""
    terms = [
        model.length.frame_terms(_frame_joints(plan, keypoints[s:e]).to(keypoints.dtype))
        for s, e in _chunks(keypoints.shape[0], chunk_size)
    ]
    return torch.cat([a for a, _ in terms]), torch.cat([b for _, b in terms])


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


def _skip_term(
    block: SplitBlock,
    skip: torch.Tensor,
    dense: bool,
    frames: int,
    positions: int,
    kept: torch.Tensor | None = None,
) -> torch.Tensor:
    """``W_skip`` applied to one block's long-skip input, for every frame: ``(T, n, C)``.

    ``skip`` is dense ``(L_b, C)`` (window position ``q`` of frame ``t`` is row
    ``t + q * D_b``: one dilated conv over the sequence, then a strided gather of the
    ``positions`` rows of each frame) or per-frame windows ``(T, n_b, C)`` (``n_b == 1``:
    constant over the taps, one product with the tap-summed weight). ``kept`` (dense
    only): indices of the frames wanted among the ``frames`` (None: all).
    """
    width, c = block.skip.width, skip.shape[-1]
    if dense:
        g = block.skip.dense(skip, bias=False)  # (L_{b+1}, C)
        step = block.skip.dilation * width
        windows = g.as_strided((frames, positions, c), (c, step * c, 1))
        return windows if kept is None else windows[kept]
    if skip.shape[1] == 1:
        g = skip[:, 0] @ block.skip.weight.view(c, width, c).sum(1).T
        return g.unsqueeze(1)
    return block.skip.windows(skip, bias=False)


def _later_stage(
    blocks: tuple[SplitBlock, ...],
    top: torch.Tensor,
    skips: list[torch.Tensor] | None,
    dense_skips: bool,
    keep: tuple[int, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sub-network ``k > 1`` for every frame at once (see the module docstring).

    Args:
        blocks: its split residual blocks.
        top: ``(T, C)`` top feature of sub-network ``k-1`` per output frame.
        skips: per block, sub-network ``k-1``'s stream input (see :func:`_skip_term`;
            dense when ``dense_skips``), or None without long skips.
        keep: dense skips only: ``(rows, indices)``, the dense skips cover ``rows`` output
            frames of which ``top`` holds those at ``indices`` (None: ``top``'s frames).

    Returns:
        ``(T, C)`` top feature and the per-block stream inputs ``(T, n_b or 1, C)``.
    """
    t, c = top.shape
    rows, kept = (t, None) if keep is None or not dense_skips else keep
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
            g = _skip_term(block, skips[b], dense_skips, rows, positions, kept)
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
    keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """Padded ``(L, J, 2)`` (+ ``(L, J)`` scores) -> ``(L - rf + 1, B, 3)`` top directions
    (only the output frames at the indices ``keep`` when given)."""
    cfg = model.config
    x = keypoint_channels(
        keypoints[None], None if scores is None else scores[None], cfg.visibility == "fusion"
    )[0].T.to(plan.dtype)
    s = scores.to(plan.dtype) if cfg.visibility == "attention" else None
    top, skips = _first_stage(plan, x, s)
    rows = top.shape[0]
    if keep is not None:
        top = top[keep]
    dense = True
    for blocks in plan.later_stages:
        selected = None if keep is None or not dense else (rows, keep)
        top, inputs = _later_stage(blocks, top, skips if cfg.long_skip else None, dense, selected)
        skips, dense = inputs, False
    raw = plan.direction_head(top).to(keypoints.dtype)
    return unit_directions(raw, model.skeleton.num_bones)


def _video_directions(
    model: AnatomyModel,
    plan: InferencePlan,
    keypoints: list[torch.Tensor],
    scores: list[torch.Tensor] | None,
    chunk_size: int,
) -> torch.Tensor:
    """Videos ``(T_i, J, 2)`` (+ scores) -> top directions ``(sum T_i, B, 3)`` of their
    frames in order, ``chunk_size`` output rows at a time.

    The edge-padded videos are laid end to end and run as one sequence: the direction
    network's output rows are every window of the joined sequence, and the ``rf - 1``
    rows between two videos (windows across the seam) are dropped after sub-network 1,
    before the costly later sub-networks.
    """
    rf, causal = model.config.receptive_field, model.config.causal
    padded = torch.cat([pad_edges(k, rf, causal) for k in keypoints])
    padded_scores = (
        None if scores is None else torch.cat([pad_edges(s, rf, causal) for s in scores])
    )
    wanted, start = [], 0
    for k in keypoints:  # output row of each video's frame t in the joined sequence
        wanted.append(torch.arange(start, start + k.shape[0]))
        start += k.shape[0] + rf - 1
    wanted = torch.cat(wanted)
    rows = padded.shape[0] - rf + 1
    directions = []
    for s, e in _chunks(rows, chunk_size):
        keep = wanted[(wanted >= s) & (wanted < e)] - s
        if len(keep) == 0:
            continue
        window_scores = None if padded_scores is None else padded_scores[s : e + rf - 1]
        keep = None if len(keep) == e - s else keep.to(padded.device)
        directions.append(
            _directions_sequence(model, plan, padded[s : e + rf - 1], window_scores, keep)
        )
    return torch.cat(directions)


# ---------------------------------------------------------------- public API
def _check_lift_args(
    model: AnatomyModel,
    causal: bool | None,
    length_frames: int | str,
    chunk_size: int,
    dtype: torch.dtype | None,
) -> bool:
    """Validate :func:`lift_video`'s options; returns ``causal`` resolved from the model."""
    if not isinstance(model, AnatomyModel):
        raise TypeError(f"model: expected an AnatomyModel, got {type(model).__name__}")
    cfg = model.config
    if causal is not None and causal != cfg.causal:
        raise ValueError(
            f"causal={causal} but the model was built with causal={cfg.causal}; a causal "
            "prediction needs a causal direction network"
        )
    _check_length_frames(length_frames)
    _check_args(chunk_size, dtype)
    return cfg.causal


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
        model: an :class:`AnatomyModel` (its mode is left as it is: inference always uses
            the BatchNorm running statistics and no dropout).
        keypoints_2d: ``(T, J, 2)`` normalised screen coordinates, any ``T >= 1``.
        scores: ``(T, J)`` visibility in ``[0, 1]``; required unless ``visibility="none"``.
        causal: must match ``model.config.causal`` (None: take it from there).
        length_frames: ``"all"`` or ``l``, frames feeding the length network per output frame.
        seed: seed of the frame sampling (``length_frames=l`` only).
        chunk_size: output frames processed at once; memory grows with it, results change
            only by float rounding (see the module docstring).
        dtype: compute dtype of the direction and length networks: None (the model's
            dtype), or ``torch.bfloat16`` / ``torch.float16``: weights converted once,
            activations stored in that dtype, products accumulated in float32; direction
            normalisation, attention softmax and heads stay in the model's dtype. bf16 is
            ~2.4x faster on CPUs with AVX512-BF16 and moves joints by ~1 mm on average
            (a few mm at worst) for a trained model (``benchmarks/inference.py``); on
            CPUs without bf16 instructions it runs on the portable kernel (correct, slower
            than float32; :func:`inference_kernel` says which kernel runs).

    Returns:
        :class:`LiftResult` with ``(T, ...)`` tensors in the model's dtype.
    """
    return _lift_all(
        model, [(keypoints_2d, scores)], causal, length_frames, seed, chunk_size, dtype
    )[0]


def lift_videos(
    model: AnatomyModel,
    videos: Sequence[tuple[torch.Tensor, torch.Tensor | None]],
    causal: bool | None = None,
    length_frames: int | str = "all",
    seed: int = 0,
    chunk_size: int = 1024,
    dtype: torch.dtype | None = None,
) -> list[LiftResult]:
    """:func:`lift_video` of several videos in one pass: the same results (to float
    rounding, as for another ``chunk_size``), with one matrix product per layer for all of
    them instead of one per video, which is faster for short videos (e.g. a video and its
    mirror image for test-time flip augmentation).

    The edge-padded videos are joined end to end; the ``receptive_field - 1`` windows
    across each seam go through sub-network 1 only and are dropped; bone lengths are
    pooled per video (with the same ``seed`` for each, as separate calls would).

    Args:
        videos: ``(keypoints_2d (T_i, J, 2), scores (T_i, J) or None)`` per video.
        causal, length_frames, seed, chunk_size, dtype: as in :func:`lift_video`
            (``chunk_size`` counts the windows of the joined sequence).

    Returns:
        One :class:`LiftResult` per video, in order.
    """
    return _lift_all(model, videos, causal, length_frames, seed, chunk_size, dtype)


def _lift_all(
    model: AnatomyModel,
    videos: Sequence[tuple[torch.Tensor, torch.Tensor | None]],
    causal: bool | None,
    length_frames: int | str,
    seed: int,
    chunk_size: int,
    dtype: torch.dtype | None,
) -> list[LiftResult]:
    """:func:`lift_videos` (called by both public functions: a short-video warning points
    at their caller)."""
    causal = _check_lift_args(model, causal, length_frames, chunk_size, dtype)
    if len(videos) == 0:
        raise ValueError("videos: expected at least one (keypoints_2d, scores) pair, got none")
    needs_scores = model.config.visibility != "none"
    param = next(model.parameters())
    kps, scs = [], []
    for keypoints_2d, scores in videos:
        check_window(keypoints_2d, scores, model.skeleton, needs_scores, batched=False)
        kps.append(model.normalize_input(keypoints_2d.to(device=param.device, dtype=param.dtype)))
        if needs_scores:
            scs.append(scores.to(device=param.device, dtype=param.dtype))
        warn_if_short(kps[-1].shape[0], model.config.receptive_field, stacklevel=4)
    sizes = [k.shape[0] for k in kps]
    with torch.no_grad():
        plan = plan_for(model, param.dtype if dtype is None else dtype)
        per_frame = _frame_lengths(model, plan, torch.cat(kps), chunk_size)
        directions = _video_directions(model, plan, kps, scs if needs_scores else None, chunk_size)
        out = []
        for (frame_lengths, logits), d in zip(
            _split(per_frame, sizes), directions.split(sizes), strict=True
        ):
            lengths, attention = _pooled_lengths(
                frame_lengths, logits, causal, length_frames, seed, chunk_size
            )
            joints = torch.cat(
                [model.heads.joints(lengths[s:e], d[s:e]) for s, e in _chunks(len(d), chunk_size)]
            )
            out.append(LiftResult(joints, lengths.contiguous(), d, frame_lengths, attention))
    return out


def _split(pair: tuple[torch.Tensor, torch.Tensor], sizes: list[int]) -> list:
    return list(zip(pair[0].split(sizes), pair[1].split(sizes), strict=True))


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

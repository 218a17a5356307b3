"""Lifting at the frame rate the models learnt motion at.

A temporal lifter learns how far a joint moves from one frame to the next. Every model of
the library was trained on motion sampled at :data:`TRAINING_FPS` (50 Hz: the embedded
dataset's and the engine's clips, and Human3.6M's rate), the engine's played 0.75-1.35x
as fast (:class:`~anatomy_lib.data.engine.EngineConfig`'s ``time_warp``). A camera filming at
``f`` fps shows real motion as the training data would show it played ``50 / f`` times as
fast, so the models have seen the rates in :data:`SEEN_FPS` (37.0-66.7 fps). A 30 fps
phone video is 1.67x, outside; 24 and 25 fps videos are about twice as fast.

Lifting at another rate is a change of the time axis only. The 2D (positions and scores)
is resampled to the lifting rate, linear in time between neighbouring frames,

.. math:: x'_k = (1 - w)\\, x_{\\lfloor s_k \\rfloor} + w\\, x_{\\lfloor s_k \\rfloor + 1},
   \\qquad s_k = k \\, f / f', \\quad w = s_k - \\lfloor s_k \\rfloor,

the network lifts it, and the 3D is taken back at the video's frames the same way
(:func:`resample`). For a causal model the way back holds the latest lifted sample at or
before each frame instead (``hold=True``), so no frame depends on a later one.

At a whole multiple of the video's rate (30 fps lifted at 60 Hz: :func:`seen_multiple_fps`)
every video frame is a lifted sample, so the way back blends nothing and a causal model's
hold has no lag.

``lift_fps="auto"`` (:func:`lifting_fps`, the video pipeline's default) resamples only
videos outside :data:`SEEN_FPS`: a model that is not causal at 50 Hz, a causal one only
below the seen rates, at the smallest whole multiple inside them. Measured on validation
data only (``benchmarks/frame_rate.py``, the record ``anatomy_lib/results/frame_rate.json``):
at 25 fps the engine's validation videos lose ~8 mm of P1 when lifted as filmed and get
almost all of it back at 50 Hz; at 60 fps, inside the range, resampling costs a little;
rendered as slow motion (100 and 120 fps, above the range) they come out about even either
way.
"""

from __future__ import annotations

import math
import numbers

import torch

__all__ = [
    "TRAINING_FPS",
    "SEEN_FPS",
    "resample",
    "resampled_length",
    "lifting_fps",
    "seen_multiple_fps",
    "parse_lift_fps",
]

#: The frame rate, Hz, of the motion every model of the library was trained on.
TRAINING_FPS = 50.0

#: Video frame rates, fps, whose motion the models have seen: :data:`TRAINING_FPS` divided by
#: the fastest and the slowest playback of ``EngineConfig().time_warp`` (1.35, 0.75).
SEEN_FPS = (TRAINING_FPS / 1.35, TRAINING_FPS / 0.75)


def _check_fps(name: str, fps: float) -> float:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not 0 < fps < math.inf:
        raise ValueError(f"{name}: expected a frame rate > 0 (frames per second), got {fps!r}")
    return float(fps)


def resampled_length(frames: int, fps: float, to_fps: float) -> int:
    """Frames of a ``frames``-long video at ``fps`` resampled to ``to_fps``: enough for the
    last sample to reach the last frame's time, ``ceil((frames - 1) to_fps / fps) + 1``."""
    fps, to_fps = _check_fps("fps", fps), _check_fps("to_fps", to_fps)
    if frames < 1:
        raise ValueError(f"frames: expected at least 1, got {frames}")
    # The small tolerance keeps exact ratios (60 -> 30) from gaining a frame to rounding.
    return math.ceil((frames - 1) * to_fps / fps - 1e-9) + 1


def resample(
    x: torch.Tensor,
    fps: float,
    to_fps: float,
    frames: int | None = None,
    hold: bool = False,
    dim: int = 0,
) -> torch.Tensor:
    """Resample a video's frames along ``dim`` from ``fps`` to ``to_fps`` (see the module
    docstring): ``(..., T, ...) -> (..., T', ...)``.

    Sample ``k`` is at time ``k / to_fps``; times after the last frame hold it. Linear in
    time, so a signal linear in time comes back exactly, and ``fps == to_fps`` is the
    identity. Differentiable in ``x``; any dtype and device.

    Args:
        x: frames along ``dim``.
        fps: ``x``'s frame rate; to_fps: the rate wanted.
        frames: ``T'`` (default :func:`resampled_length`).
        hold: take the latest frame at or before each sample instead of interpolating
            (then sample ``k`` never depends on a frame after its time).
        dim: the time axis.

    Raises:
        ValueError: a rate not > 0, an empty time axis, ``frames`` < 1.
    """
    fps, to_fps = _check_fps("fps", fps), _check_fps("to_fps", to_fps)
    t = x.shape[dim]
    if t < 1:
        raise ValueError(
            f"x: expected at least one frame along dim {dim}, got shape {tuple(x.shape)}"
        )
    n = resampled_length(t, fps, to_fps) if frames is None else int(frames)
    if n < 1:
        raise ValueError(f"frames: expected at least 1, got {frames}")
    # Source positions in frames, in float64; a position within rounding of a frame is that
    # frame, so integer ratios (30 -> 60 -> 30) keep and give back the frames exactly.
    pos = torch.arange(n, dtype=torch.float64, device=x.device) * (fps / to_fps)
    pos = torch.where((pos - pos.round()).abs() < 1e-9, pos.round(), pos).clamp(max=t - 1)
    if hold:
        return x.index_select(dim, pos.floor().long())
    lower = pos.floor().long().clamp(max=max(t - 2, 0))
    upper = (lower + 1).clamp(max=t - 1)
    w = (pos - lower).to(x.dtype)
    shape = [1] * x.dim()
    shape[dim] = n
    w = w.reshape(shape)
    return x.index_select(dim, lower) * (1 - w) + x.index_select(dim, upper) * w


def seen_multiple_fps(fps: float) -> float | None:
    """The smallest integer multiple ``n * fps`` (``n >= 1``) inside :data:`SEEN_FPS`, or None
    when there is none (above the range, or 33.4-37.0 fps, whose doubles are above it).

    Lifting at ``n * fps`` makes every video frame a lifted sample (sample ``n t`` is frame
    ``t``), so the 3D comes back with no blend of neighbouring samples and, for a causal
    model, with no lag: 30 -> 60 Hz, 25 -> 50, 24 -> 48, 20 -> 40, 15 -> 45.

    Raises:
        ValueError: a rate not > 0.
    """
    fps = _check_fps("fps", fps)
    low, high = SEEN_FPS
    if fps > high:
        return None
    multiple = math.ceil(low / fps - 1e-9) * fps
    return multiple if multiple <= high else None


def parse_lift_fps(text: str) -> float | str | None:
    """``lift_fps`` from its command-line words (``--lift-fps``): ``"auto"``, ``"video"``
    (None: as filmed) or a frame rate in Hz.

    Raises:
        ValueError: anything else, or a rate not > 0.
    """
    if text in ("auto", "video"):
        return None if text == "video" else text
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 < rate < math.inf:
        raise ValueError(f"expected auto, video or a frame rate in Hz > 0, got {text!r}")
    return rate


def lifting_fps(fps: float, lift_fps: float | str | None = "auto", causal: bool = False) -> float:
    """The frame rate a network lifts a ``fps`` video at.

    Args:
        fps: the video's frame rate.
        lift_fps: ``"auto"``: ``fps`` inside :data:`SEEN_FPS`; outside, for a model that is
            not causal, :data:`TRAINING_FPS`; for a causal one, below the seen rates
            :func:`seen_multiple_fps` (:data:`TRAINING_FPS` where there is none) and above
            them ``fps``. None: ``fps`` (as filmed); a number: that rate.
        causal: whether the model is causal. Measured on validation data only
            (``frame_rate.json``): a causal model held the latest 50 Hz sample at 30 fps, a
            lag of up to 0.4 frame, and gained 0.33 mm on the validation person, short of the
            0.5 mm asked of a default (session 28); at 60 Hz, where every frame is a sample,
            it gained 0.53 mm (session 29). A model that is not causal kept 50 Hz, which at
            20 fps did better than 40 Hz on the engine's videos (session 29).

    Raises:
        ValueError: a rate not > 0, or another string than ``"auto"``.
    """
    fps = _check_fps("fps", fps)
    if lift_fps is None:
        return fps
    if isinstance(lift_fps, str):
        if lift_fps != "auto":
            raise ValueError(
                f"lift_fps: expected 'auto', None (the video's rate) or a frame rate, "
                f"got {lift_fps!r}"
            )
        low, high = SEEN_FPS
        if low <= fps <= high or (causal and fps > high):
            return fps
        return (seen_multiple_fps(fps) or TRAINING_FPS) if causal else TRAINING_FPS
    return _check_fps("lift_fps", lift_fps)

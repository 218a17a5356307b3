"""Temporal smoothing of lifted poses: a Gaussian filter over frames.

A lifter predicts every frame from its own window of 2D keypoints, so the 2D detector's
frame-to-frame noise reaches the 3D output as jitter. Averaging each frame with its
neighbours, weighted by a Gaussian of standard deviation ``sigma`` frames,

.. math:: \\hat x_t = \\sum_{k=-r}^{r} w_k \\, x_{t+k}, \\qquad
   w_k = \\frac{e^{-k^2 / 2\\sigma^2}}{\\sum_{m=-r}^{r} e^{-m^2 / 2\\sigma^2}},
   \\qquad r = \\lfloor 4 \\sigma + 1/2 \\rfloor,

removes most of that jitter while barely changing motion slower than a few ``sigma``:
white noise keeps about ``1 / sqrt(2 sqrt(pi) sigma)`` of its standard deviation, a motion
that is linear in time over the ``2r + 1`` frames passes unchanged. Before the first and after
the last frame the edge frame is repeated (so a still pose stays exactly still).

The video pipeline sets ``sigma`` in seconds (``--smooth``; :data:`VIDEO_SMOOTHING_S`, none, by
default) and turns it into frames with the video's frame rate; the paper's protocol does not
smooth.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["VIDEO_SMOOTHING_S", "gaussian_weights", "smooth_over_time"]

#: The video pipeline's default ``sigma``, seconds: 0, not smoothed (``--smooth`` turns it
#: on). Sessions 20-22 smoothed over 1/60 s, chosen on a validation trial whose first person
#: turned out to be the test trial's performer; on the validation person alone it did not
#: earn its place (``anatomy_lib/results/default_model_session23.json``).
VIDEO_SMOOTHING_S = 0.0


def gaussian_weights(
    sigma: float, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """``(2r + 1,)`` normalised Gaussian weights of standard deviation ``sigma`` frames,
    ``r = floor(4 sigma + 1/2)`` (4 sigma rounded, as SciPy's ``gaussian_filter1d``); a
    ``sigma`` below 1/8 frame gives ``[1.]``.

    Raises:
        ValueError: ``sigma`` negative or not finite.
    """
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma >= 0.0):
        raise ValueError(f"sigma: expected a finite number of frames >= 0, got {sigma}")
    radius = int(4.0 * sigma + 0.5)
    if radius == 0:
        return torch.ones(1, dtype=dtype, device=device)
    k = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (k / sigma) ** 2)
    return (w / w.sum()).to(dtype=dtype, device=device)


def smooth_over_time(x: torch.Tensor, sigma: float, dim: int = -3) -> torch.Tensor:
    """Gaussian smoothing of ``x`` along its time axis (see the module docstring).

    Args:
        x: ``(..., T, J, 3)`` poses (time at ``dim``, by default the third from last), any
            floating dtype and device; differentiable.
        sigma: standard deviation in frames, ``>= 0``; 0 returns ``x`` unchanged.
        dim: the time axis.

    Returns:
        A tensor shaped like ``x``.

    Raises:
        ValueError: a bad ``sigma``, a non-floating ``x``, an empty time axis or one
            holding NaN / inf (they would spread over ``2 r + 1`` frames).
    """
    if not x.is_floating_point():
        raise ValueError(f"x: expected a floating tensor, got {x.dtype}")
    weights = gaussian_weights(sigma, dtype=x.dtype)
    if x.dim() == 0:
        raise ValueError("x: expected a tensor with a time axis, got a scalar")
    dim = dim % x.dim()
    t = x.shape[dim]
    if t == 0:
        raise ValueError(
            f"x: expected at least one frame along dim {dim}, got shape {tuple(x.shape)}"
        )
    if len(weights) == 1:
        return x
    if not torch.isfinite(x).all():
        raise ValueError("x: NaN or inf found; smooth finite poses (fill gaps first)")
    radius = (len(weights) - 1) // 2
    moved = x.movedim(dim, -1)
    flat = moved.reshape(-1, 1, t)
    index = torch.arange(-radius, t + radius, device=x.device).clamp(0, t - 1)
    padded = flat.index_select(-1, index)  # edge frames repeated
    out = F.conv1d(padded, weights.to(x.device).reshape(1, 1, -1))
    return out.reshape(moved.shape).movedim(-1, dim)

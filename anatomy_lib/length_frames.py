"""Which frames feed the bone length network (Sec. 3.3 and Table 4's AF(conse)).

Two rules, shared by the training samplers, whole-video inference and evaluation:

* :func:`uniform_length_frames`: ``l`` frames drawn uniformly with replacement from the
  frames available to each target (the whole video, or ``0..t`` when causal). With
  replacement, videos shorter than ``l`` work.
* :func:`consecutive_length_frames`: the ``l`` consecutive frames centred on the target
  (causal: ending at it), clamped to the video.
"""

from __future__ import annotations

import torch

__all__ = ["uniform_length_frames", "consecutive_length_frames"]


def uniform_length_frames(
    available: torch.Tensor, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``(N, count)`` frame indices, uniform with replacement over ``0..available[i]-1``.

    Args:
        available: ``(N,)`` long, frames each target may draw from (>= 1).
        count: ``l``, frames per target.
        generator: CPU random source; the draw is made in float64 on the CPU, so the
            indices are the same whatever device ``available`` is on.

    Returns:
        ``(N, count)`` long indices on ``available``'s device.
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count: expected an int >= 1, got {count!r}")
    if available.numel() and int(available.min()) < 1:
        raise ValueError("available: every target needs at least one frame to draw from")
    u = torch.rand(len(available), count, generator=generator, dtype=torch.float64)
    n = available.unsqueeze(-1)
    return torch.minimum((u.to(available.device) * n.double()).long(), n - 1)


def consecutive_length_frames(
    frame_index: torch.Tensor, num_frames: torch.Tensor | int, count: int, causal: bool
) -> torch.Tensor:
    """``(N, count)`` indices of the ``count`` consecutive frames around each target frame
    (centred; causal: ending at it), clamped to the video: AF(conse) of Table 4.

    Args:
        frame_index: ``(N,)`` target frames.
        num_frames: ``(N,)`` (or one int) frames of each target's video.
        count: ``l``.
        causal: past frames only.
    """
    offsets = torch.arange(count, device=frame_index.device) - (count - 1 if causal else count // 2)
    idx = frame_index.unsqueeze(-1) + offsets
    last = torch.as_tensor(num_frames, device=frame_index.device).reshape(-1, 1) - 1
    return torch.minimum(idx.clamp_min(0), last)

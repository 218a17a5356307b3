"""Input checks and channel layout shared by the networks.

Temporal networks read a window as ``(N, F, T)`` channels: for each joint ``j`` its
``x, y`` (normalised screen coordinates) at channels ``2j, 2j+1``; with
``visibility="fusion"`` each joint contributes ``x, y, score`` at ``3j .. 3j+2``.
"""

from __future__ import annotations

import torch

from .._validation import check_finite, check_points
from ..skeleton import Skeleton

__all__ = [
    "INPUT_NORMALIZATIONS",
    "check_window",
    "check_sampled",
    "keypoint_channels",
    "normalize_keypoints",
    "score_channels",
]

#: How a model re-expresses its 2D input (``ModelConfig.input_normalization``).
INPUT_NORMALIZATIONS = ("screen", "person")


def check_window(
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None,
    skeleton: Skeleton,
    needs_scores: bool,
    frames: int | None = None,
    min_frames: int | None = None,
    batched: bool = True,
) -> None:
    """Raise ``ValueError`` unless ``keypoints_2d`` is ``(N, T, J, 2)`` (``(T, J, 2)`` when
    not ``batched``), finite, with ``T == frames`` / ``T >= min_frames``, and ``scores``
    is ``(N, T, J)`` when ``needs_scores``."""
    what = "(N, T, J, 2)" if batched else "(T, J, 2)"
    check_points(keypoints_2d, skeleton.num_joints, coords=2, name="keypoints_2d")
    if keypoints_2d.dim() != (4 if batched else 3):
        raise ValueError(f"keypoints_2d: expected shape {what}, got {tuple(keypoints_2d.shape)}")
    t = keypoints_2d.shape[-3]
    if frames is not None and t != frames:
        raise ValueError(
            f"keypoints_2d: expected a window of exactly {frames} frames (the receptive "
            f"field), got {t}; use anatomy_lib.models.lift_video for whole videos"
        )
    if min_frames is not None and t < min_frames:
        raise ValueError(f"keypoints_2d: expected at least {min_frames} frames, got {t}")
    if needs_scores:
        if scores is None:
            raise ValueError(
                f"scores: this model uses visibility scores; expected a tensor of shape "
                f"{tuple(keypoints_2d.shape[:-1])}, got None"
            )
        if not isinstance(scores, torch.Tensor) or scores.shape != keypoints_2d.shape[:-1]:
            got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
            raise ValueError(
                f"scores: expected shape {tuple(keypoints_2d.shape[:-1])} to match "
                f"keypoints_2d, got {got}"
            )
        check_finite(scores, "scores")


def check_sampled(sampled_2d: torch.Tensor, skeleton: Skeleton, batch: int | None = None) -> None:
    """Raise ``ValueError`` unless ``sampled_2d`` is a finite ``(N, l, J, 2)`` tensor."""
    check_points(sampled_2d, skeleton.num_joints, coords=2, name="sampled_2d")
    if sampled_2d.dim() != 4:
        raise ValueError(f"sampled_2d: expected shape (N, l, J, 2), got {tuple(sampled_2d.shape)}")
    if batch is not None and sampled_2d.shape[0] != batch:
        raise ValueError(
            f"sampled_2d: expected batch size {batch} (as keypoints_2d), got {sampled_2d.shape[0]}"
        )


def normalize_keypoints(keypoints_2d: torch.Tensor, mode: str, skeleton: Skeleton) -> torch.Tensor:
    """Re-express 2D keypoints as a model of ``input_normalization = mode`` reads them.

    ``"screen"`` (the paper): unchanged normalised screen coordinates. ``"person"``: each
    frame centred on its root keypoint and divided by the median distance of its keypoints
    from the root, ``x' = (x - x_root) / median_j |x_j - x_root|``; the input then no longer
    depends on the image size, on where the person stands in the frame, or on how far
    from the camera (a similarity transform of the image changes nothing but a rotation).
    Per frame, so the window form and whole-video inference see the same values.

    Args:
        keypoints_2d: ``(..., J, 2)`` normalised screen coordinates.
        mode: one of :data:`INPUT_NORMALIZATIONS`.
        skeleton: the joint tree (its root).

    Returns:
        ``(..., J, 2)``.
    """
    if mode == "screen":
        return keypoints_2d
    if mode != "person":
        raise ValueError(
            f"input normalisation: expected one of {INPUT_NORMALIZATIONS}, got {mode!r}"
        )
    root = skeleton.root
    centred = keypoints_2d - keypoints_2d[..., root : root + 1, :]
    scale = centred.norm(dim=-1).median(dim=-1, keepdim=True).values.clamp_min(1e-4)
    return centred / scale.unsqueeze(-1)


def keypoint_channels(
    keypoints_2d: torch.Tensor, scores: torch.Tensor | None, fusion: bool
) -> torch.Tensor:
    """``(N, T, J, 2)`` keypoints (+ ``(N, T, J)`` scores when ``fusion``) -> ``(N, F, T)``."""
    x = keypoints_2d
    if fusion:
        x = torch.cat([x, scores.to(x.dtype).unsqueeze(-1)], dim=-1)
    return x.flatten(-2).transpose(-1, -2)


def score_channels(scores: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(N, T, J)`` visibility scores -> ``(N, J, T)`` channels."""
    return scores.to(dtype).transpose(-1, -2)

"""Shared input checks that turn bad input into clear errors.

Every public function of the library validates its tensors with these helpers so
that a wrong joint count, a wrong shape, NaN or an empty array is reported with
what was expected and what came, instead of silently producing garbage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "check_points",
    "check_finite",
    "check_same_shape",
    "as_tensor",
    "check_choice_field",
    "check_int_field",
    "check_positive_float_field",
    "check_metres",
    "check_scores",
    "check_screen_keypoints",
]


def check_choice_field(obj: object, key: str, choices: tuple[str, ...]) -> None:
    """Configuration field ``obj.key`` must be one of ``choices``."""
    value = getattr(obj, key)
    if value not in choices:
        raise ValueError(f"{type(obj).__name__}.{key}: expected one of {choices}, got {value!r}")


def check_int_field(obj: object, key: str, minimum: int = 1) -> None:
    """Configuration field ``obj.key`` must be an int (not a bool) ``>= minimum``."""
    value = getattr(obj, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{type(obj).__name__}.{key}: expected {wanted}, got {value!r}")


def check_positive_float_field(obj: object, key: str) -> None:
    """Configuration field ``obj.key`` must be a finite number ``> 0`` (not NaN, not inf)."""
    value = getattr(obj, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{type(obj).__name__}.{key}: expected a finite number > 0, got {value!r}")


#: Median bone length above which 3D joints cannot be metres (a human bone is 0.05-0.6 m).
_MAX_METRES = 3.0


def check_metres(joints: torch.Tensor, parents: Sequence[int], name: str = "joints") -> None:
    """Raise ``ValueError`` when ``(..., J, 3)`` joints are clearly not in metres (the
    median bone length, ``parents`` giving each joint's parent or -1, is over 3 m:
    millimetres or centimetres)."""
    child = [k for k, p in enumerate(parents) if p >= 0]
    parent = [parents[k] for k in child]
    if not child or joints.numel() == 0:
        return
    lengths = (joints[..., child, :] - joints[..., parent, :]).norm(dim=-1)
    lengths = lengths[torch.isfinite(lengths)]
    if lengths.numel() == 0:
        return
    median = float(lengths.median())
    if median > _MAX_METRES:
        unit, factor = ("millimetres", 1000) if median > 30 else ("centimetres", 100)
        raise ValueError(
            f"{name}: the median bone is {median:.4g} long; expected metres (about 0.25 m); "
            f"this looks like {unit}: divide by {factor}"
        )


def check_scores(scores: torch.Tensor, name: str = "scores") -> torch.Tensor:
    """Raise ``ValueError`` unless every score is in ``[0, 1]`` (no NaN); return ``scores``."""
    if scores.is_floating_point() and bool(torch.isnan(scores).any()):
        raise ValueError(
            f"{name}: {int(torch.isnan(scores).sum())} NaN; expected confidences in [0, 1]"
        )
    if scores.numel() and bool(((scores < 0) | (scores > 1)).any()):
        raise ValueError(
            f"{name}: expected confidences in [0, 1], got values from {float(scores.min()):g} "
            f"to {float(scores.max()):g}"
        )
    return scores


#: Largest |value| accepted as normalised screen coordinates (x in [-1, 1], y scaled alike).
_MAX_SCREEN = 20.0


def check_screen_keypoints(keypoints: torch.Tensor, name: str = "keypoints_2d") -> None:
    """Raise ``ValueError`` when 2D keypoints meant to be normalised screen coordinates are
    clearly pixels (any finite ``|value| > 20``)."""
    finite = keypoints.detach()[torch.isfinite(keypoints)]
    if finite.numel() and float(finite.abs().max()) > _MAX_SCREEN:
        raise ValueError(
            f"{name}: values up to {float(finite.abs().max()):.4g}; expected normalised screen "
            "coordinates (x in [-1, 1]); these look like pixels: convert them with "
            "anatomy_lib.camera.normalize_screen(pixels, width, height)"
        )


def as_tensor(x, name: str = "input", dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``x`` as a floating tensor (numpy arrays and lists are converted).

    Integer input is promoted to the default float dtype. ``dtype`` forces a dtype.
    """
    if isinstance(x, torch.Tensor):
        t = x
    else:
        try:
            t = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name}: expected an array or tensor, got {type(x).__name__}") from exc
    if dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def check_points(
    x: torch.Tensor,
    num_joints: int | None,
    coords: int | Sequence[int] = 3,
    name: str = "joints",
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``x`` has shape ``(..., num_joints, coords)``, is non-empty and finite.

    Args:
        x: tensor to check.
        num_joints: expected size of dimension -2, or None to accept any.
        coords: expected size(s) of the last dimension (3 for 3D, 2 for 2D).
        name: what the tensor is, used in the error message.
        finite: also reject NaN and infinite values.

    Returns:
        ``x`` unchanged, so the call can be chained.

    Raises:
        ValueError: with the expected and the actual shape, or where the NaN is.
    """
    allowed = (coords,) if isinstance(coords, int) else tuple(coords)
    want_j = "J" if num_joints is None else str(num_joints)
    want = f"(..., {want_j}, {'|'.join(map(str, allowed))})"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape {want}, got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"{name}: expected shape {want}, got {tuple(x.shape)}")
    if x.shape[-1] not in allowed:
        raise ValueError(
            f"{name}: expected {'/'.join(map(str, allowed))} coordinates in the last dimension "
            f"(shape {want}), got shape {tuple(x.shape)}"
        )
    if num_joints is not None and x.shape[-2] != num_joints:
        raise ValueError(
            f"{name}: expected {num_joints} joints in dimension -2 (shape {want}), "
            f"got {x.shape[-2]} joints (shape {tuple(x.shape)}); is this the right skeleton?"
        )
    if x.numel() == 0:
        raise ValueError(f"{name}: got an empty tensor of shape {tuple(x.shape)}")
    if finite:
        check_finite(x, name)
    return x


def check_finite(x: torch.Tensor, name: str = "input") -> torch.Tensor:
    """Raise ``ValueError`` naming the first non-finite entry of ``x``; return ``x``."""
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        bad = torch.nonzero(~torch.isfinite(x))
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name}: contains {bad.shape[0]} NaN or infinite value(s), first at index {first}; "
            "fill or interpolate missing keypoints before calling this function"
        )
    return x


def check_same_shape(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str]) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )

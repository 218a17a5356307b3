"""Input normalisation and geometry helpers shared by the plotly and matplotlib views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from .._validation import as_tensor, check_points
from ..bones import joints_to_bones
from ..skeleton import Skeleton

#: Right-handed ``(right, forward, up)`` unit axes for each supported ``up`` direction.
#: ``"-y"`` is camera space (y down, z forward); ``"z"`` is world space (z up).
UP_FRAMES: dict[str, np.ndarray] = {
    "-y": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=float),
    "y": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float),
    "z": np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float),
    "-z": np.array([[0, 1, 0], [1, 0, 0], [0, 0, -1]], dtype=float),
    "x": np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float),
    "-x": np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=float),
}

SIDE_COLORS = {"left": "#1f77b4", "right": "#d62728", "centre": "#444444"}


def up_frame(up: str) -> np.ndarray:
    """``(3, 3)`` rows = right, forward and up unit vectors for an ``up`` name."""
    try:
        return UP_FRAMES[up]
    except KeyError:
        raise ValueError(f"up: expected one of {sorted(UP_FRAMES)}, got {up!r}") from None


def axis_label(row: np.ndarray) -> str:
    """Name (``"x"``, ``"-y"``, ...) of the input axis a row of :data:`UP_FRAMES` selects."""
    i = int(np.argmax(np.abs(row)))
    return ("-" if row[i] < 0 else "") + "xyz"[i]


def to_numpy_points(x, skeleton: Skeleton | None, coords: int | tuple[int, ...], name: str):
    """Validate ``(..., J, C)`` points (array or tensor) and return a float64 numpy array."""
    t = check_points(
        as_tensor(x, name=name), None if skeleton is None else skeleton.num_joints, coords, name
    )
    return t.detach().to("cpu", torch.float64).numpy()


def as_numpy(x, name: str) -> np.ndarray:
    """Any array-like or tensor as a float64 numpy array."""
    return as_tensor(x, name=name).detach().to("cpu", torch.float64).numpy()


def named(x, default: str) -> dict:
    """One array, a list/tuple of arrays or a name -> array mapping, as an ordered dict."""
    if isinstance(x, Mapping):
        if not x:
            raise ValueError("expected at least one pose, got an empty mapping")
        return dict(x)
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (np.ndarray, torch.Tensor)):
        return {f"{default} {i}": v for i, v in enumerate(x)}
    return {default: x}


def side_of_bones(skeleton: Skeleton) -> list[str]:
    """``"left"``, ``"right"`` or ``"centre"`` for each bone (by its child joint)."""
    left, right = set(skeleton.joints_left), set(skeleton.joints_right)
    return [
        "left" if c in left else "right" if c in right else "centre" for c in skeleton.bone_children
    ]


def joint_colors(skeleton: Skeleton) -> list[str]:
    """Side colour of each joint (left, right or centre)."""
    left, right = set(skeleton.joints_left), set(skeleton.joints_right)
    return [
        SIDE_COLORS["left" if k in left else "right" if k in right else "centre"]
        for k in range(skeleton.num_joints)
    ]


def bone_lengths_np(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Bone lengths ``(..., B)`` of ``(..., J, 3)`` numpy joints via :mod:`anatomy_lib.bones`."""
    return joints_to_bones(torch.from_numpy(joints), skeleton).lengths.numpy()


def cube_bounds(points: np.ndarray, margin: float = 0.1) -> tuple[np.ndarray, float]:
    """Centre ``(3,)`` and half-width of an axis-aligned cube holding all ``(..., 3)`` points."""
    flat = points.reshape(-1, 3)
    lo, hi = flat.min(0), flat.max(0)
    half = float((hi - lo).max()) / 2
    half = half * (1 + margin) if half > 0 else 1.0
    return (lo + hi) / 2, half


def segments(joints: np.ndarray, bones: Sequence[tuple[int, int]]) -> np.ndarray:
    """``(3 * len(bones), C)`` parent, child, NaN rows: one polyline for many bones."""
    out = np.full((3 * len(bones), joints.shape[-1]), np.nan)
    for i, (child, parent) in enumerate(bones):
        out[3 * i] = joints[parent]
        out[3 * i + 1] = joints[child]
    return out


def per_bone_values(values, skeleton: Skeleton, name: str, length: int | None = None) -> np.ndarray:
    """Validate a ``(B,)`` (or ``(length, B)``) array of per-bone values."""
    arr = as_numpy(values, name)
    want = (skeleton.num_bones,) if length is None else (length, skeleton.num_bones)
    if arr.shape != want:
        raise ValueError(f"{name}: expected shape {want} (one value per bone), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr

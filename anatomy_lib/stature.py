"""A person's standing height (stature) from a skeleton, and lifted 3D scaled to a known one.

A single camera cannot tell a tall person far away from a short one nearby: the lifter's
3D has the size its training bodies make likely (ANSUR II adults,
:mod:`anatomy_lib.data.bodies`), and a person of another size comes out too large or too
small by the same factor everywhere. Whoever knows the person's height can remove that
factor. The height is read off the skeleton's **standing chain**, the bones a standing
person stacks from ankle to head,

.. math::  c = \\tfrac12 (l_{\\text{thigh,R}} + l_{\\text{shin,R}} + l_{\\text{thigh,L}}
           + l_{\\text{shin,L}}) + l_{\\text{pelvis-spine}} + l_{\\text{spine-thorax}}
           + l_{\\text{thorax-neck}} + l_{\\text{neck-head}},

and a proportion, :math:`\\hat h = k\\, c`, with :math:`k` fitted by least squares through
the origin over the ANSUR II training bodies (:func:`stature_fit`; the held-out bodies give
its error). The chain leaves out what no joint marks (the heel below the ankle, the vertex
above the head joint); :math:`k` puts it back. With no offset the estimate scales with the
skeleton, so :func:`scale_to_stature` multiplies the joints by :math:`h / \\hat h` and the
result's own estimate is exactly ``h``.

Over a video the chain is the **median** over frames (bone lengths of the anatomy-aware
model are constant; another model's frames may disagree), skipping frames with NaN joints;
a causal result is scaled frame by frame instead, so that no frame depends on later ones.

Shapes: joints ``(..., T, J, 3)`` (``T`` frames of one person per leading index), bone
lengths ``(..., B)``; statures ``(...)`` in the joints' unit (metres in the library).
Device and dtype follow the inputs; everything is differentiable where the median is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from ._validation import check_points
from .bones import bone_vectors
from .skeleton import H36M_17, Skeleton

__all__ = [
    "STANDING_CHAIN",
    "STATURE_RANGE_M",
    "StatureFit",
    "check_stature",
    "estimate_stature",
    "frame_statures",
    "scale_to_stature",
    "standing_chain",
    "stature_fit",
]

#: Bones of the standing chain and their weights (the two legs averaged), by
#: :attr:`~anatomy_lib.skeleton.Skeleton.bone_names`.
STANDING_CHAIN: dict[str, float] = {
    "right_hip->right_knee": 0.5,
    "right_knee->right_ankle": 0.5,
    "left_hip->left_knee": 0.5,
    "left_knee->left_ankle": 0.5,
    "pelvis->spine": 1.0,
    "spine->thorax": 1.0,
    "thorax->neck_nose": 1.0,
    "neck_nose->head": 1.0,
}

#: Heights :func:`check_stature` accepts, metres (a person; a number outside is most likely
#: centimetres or feet).
STATURE_RANGE_M = (0.5, 2.5)


@dataclass(frozen=True)
class StatureFit:
    """Stature = ``ratio`` x standing chain, fitted on measured bodies.

    Attributes:
        ratio: ``k``, stature over standing chain (least squares through the origin).
        train_bodies: bodies it was fitted on.
        validation_bodies: held-out bodies it was scored on.
        validation_rmse_m: root-mean-square error of the stature on the held-out bodies,
            metres (from their table bone lengths: what the fit adds, not what a lifter's
            bone lengths add).
        validation_max_abs_m: the largest absolute error there, metres.
    """

    ratio: float
    train_bodies: int
    validation_bodies: int
    validation_rmse_m: float
    validation_max_abs_m: float


def _chain_weights(skeleton: Skeleton, device, dtype) -> torch.Tensor:
    missing = [b for b in STANDING_CHAIN if b not in skeleton.bone_names]
    if missing:
        raise ValueError(
            f"stature needs the bones {sorted(STANDING_CHAIN)}; skeleton {skeleton.name!r} "
            f"lacks {missing}"
        )
    w = torch.zeros(skeleton.num_bones, device=device, dtype=dtype)
    for name, weight in STANDING_CHAIN.items():
        w[skeleton.bone_names.index(name)] = weight
    return w


def standing_chain(bone_lengths: torch.Tensor, skeleton: Skeleton = H36M_17) -> torch.Tensor:
    """``(..., B)`` bone lengths -> ``(...)`` standing chain ``c`` (module docstring)."""
    if bone_lengths.shape[-1:] != (skeleton.num_bones,):
        raise ValueError(
            f"bone lengths: expected shape (..., {skeleton.num_bones}), got "
            f"{tuple(bone_lengths.shape)}"
        )
    return bone_lengths @ _chain_weights(skeleton, bone_lengths.device, bone_lengths.dtype)


@lru_cache(maxsize=1)
def stature_fit() -> StatureFit:
    """``k`` fitted on the shipped ANSUR II table's training bodies
    (:func:`~anatomy_lib.data.bodies.load_body_table`), scored on its held-out ones."""
    from .data.bodies import load_body_table

    table = load_body_table()
    chain = standing_chain(table.bone_lengths.double())
    stature = table.stature.double()
    train, held_out = table.rows("train"), table.rows("validation")
    c, h = chain[train], stature[train]
    ratio = float((c * h).sum() / (c * c).sum())
    error = ratio * chain[held_out] - stature[held_out]
    return StatureFit(
        ratio=ratio,
        train_bodies=len(train),
        validation_bodies=len(held_out),
        validation_rmse_m=float(error.pow(2).mean().sqrt()),
        validation_max_abs_m=float(error.abs().max()),
    )


def _check_video(joints: torch.Tensor, skeleton: Skeleton) -> None:
    check_points(joints, skeleton.num_joints, coords=3, name="joints", finite=False)
    if joints.dim() < 3:
        raise ValueError(
            f"joints: expected shape (..., T, {skeleton.num_joints}, 3), got {tuple(joints.shape)}"
        )
    if bool(joints.isinf().any()):
        raise ValueError("joints: infinite values (NaN marks a frame without 3D)")


def frame_statures(joints: torch.Tensor, skeleton: Skeleton = H36M_17) -> torch.Tensor:
    """``(..., T, J, 3)`` joints -> ``(..., T)`` each frame's stature ``k * c_t`` (NaN on
    frames with a NaN joint).

    Raises:
        ValueError: bad shape or a skeleton without the chain's bones.
    """
    _check_video(joints, skeleton)
    gap = joints.isnan().any(-1).any(-1)  # (..., T) frames without 3D
    known = torch.where(gap[..., None, None], torch.zeros_like(joints), joints)
    chain = standing_chain(bone_vectors(known, skeleton).norm(dim=-1), skeleton)
    return stature_fit().ratio * chain.masked_fill(gap, float("nan"))


def estimate_stature(joints: torch.Tensor, skeleton: Skeleton = H36M_17) -> torch.Tensor:
    """``(..., T, J, 3)`` one person's joints over ``T`` frames -> ``(...)`` stature
    ``k * median_t c_t`` (frames with a NaN joint skipped).

    Raises:
        ValueError: bad shape, a skeleton without the chain's bones, or no frame without NaN.
    """
    per_frame = frame_statures(joints, skeleton)
    if bool(per_frame.isnan().all(-1).any()):
        raise ValueError("joints: every frame has a NaN joint; no stature to estimate")
    return per_frame.nanmedian(-1).values


def scale_to_stature(
    joints: torch.Tensor,
    stature: float | torch.Tensor,
    skeleton: Skeleton = H36M_17,
    causal: bool = False,
) -> torch.Tensor:
    """Scale root-relative joints ``(..., T, J, 3)`` so that :func:`estimate_stature` of the
    result is ``stature`` (a number or ``(...)``, same unit as the joints); bone directions
    and the root stay. NaN frames stay NaN.

    ``causal=True`` scales each frame by its own stature (:func:`frame_statures`), so frame
    ``t`` never depends on later frames (a causal anatomy-aware model's bone lengths already
    pool frames ``0..t``); every frame's own stature is then ``stature``.

    Raises:
        ValueError: ``stature`` not finite and positive, or as :func:`estimate_stature`.
    """
    target = torch.as_tensor(stature, dtype=joints.dtype, device=joints.device)
    if not bool(torch.isfinite(target).all() and (target > 0).all()):
        raise ValueError(f"stature: expected a finite length > 0, got {stature!r}")
    if causal:
        factor = target[..., None] / frame_statures(joints, skeleton)  # (..., T)
    else:
        factor = (target / estimate_stature(joints, skeleton))[..., None]
    return joints * factor[..., None, None]


def check_stature(stature_m: float) -> float:
    """``stature_m`` as a float if it is a person's height in metres
    (:data:`STATURE_RANGE_M`), else a :class:`ValueError` that says what came."""
    lo, hi = STATURE_RANGE_M
    if isinstance(stature_m, bool) or not isinstance(stature_m, int | float):
        raise ValueError(
            f"stature: expected a height in metres, got {type(stature_m).__name__} {stature_m!r}"
        )
    if not lo <= stature_m <= hi:
        hint = " (centimetres? give metres, e.g. 1.72)" if 100 <= stature_m <= 250 else ""
        raise ValueError(
            f"stature: expected a person's height in metres, {lo} to {hi}; got {stature_m!r}{hint}"
        )
    return float(stature_m)

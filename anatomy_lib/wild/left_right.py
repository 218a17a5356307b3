"""Left and right swapped back: a 2D detector that mistakes which side of the body it sees.

A per-image 2D detector sometimes labels a person's left limbs as right and the right as
left for a stretch of frames: MediaPipe does it when it takes a person facing the camera
for one facing away (19 frames in a row, then a flicker, in the Pose2Sim trial's second
video), OpenPose mostly with the legs. The keypoints stay on the limbs; only their labels
jump. Lifted as they are, those frames give a body that faces the other way.

In time such a swap is plain: between two frames a body moves a little, so a frame that is
close to the previous one only once its left and right labels are exchanged had its labels
jump, not its limbs. For each limb group (arms: shoulders, elbows, wrists; legs: hips,
knees, ankles) and each frame ``t`` in which the group is seen, with ``p`` the previous
such frame:

    same(t)  = sum_j w_j |x_t[j] - x_p[j]| / (size * sum_j w_j)
    cross(t) = sum_j w_j |x_t[m(j)] - x_p[j]| / (size * sum_j w_j)

where ``m`` exchanges left and right, ``w_j`` is the smallest score of the pair in either
frame and ``size`` the person's body size (the larger side of the arms' and legs' bounding
box). Each seen frame is labelled *kept* or *swapped*: consecutive frames with the same
label cost ``same(t)``, with different labels ``cross(t)``, and every swapped frame costs
``swap_cost`` more. The labelling of least total cost is the Viterbi path over the video
(causal: each frame's cheapest label given the frames before it, so frame ``t`` depends on
frames ``<= t`` only). Nothing links two frames more than ``max_gap`` apart: after such a
gap the labels are judged afresh.

A person who turns round moves their limbs continuously, so the detector's labels are the
cheapest and nothing is swapped. Where left and right overlap (a side view) ``same`` and
``cross`` are alike and ``swap_cost`` keeps the detector's labels. Only the relative
labelling is seen: a detector that gets a stretch mostly wrong makes its few right frames
look swapped. ``swap_cost = 0.005`` is the smallest value that swapped no frame wrongly on
the engine's validation videos (``benchmarks/left_right_swaps.py``).

Functions take the detector's own layout (any of
:data:`anatomy_lib.data.keypoint_formats.KEYPOINT_FORMATS`, or ``"h36m"``): the pairs are
the keypoints each Human3.6M left / right joint is made of (:func:`mirror_pairs`).
"""

from __future__ import annotations

import functools

import numpy as np

from ..data.keypoint_formats import KEYPOINT_FORMATS
from ..skeleton import get_skeleton

__all__ = ["GROUPS", "mirror_pairs", "find_left_right_swaps", "swap_back"]

GROUPS: tuple[str, ...] = ("arms", "legs")
"""The limb groups whose labels are checked, each on its own (detectors swap legs alone)."""

_GROUP_PARTS = {"arms": ("shoulder", "elbow", "wrist"), "legs": ("hip", "knee", "ankle")}


@functools.cache
def mirror_pairs(layout: str) -> tuple[np.ndarray, ...]:
    """Per group of :data:`GROUPS`, ``(n, 2)`` int: ``layout``'s keypoint index pairs
    ``(left, right)`` whose labels a swap exchanges (read-only arrays).

    For ``"h36m"`` they are the skeleton's joints; for a detector layout, the keypoints each
    Human3.6M left / right joint is made of, in the order of their sources, so that swapping
    in the detector's layout and then converting equals converting and then swapping.
    """
    skeleton = get_skeleton("h36m")
    if layout != "h36m" and layout not in KEYPOINT_FORMATS:
        raise KeyError(f"unknown keypoint layout {layout!r}; known: {['h36m', *KEYPOINT_FORMATS]}")
    out = []
    for group in GROUPS:
        pairs: list[tuple[int, int]] = []
        for part in _GROUP_PARTS[group]:
            left = skeleton.joint_index(f"left_{part}")
            right = skeleton.joint_index(f"right_{part}")
            if layout == "h36m":
                pairs.append((left, right))
                continue
            sources = KEYPOINT_FORMATS[layout].h36m_sources
            if len(sources[left]) != len(sources[right]):
                raise ValueError(f"{layout}: left_{part} and right_{part} differ in sources")
            pairs += [
                (kl, kr) for (kl, _), (kr, _) in zip(sources[left], sources[right], strict=True)
            ]
        array = np.array(pairs, dtype=np.int64)
        array.flags.writeable = False
        out.append(array)
    return tuple(out)


def _body_sizes(keypoints: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``(T,)`` larger side of the bounding box of each frame's seen ``(T, K, 2)`` keypoints
    (NaN if fewer than two are seen)."""
    low = np.where(seen[..., None], keypoints, np.inf).min(-2)
    high = np.where(seen[..., None], keypoints, -np.inf).max(-2)
    size = (high - low).max(-1)
    size[seen.sum(-1) < 2] = np.nan
    return size


def find_left_right_swaps(
    keypoints: np.ndarray,
    scores: np.ndarray,
    layout: str = "h36m",
    causal: bool = False,
    max_gap: int = 15,
    swap_cost: float = 0.005,
    min_weight: float = 1.0,
) -> np.ndarray:
    """The frames whose left and right labels the detector exchanged (module docstring).

    Args:
        keypoints: ``(T, K, 2)`` one person's keypoints in ``layout`` (pixels or any unit;
            NaN where unseen).
        scores: ``(T, K)`` confidences in ``[0, 1]`` (0 where unseen).
        layout: the keypoints' layout.
        causal: decide frame ``t`` from frames ``<= t`` only.
        max_gap: frames a group may be unseen before its labels are judged afresh.
        swap_cost: ``lambda``, the cost of each swapped frame, in body sizes.
        min_weight: a group counts as seen in a frame when the summed pair weights (the
            smaller score of each left / right pair) reach this.

    Returns:
        ``(T, len(GROUPS))`` bool: True where the group's labels should be swapped back.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"keypoints: expected shape (T, K, 2), got {kp.shape}")
    if sc.shape != kp.shape[:2]:
        raise ValueError(f"scores: expected shape {kp.shape[:2]}, got {sc.shape}")
    if not swap_cost > 0:
        raise ValueError(f"swap_cost: expected a positive number, got {swap_cost}")
    finite = np.isfinite(kp).all(-1)
    sc = np.where(finite, np.nan_to_num(sc), 0.0)
    kp = np.where(finite[..., None], kp, 0.0)
    num_frames = len(kp)
    limbs = np.unique(np.concatenate([p.reshape(-1) for p in mirror_pairs(layout)]))
    if limbs.max() >= kp.shape[1]:
        raise ValueError(f"keypoints: {kp.shape[1]} keypoints, too few for layout {layout}")
    size = _body_sizes(kp[:, limbs], sc[:, limbs] > 0)  # of the arms and legs
    out = np.zeros((num_frames, len(GROUPS)), dtype=bool)
    for g, pairs in enumerate(mirror_pairs(layout)):
        same_idx, cross_idx = pairs.reshape(-1), pairs[:, ::-1].reshape(-1)
        weight = np.repeat(np.minimum(sc[:, pairs[:, 0]], sc[:, pairs[:, 1]]), 2, axis=1)
        frames = np.flatnonzero(weight.sum(1) >= min_weight)
        if len(frames) == 0:
            continue
        t, p = frames[1:], frames[:-1]
        w = np.minimum(weight[t], weight[p])
        total = w.sum(1, keepdims=True) * np.fmax(size[t], size[p])[:, None]
        w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)  # 0: nothing to compare
        ref = kp[p][:, same_idx]
        same = (w * np.linalg.norm(kp[t][:, same_idx] - ref, axis=-1)).sum(1)
        cross = (w * np.linalg.norm(kp[t][:, cross_idx] - ref, axis=-1)).sum(1)
        apart = t - p > max_gap  # nothing links the labels across a long gap
        same[apart], cross[apart] = 0.0, 0.0
        labels = _cheapest_labels(same.tolist(), cross.tolist(), swap_cost, causal)
        per_frame = np.zeros(num_frames, dtype=bool)
        per_frame[frames] = labels
        seen = np.zeros(num_frames, dtype=bool)
        seen[frames] = True
        last = np.maximum.accumulate(np.where(seen, np.arange(num_frames), -1))
        # Frames where the group is unseen take the labels of the last frame it was seen.
        out[:, g] = np.where(last >= 0, per_frame[np.maximum(last, 0)], per_frame[frames[0]])
    return out


def _cheapest_labels(
    same: list[float], cross: list[float], swap_cost: float, causal: bool
) -> np.ndarray:
    """Swap (1) or keep (0) per seen frame, minimising the summed motion between
    consecutive frames (``same`` when both frames keep or both swap, ``cross`` otherwise)
    plus ``swap_cost`` per swapped frame: the Viterbi path, or in ``causal`` mode the
    cheapest label of each frame given the frames before it."""
    keep, swap = 0.0, swap_cost
    back, online = [], [swap < keep]
    for s, c in zip(same, cross, strict=True):
        from_keep = (keep + s, swap + c)
        to_swap = (keep + c, swap + s)
        back.append((from_keep[1] < from_keep[0], to_swap[1] < to_swap[0]))
        keep, swap = min(from_keep), min(to_swap) + swap_cost
        online.append(swap < keep)
    if causal:
        return np.array(online, dtype=bool)
    labels = [swap < keep]
    for came_from in reversed(back):
        labels.append(came_from[labels[-1]])
    return np.array(labels[::-1], dtype=bool)


def swap_back(
    keypoints: np.ndarray, scores: np.ndarray, swaps: np.ndarray, layout: str = "h36m"
) -> tuple[np.ndarray, np.ndarray]:
    """Exchange the left and right labels of each group in the frames ``swaps`` marks.

    Args:
        keypoints: ``(T, K, 2)`` in ``layout``; scores: ``(T, K)``.
        swaps: ``(T, len(GROUPS))`` bool, from :func:`find_left_right_swaps`.

    Returns:
        New ``(keypoints, scores)`` arrays.
    """
    kp, sc = np.array(keypoints, copy=True), np.array(scores, copy=True)
    swaps = np.asarray(swaps, dtype=bool)
    if swaps.shape != (len(kp), len(GROUPS)):
        raise ValueError(f"swaps: expected shape {(len(kp), len(GROUPS))}, got {swaps.shape}")
    for g, pairs in enumerate(mirror_pairs(layout)):
        perm = np.arange(kp.shape[1])
        perm[pairs[:, 0]], perm[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
        rows = swaps[:, g]
        kp[rows] = kp[rows][:, perm]
        sc[rows] = sc[rows][:, perm]
    return kp, sc

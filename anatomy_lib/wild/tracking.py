"""Following one person through a video and filling the frames where they were lost.

**Linking** (:func:`link_tracklets`): detections of consecutive frames are joined into
tracklets greedily, closest pair first. The distance of a candidate to a tracklet is the
distance between their centres (mean of the keypoints confident in both) divided by the
tracklet's body size (the larger side of its last bounding box). A link is accepted when
that distance is below ``max_jump + jump_per_frame * (frames since the tracklet was last
seen - 1)``, so a person may move further the longer they were unseen; a tracklet unseen
for more than ``max_lost`` frames ends. A detector that switches to another person (a
single-person detector such as MediaPipe does this when its person is occluded) thus
starts a new tracklet instead of teleporting the skeleton.

**Main person** (:func:`follow_main_person`): the tracklet with the largest summed
confidence (number of frames seen x mean keypoint score): the person seen longest and
most clearly.

**Gap filling** (:func:`fill_gaps`): each keypoint is interpolated linearly over runs of at
most ``max_gap`` missing frames (score 0: the model is told it was not seen); longer runs
and the ends of the video hold the nearest seen value, also with score 0, and are marked
``missing``. In causal mode gaps hold the last seen value instead. Nothing non-finite
reaches a model.

Linking is online (frame by frame); choosing the main person looks at the whole file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .detector import Detections

__all__ = [
    "FrameStatus",
    "Track",
    "FilledTrack",
    "link_tracklets",
    "follow_main_person",
    "fill_gaps",
]


class FrameStatus:
    """Codes of :attr:`FilledTrack.status`: how each frame's keypoints were obtained."""

    DETECTED = 0  #: the person was detected in this frame
    INTERPOLATED = 1  #: short gap, keypoints interpolated
    MISSING = 2  #: long gap or video end: keypoints held, 3D not trustworthy

    NAMES = ("detected", "interpolated", "missing")


@dataclass
class Track:
    """One person's keypoints over a video.

    Attributes:
        keypoints: ``(T, K, 2)`` pixels, NaN where the person was not seen.
        scores: ``(T, K)`` confidences, 0 where not seen.
        person: ``(T,)`` int, index of the detection used per frame (-1: not seen).
        tracklet: ``(T, P)`` int, tracklet id of every detection (-1: no detection).
        main: id of the followed tracklet.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    person: np.ndarray
    tracklet: np.ndarray
    main: int


@dataclass
class FilledTrack:
    """Finite keypoints ``(T, K, 2)`` and scores ``(T, K)`` with a per-frame ``status (T,)``
    (:class:`FrameStatus` codes)."""

    keypoints: np.ndarray
    scores: np.ndarray
    status: np.ndarray


def _centre_and_size(kp: np.ndarray, sc: np.ndarray, min_score: float):
    """Centre ``(..., 2)`` and body size ``(...)`` of ``(..., K, 2)`` poses (NaN if unseen)."""
    ok = (sc >= min_score) & ~np.isnan(kp).any(-1)
    few = ok.sum(-1) < 2
    ok = np.where(few[..., None], ~np.isnan(kp).any(-1), ok)
    pts = np.where(ok[..., None], kp, np.nan)
    with warnings.catch_warnings():  # all-NaN slices (empty slots) give NaN on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(pts, axis=-2)
        extent = np.nanmax(pts, axis=-2) - np.nanmin(pts, axis=-2)
    return centre, np.maximum(extent.max(-1), 1.0)


def link_tracklets(
    detections: Detections,
    max_jump: float = 0.5,
    jump_per_frame: float = 0.1,
    max_lost: int = 30,
    min_score: float = 0.3,
) -> np.ndarray:
    """Tracklet id ``(T, P)`` of every detection (-1 where there is none); see the module
    docstring. Distances are in body sizes."""
    if max_jump <= 0 or jump_per_frame < 0 or max_lost < 1:
        raise ValueError(
            f"expected max_jump > 0, jump_per_frame >= 0, max_lost >= 1, got {max_jump}, "
            f"{jump_per_frame}, {max_lost}"
        )
    kp, sc = detections.keypoints, detections.scores
    t_count, p_count = kp.shape[:2]
    centre, size = _centre_and_size(kp, sc, min_score)
    present = ~np.isnan(centre).any(-1)
    ids = np.full((t_count, p_count), -1, dtype=np.int64)
    # per live tracklet: [id, last frame, centre, size]
    live: list[list] = []
    next_id = 0
    for t in range(t_count):
        live = [tr for tr in live if t - tr[1] <= max_lost]
        pairs = []
        for i, (_, last, c, s) in enumerate(live):
            gate = max_jump + jump_per_frame * (t - last - 1)
            for p in np.flatnonzero(present[t]):
                d = float(np.linalg.norm(centre[t, p] - c)) / s
                if d < gate:
                    pairs.append((d, i, int(p)))
        used_tracks, used_people = set(), set()
        for _, i, p in sorted(pairs):
            if i in used_tracks or p in used_people:
                continue
            used_tracks.add(i)
            used_people.add(p)
            ids[t, p] = live[i][0]
            live[i][1:] = [t, centre[t, p], size[t, p]]
        for p in np.flatnonzero(present[t]):
            if int(p) not in used_people:
                ids[t, p] = next_id
                live.append([next_id, t, centre[t, p], size[t, p]])
                next_id += 1
    return ids


def follow_main_person(detections: Detections, **link_options) -> Track:
    """Link detections into tracklets and keep the main person's (see the module docstring).

    Args:
        detections: ``(T, P, K, 2)`` candidates per frame.
        link_options: ``max_jump``, ``jump_per_frame``, ``max_lost``, ``min_score`` of
            :func:`link_tracklets`.

    Raises:
        ValueError: nobody is detected in any frame.
    """
    ids = link_tracklets(detections, **link_options)
    if (ids < 0).all():
        raise ValueError(f"{detections.source or 'detections'}: no person detected in any frame")
    sc = detections.scores.mean(-1)  # (T, P)
    totals = np.bincount(ids[ids >= 0], weights=sc[ids >= 0])
    main = int(np.argmax(totals))
    t_count, _, k_count, _ = detections.keypoints.shape
    kp = np.full((t_count, k_count, 2), np.nan)
    scores = np.zeros((t_count, k_count))
    person = np.full(t_count, -1, dtype=np.int64)
    frames, people = np.nonzero(ids == main)
    kp[frames] = detections.keypoints[frames, people]
    scores[frames] = detections.scores[frames, people]
    person[frames] = people
    return Track(kp, scores, person, ids, main)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def fill_gaps(
    keypoints: np.ndarray, scores: np.ndarray, max_gap: int, causal: bool = False
) -> FilledTrack:
    """Fill NaN keypoints: linear interpolation over runs of at most ``max_gap`` frames,
    hold the nearest value elsewhere (see the module docstring).

    Args:
        keypoints: ``(T, K, 2)`` pixels with NaN where not seen (a whole frame, or one keypoint).
        scores: ``(T, K)`` confidences.
        max_gap: longest run of missing frames that is filled as ``interpolated`` (>= 0).
        causal: fill from the past only (hold the last seen value instead of
            interpolating), so that frame ``t`` never depends on later frames; frames
            before the first detection still hold it, and are ``missing``.

    Returns:
        :class:`FilledTrack`; a frame's status is that of its worst keypoint.

    Raises:
        ValueError: a keypoint is never seen, or shapes disagree.
    """
    kp = np.array(keypoints, dtype=np.float64)
    sc = np.array(scores, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2 or sc.shape != kp.shape[:2]:
        raise ValueError(
            f"expected keypoints (T, K, 2) and scores (T, K), got {kp.shape} and {sc.shape}"
        )
    if not isinstance(max_gap, int | np.integer) or max_gap < 0:
        raise ValueError(f"max_gap: expected an int >= 0, got {max_gap!r}")
    t_count, k_count = sc.shape
    missing = np.isnan(kp).any(-1)  # (T, K)
    never = np.flatnonzero(missing.all(0))
    if len(never) == k_count:
        raise ValueError("keypoints: nobody detected in any frame; nothing to lift")
    if len(never):
        raise ValueError(
            f"keypoints {never.tolist()} are never detected; cannot fill them (use another "
            "detector or layout)"
        )
    status = np.zeros((t_count, k_count), dtype=np.int8)
    frames = np.arange(t_count)
    for k in range(k_count):
        seen = ~missing[:, k]
        for start, end in _runs(missing[:, k]):
            status[start:end, k] = FrameStatus.MISSING
            if causal and start > 0:  # the first max_gap frames of a gap, known so far
                status[start : min(end, start + max_gap), k] = FrameStatus.INTERPOLATED
            elif start > 0 and end < t_count and end - start <= max_gap:
                status[start:end, k] = FrameStatus.INTERPOLATED
        for c in range(2):
            # np.interp holds the end values outside the seen range: the "hold" of long runs
            # is the nearest seen value only at the ends, so fix inner long runs below.
            kp[:, k, c] = np.interp(frames, frames[seen], kp[seen, k, c])
        if causal:  # hold the last seen value through every gap
            for start, end in _runs(missing[:, k]):
                if start > 0:
                    kp[start:end, k] = kp[start - 1, k]
            continue
        for start, end in _runs(status[:, k] == FrameStatus.MISSING):
            if start > 0 and end < t_count:  # inner long gap: hold from both sides
                half = (start + end) // 2
                kp[start:half, k] = kp[start - 1, k]
                kp[half:end, k] = kp[end, k]
    sc[missing] = 0.0
    return FilledTrack(kp, sc, status.max(-1))

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
most clearly. **Re-joining**: a person who leaves the view (or is lost by the detector)
for longer than ``max_lost`` frames comes back as a new tracklet; it is joined to the
main person when it starts after the main person's last sighting (or ends before the
first one) within ``rejoin_distance + rejoin_per_frame * gap`` body sizes of it, and
with a body size within a factor ``max_size_ratio``. Joining repeats until nothing fits,
so one person seen in several pieces is followed through the whole video, while a
detector that jumps to another person far away is not followed.

**Gap filling** (:func:`fill_gaps`): a frame counts as **detected** when at least
``min_keypoints`` (a fraction) of its keypoints are seen; a keypoint unseen in a detected
frame gets score 0 and is filled from its own neighbours, so one unseen keypoint (the
nose of a person seen from behind) never blanks a frame. Runs of frames that are not
detected are interpolated keypoint by keypoint when at most ``max_gap`` long (score 0:
the model is told they were not seen); longer runs and the ends of the video hold the
nearest seen value, also with score 0, and are marked ``missing``. In causal mode gaps
hold the last seen value instead. Nothing non-finite reaches a model.

Linking is online (frame by frame); choosing the main person looks at the whole file.
"""

from __future__ import annotations

import math
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
    "rejoin_tracklets",
    "fill_gaps",
    "frame_counts",
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
        main: id of the main tracklet.
        joined: ids of all tracklets followed (the main one and its re-joined returns).
    """

    keypoints: np.ndarray
    scores: np.ndarray
    person: np.ndarray
    tracklet: np.ndarray
    main: int
    joined: tuple[int, ...] = ()


@dataclass
class FilledTrack:
    """Finite keypoints ``(T, K, 2)`` and scores ``(T, K)`` with a per-frame ``status (T,)``
    (:class:`FrameStatus` codes)."""

    keypoints: np.ndarray
    scores: np.ndarray
    status: np.ndarray

    @property
    def counts(self) -> dict[str, int]:
        """Frames per status: ``{"detected": n, "interpolated": n, "missing": n}``."""
        return frame_counts(self.status)


def frame_counts(status: np.ndarray) -> dict[str, int]:
    """Frames per :class:`FrameStatus` name of a ``(T,)`` status array."""
    counts = np.bincount(np.asarray(status, dtype=np.int64), minlength=len(FrameStatus.NAMES))
    return {name: int(n) for name, n in zip(FrameStatus.NAMES, counts, strict=True)}


def _centre_and_size(kp: np.ndarray, sc: np.ndarray, min_score: float):
    """Centre ``(..., 2)`` and body size ``(...)`` of ``(..., K, 2)`` poses (NaN if unseen)."""
    finite = ~np.isnan(kp).any(-1)
    ok = (sc >= min_score) & finite
    ok = np.where((ok.sum(-1) < 2)[..., None], finite, ok)
    count = ok.sum(-1)
    inside = ok[..., None]
    with np.errstate(invalid="ignore"):  # nobody seen: 0 / 0 gives NaN on purpose
        centre = np.where(inside, kp, 0.0).sum(-2) / count[..., None]
    extent = np.where(inside, kp, -np.inf).max(-2) - np.where(inside, kp, np.inf).min(-2)
    size = np.where(count > 0, np.maximum(extent.max(-1), 1.0), np.nan)
    return centre, size


def link_tracklets(
    detections: Detections,
    max_jump: float = 0.5,
    jump_per_frame: float = 0.1,
    max_lost: int = 30,
    min_score: float = 0.3,
) -> np.ndarray:
    """Tracklet id ``(T, P)`` of every detection (-1 where there is none); see the module
    docstring. Distances are in body sizes."""
    centre, size = _centre_and_size(detections.keypoints, detections.scores, min_score)
    return _link(centre, size, max_jump, jump_per_frame, max_lost)


def _link(
    centre: np.ndarray,
    size: np.ndarray,
    max_jump: float = 0.5,
    jump_per_frame: float = 0.1,
    max_lost: int = 30,
) -> np.ndarray:
    """:func:`link_tracklets` from the detections' ``(T, P, 2)`` centres and ``(T, P)``
    body sizes."""
    if max_jump <= 0 or jump_per_frame < 0 or max_lost < 1:
        raise ValueError(
            f"expected max_jump > 0, jump_per_frame >= 0, max_lost >= 1, got {max_jump}, "
            f"{jump_per_frame}, {max_lost}"
        )
    t_count, p_count = size.shape
    present = ~np.isnan(centre).any(-1)
    seen = [[p for p, ok in enumerate(row) if ok] for row in present.tolist()]  # per frame
    # Plain Python floats in the frame loop: a few hundred tiny distances, no array calls.
    centres, sizes = centre.tolist(), size.tolist()
    ids = np.full((t_count, p_count), -1, dtype=np.int64)
    # per live tracklet: [id, last frame, (x, y) centre, size]
    live: list[list] = []
    next_id = 0
    for t in range(t_count):
        live = [tr for tr in live if t - tr[1] <= max_lost]
        pairs = []
        for i, (_, last, (x, y), s) in enumerate(live):
            gate = max_jump + jump_per_frame * (t - last - 1)
            for p in seen[t]:
                d = math.hypot(centres[t][p][0] - x, centres[t][p][1] - y) / s
                if d < gate:
                    pairs.append((d, i, p))
        used_tracks, used_people = set(), set()
        for _, i, p in sorted(pairs):
            if i in used_tracks or p in used_people:
                continue
            used_tracks.add(i)
            used_people.add(p)
            ids[t, p] = live[i][0]
            live[i][1:] = [t, centres[t][p], sizes[t][p]]
        for p in seen[t]:
            if p not in used_people:
                ids[t, p] = next_id
                live.append([next_id, t, centres[t][p], sizes[t][p]])
                next_id += 1
    return ids


def _tracklet_ends(
    ids: np.ndarray, centre: np.ndarray, size: np.ndarray
) -> dict[int, tuple[int, int, np.ndarray, float, np.ndarray, float]]:
    """Per tracklet id: (first frame, last frame, centre and size at both)."""
    ends = {}
    frames, people = np.nonzero(ids >= 0)
    for tid in np.unique(ids[frames, people]):
        sel = ids[frames, people] == tid
        f, p = frames[sel], people[sel]
        a, b = int(np.argmin(f)), int(np.argmax(f))
        ends[int(tid)] = (int(f[a]), int(f[b]), centre[f[a], p[a]], float(size[f[a], p[a]]),
                          centre[f[b], p[b]], float(size[f[b], p[b]]))  # fmt: skip
    return ends


def rejoin_tracklets(
    ids: np.ndarray,
    detections: Detections,
    main: int,
    rejoin_distance: float = 1.0,
    rejoin_per_frame: float = 0.02,
    max_size_ratio: float = 1.5,
    min_score: float = 0.3,
) -> list[int]:
    """Tracklet ids that are the ``main`` person seen again (see the module docstring).

    Args:
        ids: ``(T, P)`` tracklet ids of :func:`link_tracklets`.
        detections: the detections they label.
        main: id of the main tracklet.
        rejoin_distance, rejoin_per_frame: largest jump between the last sighting and the
            return, in body sizes: ``rejoin_distance + rejoin_per_frame * gap frames``.
        max_size_ratio: largest ratio of the body sizes before and after.
        min_score: keypoints below this score are left out of centres and sizes.

    Returns:
        Ids joined to ``main``, in time order (``main`` included).
    """
    centre, size = _centre_and_size(detections.keypoints, detections.scores, min_score)
    return _rejoin(ids, centre, size, main, rejoin_distance, rejoin_per_frame, max_size_ratio)


def _rejoin(
    ids: np.ndarray,
    centre: np.ndarray,
    size: np.ndarray,
    main: int,
    rejoin_distance: float,
    rejoin_per_frame: float,
    max_size_ratio: float,
) -> list[int]:
    """:func:`rejoin_tracklets` from the detections' centres and body sizes."""
    if rejoin_distance < 0 or rejoin_per_frame < 0 or max_size_ratio < 1:
        raise ValueError(
            "expected rejoin_distance >= 0, rejoin_per_frame >= 0, max_size_ratio >= 1, got "
            f"{rejoin_distance}, {rejoin_per_frame}, {max_size_ratio}"
        )
    ends = _tracklet_ends(ids, centre, size)
    chain = [main]

    def fits(c0, s0, c1, s1, gap: int) -> float | None:
        d = float(np.linalg.norm(c1 - c0)) / max(s0, s1)
        ok = d < rejoin_distance + rejoin_per_frame * gap and max(s0, s1) / min(s0, s1) <= (
            max_size_ratio
        )
        return d if ok else None

    while True:
        first, last = ends[chain[0]][0], ends[chain[-1]][1]
        after, before = [], []
        for tid, (f0, f1, c0, s0, c1, s1) in ends.items():
            if tid in chain:
                continue
            if f0 > last:
                d = fits(ends[chain[-1]][4], ends[chain[-1]][5], c0, s0, f0 - last - 1)
                if d is not None:
                    after.append((f0, d, tid))
            elif f1 < first:
                d = fits(c1, s1, ends[chain[0]][2], ends[chain[0]][3], first - f1 - 1)
                if d is not None:
                    before.append((-f1, d, tid))
        if not after and not before:
            return chain
        if after:
            chain.append(min(after)[2])
        if before:
            chain.insert(0, min(before)[2])


def follow_main_person(
    detections: Detections,
    rejoin: bool = True,
    rejoin_distance: float = 1.0,
    rejoin_per_frame: float = 0.02,
    max_size_ratio: float = 1.5,
    **link_options,
) -> Track:
    """Link detections into tracklets, keep the main person's and re-join its returns (see
    the module docstring).

    Args:
        detections: ``(T, P, K, 2)`` candidates per frame.
        rejoin: join later (and earlier) tracklets of the main person (
            :func:`rejoin_tracklets` with ``rejoin_distance``, ``rejoin_per_frame``,
            ``max_size_ratio``).
        link_options: ``max_jump``, ``jump_per_frame``, ``max_lost``, ``min_score`` of
            :func:`link_tracklets`.

    Returns:
        :class:`Track`; ``main`` is the main tracklet's id, ``joined`` all ids followed.

    Raises:
        ValueError: nobody is detected in any frame.
    """
    min_score = link_options.pop("min_score", 0.3)
    centre, size = _centre_and_size(detections.keypoints, detections.scores, min_score)
    ids = _link(centre, size, **link_options)
    if (ids < 0).all():
        raise ValueError(f"{detections.source or 'detections'}: no person detected in any frame")
    sc = detections.scores.mean(-1)  # (T, P)
    totals = np.bincount(ids[ids >= 0], weights=sc[ids >= 0])
    main = int(np.argmax(totals))
    joined = [main]
    if rejoin:
        joined = _rejoin(ids, centre, size, main, rejoin_distance, rejoin_per_frame, max_size_ratio)
    t_count, _, k_count, _ = detections.keypoints.shape
    kp = np.full((t_count, k_count, 2), np.nan)
    scores = np.zeros((t_count, k_count))
    person = np.full(t_count, -1, dtype=np.int64)
    frames, people = np.nonzero(np.isin(ids, joined))
    kp[frames] = detections.keypoints[frames, people]
    scores[frames] = detections.scores[frames, people]
    person[frames] = people
    return Track(kp, scores, person, ids, main, tuple(joined))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _frame_status(detected: np.ndarray, max_gap: int, causal: bool) -> np.ndarray:
    """``(T,)`` status codes from ``(T,)`` bool "the person was detected"."""
    t_count = len(detected)
    status = np.where(detected, FrameStatus.DETECTED, FrameStatus.MISSING).astype(np.int8)
    for start, end in _runs(~detected):
        if causal and start > 0:  # the first max_gap frames of a gap, known so far
            status[start : min(end, start + max_gap)] = FrameStatus.INTERPOLATED
        elif not causal and start > 0 and end < t_count and end - start <= max_gap:
            status[start:end] = FrameStatus.INTERPOLATED
    return status


def _fill_keypoint(
    values: np.ndarray, missing: np.ndarray, max_gap: int, causal: bool, fallback: np.ndarray
) -> np.ndarray:
    """Fill one keypoint's ``(T, 2)`` track over its ``missing`` frames (module docstring);
    ``fallback (T, 2)`` fills causal frames before its first sighting."""  # fmt: skip
    t_count = len(values)
    frames = np.arange(t_count)
    seen = ~missing
    if not seen.any():  # (causal) never seen so far: the frame's centre
        return fallback.copy()
    out = np.stack([np.interp(frames, frames[seen], values[seen, c]) for c in range(2)], -1)
    for start, end in _runs(missing):
        if causal:
            if start > 0:
                out[start:end] = out[start - 1]
            else:  # before the first sighting: the frame's own centre where it has one
                ok = np.isfinite(fallback[start:end]).all(-1)
                out[start:end][ok] = fallback[start:end][ok]
        elif start > 0 and end < t_count and end - start > max_gap:  # inner long gap
            half = (start + end) // 2
            out[start:half], out[half:end] = out[start - 1], out[end]
    return out


def fill_gaps(
    keypoints: np.ndarray,
    scores: np.ndarray,
    max_gap: int,
    causal: bool = False,
    min_keypoints: float = 0.5,
) -> FilledTrack:
    """Fill NaN keypoints: linear interpolation over runs of at most ``max_gap`` frames,
    hold the nearest value elsewhere (see the module docstring).

    Args:
        keypoints: ``(T, K, 2)`` pixels with NaN where not seen (a whole frame, or one keypoint).
        scores: ``(T, K)`` confidences.
        max_gap: longest run of undetected frames that is filled as ``interpolated`` (>= 0).
        causal: fill from the past only (hold the last seen value instead of
            interpolating), so that frame ``t`` never depends on later frames; frames
            before the first detection still hold it, and are ``missing``.
        min_keypoints: fraction of the ``K`` keypoints a frame must show to count as
            detected (in ``(0, 1]``); keypoints of frames with fewer are dropped.

    Returns:
        :class:`FilledTrack` (every filled keypoint has score 0).

    Raises:
        ValueError: a keypoint is never seen, or bad shapes or options.
    """
    kp = np.array(keypoints, dtype=np.float64)
    sc = np.array(scores, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2 or sc.shape != kp.shape[:2]:
        raise ValueError(
            f"expected keypoints (T, K, 2) and scores (T, K), got {kp.shape} and {sc.shape}"
        )
    if not isinstance(max_gap, int | np.integer) or max_gap < 0:
        raise ValueError(f"max_gap: expected an int >= 0, got {max_gap!r}")
    if not 0 < min_keypoints <= 1:
        raise ValueError(f"min_keypoints: expected a fraction in (0, 1], got {min_keypoints!r}")
    k_count = sc.shape[1]
    missing = np.isnan(kp).any(-1)  # (T, K)
    detected = (~missing).sum(1) >= max(1, int(np.ceil(min_keypoints * k_count)))
    if not detected.any():
        raise ValueError("keypoints: nobody detected in any frame; nothing to lift")
    missing |= ~detected[:, None]
    never = np.flatnonzero(missing.all(0))
    if len(never) and not causal:  # causal: a keypoint may simply not be seen *yet*
        raise ValueError(
            f"keypoints {never.tolist()} are never detected; cannot fill them (use another "
            "detector or layout)"
        )
    with warnings.catch_warnings():  # frames with nothing seen give NaN centres on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(np.where(missing[..., None], np.nan, kp), axis=1)  # (T, 2)
    centre = _fill_keypoint(centre, ~detected, 0, True, centre)  # hold the last (or first)
    for k in range(k_count):
        kp[:, k] = _fill_keypoint(kp[:, k], missing[:, k], max_gap, causal, centre)
    sc[missing] = 0.0
    return FilledTrack(kp, sc, _frame_status(detected, max_gap, causal))

"""2D keypoint layouts of common detectors and their conversion to Human3.6M-17.

Every H36M joint is a weighted mean of detector keypoints; its confidence (used as the
visibility score) is the **minimum** confidence of the keypoints it is made of. Derived
joints, per format (all others are the detector's own keypoint of the same name):

============  =========================  ==========================  ===================
format        pelvis                     thorax                      head
============  =========================  ==========================  ===================
coco17        mid-hips                   mid-shoulders               mid-ears (approx.)
body25        MidHip (8)                 Neck (1)                    mid-ears (approx.)
body25b       mid-hips                   Neck (17)                   HeadTop (18)
halpe26       Hip (19)                   Neck (18)                   Head (17)
mediapipe33   mid-hips                   mid-shoulders               mid-ears (approx.)
============  =========================  ==========================  ===================

spine = midpoint of pelvis and thorax, neck/nose = the nose, in every format. "approx."
marks a joint that sits lower than Human3.6M's head joint (no head-top keypoint).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .._validation import check_points

__all__ = [
    "KeypointFormat",
    "KEYPOINT_FORMATS",
    "Converted",
    "to_h36m",
    "read_openpose_json",
    "read_openpose_people",
    "read_openpose_folder",
    "openpose_files",
    "openpose_keypoint_count",
]


@dataclass(frozen=True)
class KeypointFormat:
    """A detector's keypoint layout and how each H36M-17 joint is built from it.

    Attributes:
        name: format name.
        num_keypoints: ``K``.
        h36m_sources: for each H36M joint, ``((keypoint, weight), ...)`` with weights summing to 1.
    """

    name: str
    num_keypoints: int
    h36m_sources: tuple[tuple[tuple[int, float], ...], ...]

    def weights(self, device=None, dtype=torch.float32) -> torch.Tensor:
        """``(17, K)`` matrix: H36M joint = weights @ keypoints (a new tensor each call)."""
        return _weight_table(self).to(device=device, dtype=dtype, copy=True)


@functools.cache
def _weight_table(fmt: KeypointFormat) -> torch.Tensor:
    """``(17, K)`` float64 weights of ``fmt`` (built once per layout; never handed out)."""
    table = np.zeros((len(fmt.h36m_sources), fmt.num_keypoints))
    for j, sources in enumerate(fmt.h36m_sources):
        for k, weight in sources:
            table[j, k] += weight
    return torch.from_numpy(table)


def _mean(*idx: int) -> tuple[tuple[int, float], ...]:
    return tuple((i, 1.0 / len(idx)) for i in idx)


def _layout(pelvis, legs, thorax, nose, head, arms) -> tuple:
    """H36M-17 sources from pelvis/thorax/head sources and single keypoint indices.

    ``legs``: right hip, knee, ankle, left hip, knee, ankle; ``arms``: left shoulder,
    elbow, wrist, right shoulder, elbow, wrist; ``nose``: one index.
    """
    spine = tuple((k, w / 2) for k, w in pelvis + thorax)
    one = tuple(((k, 1.0),) for k in (*legs, nose, *arms))
    return (pelvis, *one[:6], spine, thorax, one[6], head, *one[7:])


def _coco_like(pelvis, thorax, head) -> tuple:
    return _layout(pelvis, (12, 14, 16, 11, 13, 15), thorax, 0, head, (5, 7, 9, 6, 8, 10))


def _one(k: int) -> tuple[tuple[int, float], ...]:
    return ((k, 1.0),)


KEYPOINT_FORMATS: dict[str, KeypointFormat] = {
    "coco17": KeypointFormat("coco17", 17, _coco_like(_mean(11, 12), _mean(5, 6), _mean(3, 4))),
    "body25b": KeypointFormat("body25b", 25, _coco_like(_mean(11, 12), _one(17), _one(18))),
    "halpe26": KeypointFormat("halpe26", 26, _coco_like(_one(19), _one(18), _one(17))),
    "body25": KeypointFormat(
        "body25",
        25,
        _layout(_one(8), (9, 10, 11, 12, 13, 14), _one(1), 0, _mean(17, 18), (5, 6, 7, 2, 3, 4)),
    ),
    "mediapipe33": KeypointFormat(
        "mediapipe33",
        33,
        _layout(
            _mean(23, 24),
            (24, 26, 28, 23, 25, 27),
            _mean(11, 12),
            0,
            _mean(7, 8),
            (11, 13, 15, 12, 14, 16),
        ),
    ),
}
"""Supported layouts: ``coco17``, ``body25``, ``body25b``, ``halpe26``, ``mediapipe33``."""


class Converted(NamedTuple):
    """H36M-17 keypoints ``(..., 17, 2)`` and scores ``(..., 17)``."""

    keypoints: torch.Tensor
    scores: torch.Tensor


def to_h36m(
    keypoints: torch.Tensor, scores: torch.Tensor, layout: str | KeypointFormat
) -> Converted:
    """Convert detector keypoints to the H36M-17 skeleton.

    Args:
        keypoints: ``(..., K, 2)`` keypoints (any unit: pixels or normalised).
        scores: ``(..., K)`` confidences in ``[0, 1]``.
        layout: a name of :data:`KEYPOINT_FORMATS` or a :class:`KeypointFormat`.

    Returns:
        :class:`Converted`; a derived joint's score is the minimum of its sources.
    """
    fmt = (
        KEYPOINT_FORMATS[layout]
        if isinstance(layout, str) and layout in KEYPOINT_FORMATS
        else layout
    )
    if not isinstance(fmt, KeypointFormat):
        raise KeyError(f"unknown keypoint layout {layout!r}; known: {sorted(KEYPOINT_FORMATS)}")
    check_points(keypoints, fmt.num_keypoints, coords=2, name=f"{fmt.name} keypoints")
    if scores.shape != keypoints.shape[:-1]:
        raise ValueError(
            f"{fmt.name} scores: expected shape {tuple(keypoints.shape[:-1])}, "
            f"got {tuple(scores.shape)}"
        )
    w = fmt.weights(keypoints.device, keypoints.dtype)
    out = torch.einsum("jk,...kc->...jc", w, keypoints)
    big = torch.finfo(scores.dtype).max
    masked = torch.where(w > 0, scores.unsqueeze(-2), torch.full_like(w, big))  # (..., 17, K)
    return Converted(out, masked.amin(-1))


def read_openpose_people(path: str | Path | bytes, num_keypoints: int | None = None) -> np.ndarray:
    """Every person of one OpenPose JSON file (a path, or its bytes): ``(P, K, 3)``.

    Columns are x, y (pixels) and confidence; ``P`` may be 0. A person whose
    ``pose_keypoints_2d`` is an empty list (a placeholder, as Pose2Sim's person tracking
    writes for someone not seen in this view) is left out. Without ``num_keypoints`` a file
    with nobody in it raises, since ``K`` is unknown.
    """
    text = path if isinstance(path, bytes) else Path(path).read_bytes()
    path = "<OpenPose JSON bytes>" if isinstance(path, bytes) else path
    try:
        people = json.loads(text)["people"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: expected OpenPose JSON with a 'people' list ({exc!r})") from None
    poses = []
    for i, person in enumerate(people):
        if "pose_keypoints_2d" not in person:
            raise ValueError(f"{path}: person {i} has no key 'pose_keypoints_2d'")
        try:
            flat = np.asarray(person["pose_keypoints_2d"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: person {i} 'pose_keypoints_2d' must hold numbers") from None
        if flat.size == 0:
            continue
        if flat.size % 3 or (num_keypoints is not None and flat.size != 3 * num_keypoints):
            want = "a multiple of 3" if num_keypoints is None else f"{3 * num_keypoints}"
            raise ValueError(
                f"{path}: person {i} 'pose_keypoints_2d' has {flat.size} values, expected {want}"
            )
        poses.append(flat.reshape(-1, 3))
    if len({p.shape[0] for p in poses}) > 1:
        raise ValueError(f"{path}: people disagree on the number of keypoints")
    if not poses:
        if num_keypoints is None:
            raise ValueError(f"{path}: no person detected and num_keypoints not given")
        return np.zeros((0, num_keypoints, 3))
    return np.stack(poses)


def read_openpose_json(
    path: str | Path | bytes, num_keypoints: int | None = None, reference: np.ndarray | None = None
) -> np.ndarray:
    """Read one OpenPose JSON file (a path, or its bytes) and return one person's ``(K, 3)``.

    Columns are x, y (pixels) and confidence. The person kept is the one closest to
    ``reference (K, 2)`` (mean distance over keypoints with confidence > 0) when given, else
    the one with the largest summed confidence. A file with no person gives zeros
    (confidence 0).
    """
    poses = read_openpose_people(path, num_keypoints)
    if len(poses) == 0:
        return np.zeros(poses.shape[1:])
    if reference is not None:
        cost = []
        for p in poses:
            ok = p[:, 2] > 0
            cost.append(
                np.linalg.norm(p[ok, :2] - reference[ok], axis=-1).mean() if ok.any() else np.inf
            )
        return poses[int(np.argmin(cost))]
    return poses[int(np.argmax(poses[..., 2].sum(-1)))]


def openpose_files(folder: str | Path) -> list[Path]:
    """The ``*.json`` files of an OpenPose output folder in frame order: by the last number
    in the name (``frame_2`` before ``frame_10``, padded or not), then by name."""

    def key(p: Path) -> tuple[str, int, str]:
        numbers = re.findall(r"\d+", p.stem)
        return (re.sub(r"\d+", "#", p.stem), int(numbers[-1]) if numbers else -1, p.name)

    return sorted(Path(folder).glob("*.json"), key=key)


def openpose_keypoint_count(files: list[Path]) -> int | None:
    """Keypoints per person in the first of ``files`` that has a person with keypoints
    (None: nobody; placeholders with an empty list do not count, :func:`read_openpose_people`).

    Raises:
        ValueError: a file that is not OpenPose JSON, or a malformed person (named).
    """
    for f in files:
        try:
            people = json.loads(Path(f).read_bytes())["people"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{f}: expected OpenPose JSON with a 'people' list ({exc!r})"
            ) from None
        placeholders = all(isinstance(p, dict) and p.get("pose_keypoints_2d") == [] for p in people)
        if not placeholders:
            return int(read_openpose_people(f).shape[1])
    return None


def read_openpose_folder(folder: str | Path, num_keypoints: int | None = None) -> np.ndarray:
    """Read every ``*.json`` of an OpenPose output folder (in frame order,
    :func:`openpose_files`): ``(T, K, 3)``; ``K`` from the first file with a person when
    ``num_keypoints`` is not given.

    Each frame keeps the person with the largest summed confidence (see :func:`read_openpose_json`).
    """
    folder = Path(folder)
    files = openpose_files(folder)
    if not files:
        raise FileNotFoundError(f"{folder}: no OpenPose *.json files found")
    if num_keypoints is None:
        num_keypoints = openpose_keypoint_count(files)
        if num_keypoints is None:
            raise ValueError(f"{folder}: no person in any OpenPose file")
    frames = [read_openpose_json(f, num_keypoints) for f in files]
    sizes = {f.shape[0] for f in frames}
    if len(sizes) != 1:
        raise ValueError(f"{folder}: files disagree on the number of keypoints: {sorted(sizes)}")
    return np.stack(frames)

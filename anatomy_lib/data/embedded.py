"""The datasets shipped with the package (no network needed).

* :func:`load_default_dataset`: real motion capture (CMU, DeepMimic, holosoma climbing)
  on the Human3.6M-17 skeleton, seen by the four Human3.6M cameras with *simulated*
  detections (noise, outliers, geometric visibility). Train/test split by subject.
* :func:`load_pose2sim_trial`: a short trial with *real* OpenPose detections and
  triangulated 3D, as a real-detection test set.

Provenance and licences: ``anatomy_lib/data/files/DATA.md``. Rebuild with
``python -m anatomy_lib.data.build_embedded``.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..camera import Camera, normalize_screen, world_to_camera
from ..skeleton import get_skeleton
from .pose2sim import load_pose2sim_file
from .pose2sim_multiperson import POSE2SIM_MULTIPERSON_FILE, load_multiperson_file
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "FILES",
    "DEFAULT_DATASET_FILE",
    "POSE2SIM_FILE",
    "POSE2SIM_MULTIPERSON_FILE",
    "load_default_dataset",
    "load_pose2sim_trial",
    "load_pose2sim_multiperson",
    "load_embedded_file",
]

FILES = Path(__file__).parent / "files"
DEFAULT_DATASET_FILE = FILES / "embedded_h36m17.npz"
POSE2SIM_FILE = FILES / "pose2sim_trial.npz"
_KEYS = ("meta_json", "joints_world", "keypoints_2d", "scores", "visibility")


def load_embedded_file(path: str | Path, dtype: torch.dtype = torch.float32) -> PoseDataset:
    """Load a file written by :mod:`anatomy_lib.data.build_embedded`.

    Returns:
        A :class:`PoseDataset` with one :class:`PoseSequence` per clip and camera:
        ``keypoints_2d (T, 17, 2)`` normalised screen coordinates (simulated detections),
        ``scores (T, 17)``, ``visibility (T, 17)`` (geometric ground truth),
        ``joints_3d (T, 17, 3)`` camera space and ``joints_world`` in metres, 50 fps.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: dataset file missing; run `python -m anatomy_lib.data.build_embedded`"
        )
    with np.load(io.BytesIO(path.read_bytes())) as f:
        missing = [k for k in _KEYS if k not in f]
        if missing:
            raise KeyError(f"{path}: keys {missing} missing; expected {list(_KEYS)}")
        meta = json.loads(str(f["meta_json"]))
        world = torch.tensor(f["joints_world"]).to(dtype)
        pixels = torch.tensor(f["keypoints_2d"]).to(dtype) * meta["pixel_quantum"]
        scores = torch.tensor(f["scores"]).to(dtype) / 255
        vis = torch.tensor(f["visibility"]).to(dtype) / 255
    skeleton = get_skeleton(meta["skeleton"])
    cameras = {s: [Camera(**c) for c in cams] for s, cams in meta["cameras"].items()}
    seqs = []
    for rec in meta["sequences"]:
        sl = slice(rec["offset"], rec["offset"] + rec["frames"])
        w = world[sl]
        for i, cam in enumerate(cameras[rec["subject"]]):
            seqs.append(
                PoseSequence(
                    subject=rec["subject"], action=rec["action"],
                    keypoints_2d=normalize_screen(pixels[i, sl], cam.width, cam.height),
                    scores=scores[i, sl], joints_3d=world_to_camera(w, cam), skeleton=skeleton,
                    fps=meta["fps"], camera=cam, joints_world=w, visibility=vis[i, sl],
                )
            )  # fmt: skip
    return PoseDataset(
        "embedded",
        skeleton,
        tuple(seqs),
        tuple(meta["train_subjects"]),
        tuple(meta["test_subjects"]),
    )


@lru_cache(maxsize=2)
def _cached(path: str, dtype: torch.dtype) -> PoseDataset:
    return load_embedded_file(path, dtype)


def load_default_dataset(dtype: torch.dtype = torch.float32) -> PoseDataset:
    """The embedded default dataset.

    Cached after the first call: tensors are shared, do not edit them in place.

    4 subjects (train: ClimberA, DeepMimic; test: CMU01, ClimberB), 21 clips, 4 cameras.
    """
    return _cached(str(DEFAULT_DATASET_FILE), dtype)


def load_pose2sim_multiperson(
    detectors: str | tuple[str, ...] = ("full",), people: str | tuple[str, ...] | None = None
) -> PoseDataset:
    """Pose2Sim's two-person demo: real MediaPipe 2D per person and camera, triangulated
    reference, ``valid`` = frames to score (:mod:`anatomy_lib.data.pose2sim_multiperson`).
    ``detectors``: whose 2D, MediaPipe's ``full`` model (default), ``lite``, ``heavy`` or
    ``"all"``; ``people``: by default the validation person (``person2``); ``"all"`` adds
    person 1, who is the test trial's performer in the test frames
    (:func:`~anatomy_lib.data.pose2sim_multiperson.load_multiperson_file`)."""
    if not POSE2SIM_MULTIPERSON_FILE.exists():
        raise FileNotFoundError(
            f"{POSE2SIM_MULTIPERSON_FILE}: missing; run "
            "`python -m anatomy_lib.data.pose2sim_multiperson` (needs MediaPipe)"
        )
    return load_multiperson_file(POSE2SIM_MULTIPERSON_FILE, detectors, people)


def load_pose2sim_trial() -> PoseDataset:
    """The Pose2Sim demo trial: 4 cameras x 100 frames at 60 fps with real OpenPose detections."""
    if not POSE2SIM_FILE.exists():
        raise FileNotFoundError(
            f"{POSE2SIM_FILE}: missing; run `python -m anatomy_lib.data.build_embedded`"
        )
    return load_pose2sim_file(POSE2SIM_FILE)

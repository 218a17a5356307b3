"""Human3.6M in the file formats of the published lifting code (not shipped: licence).

* ``data_3d_h36m.npz``: key ``positions_3d`` = pickled ``{subject: {action: (N, 32, 3)}}``,
  world coordinates in metres, 50 Hz. Reduced to 17 joints by dropping
  :data:`H36M_DROPPED_JOINTS`; the 17 kept joints, in order, are those of
  :data:`~anatomy_lib.skeleton.H36M_17` whose parents re-attach the dropped ones' children.
* ``data_2d_h36m_<detector>.npz``: ``positions_2d`` = ``{subject: {action: [4 x (N, 17, 2)]}}``
  pixels, one array per camera (order of :data:`~anatomy_lib.camera.H36M_CAMERA_IDS`), and
  ``metadata`` with ``num_joints`` (optional: 17 when absent). 2D longer than the mocap is trimmed.
* ``score.pkl`` of the paper's authors: ``{"S9_Walking 1.2": (N, 17)}`` keyed
  ``subject_action.camera`` (camera index 0-3 or camera id accepted); one frame short is
  padded with its last frame.

The S11 "Directions" sequence is skipped by default (its video is known to be corrupted).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from ..camera import h36m_camera, normalize_screen, world_to_camera
from ..safe_io import load_numpy_pickle, read_npz_key
from ..skeleton import H36M_17
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "H36M_DROPPED_JOINTS",
    "H36M_TRAIN_SUBJECTS",
    "H36M_TEST_SUBJECTS",
    "reduce_h36m_32",
    "load_h36m_3d",
    "load_h36m_2d",
    "load_h36m_scores",
    "load_h36m",
]

H36M_DROPPED_JOINTS: tuple[int, ...] = (4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31)
"""Joints of the 32-joint mocap dropped to get :data:`~anatomy_lib.skeleton.H36M_17`."""
H36M_TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
H36M_TEST_SUBJECTS = ("S9", "S11")
_KEPT = tuple(k for k in range(32) if k not in H36M_DROPPED_JOINTS)
_SKIP = (("S11", "Directions"),)


def reduce_h36m_32(x: np.ndarray) -> np.ndarray:
    """``(..., 32, 3)`` mocap joints -> ``(..., 17, 3)`` (:data:`H36M_DROPPED_JOINTS` removed)."""
    if x.shape[-2] != 32:
        raise ValueError(f"expected 32 Human3.6M mocap joints in dimension -2, got shape {x.shape}")
    return x[..., _KEPT, :]


def _load_npz_dict(path: Path, key: str, required: bool = True) -> dict:
    value = read_npz_key(path, key)  # pickled dicts read without running code
    if value is None:
        if not required:
            return {}
        with np.load(path) as f:
            present = list(f.keys())
        raise KeyError(f"{path}: key {key!r} missing; keys present: {present}")
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        raise ValueError(
            f"{path}: key {key!r} should hold a pickled dict, got {type(value).__name__}"
        )
    return value


def load_h36m_3d(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """``{subject: {action: (N, 17, 3)}}`` world joints in metres from ``data_3d_h36m.npz``."""
    path = Path(path)
    out: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in _load_npz_dict(path, "positions_3d").items():
        out[subject] = {}
        for action, arr in actions.items():
            arr = np.asarray(arr)
            if arr.ndim != 3 or arr.shape[1:] != (32, 3):
                raise ValueError(
                    f"{path}: positions_3d[{subject!r}][{action!r}] expected (N, 32, 3), "
                    f"got {arr.shape}"
                )
            out[subject][action] = reduce_h36m_32(arr).astype(np.float32)
    return out


def load_h36m_2d(path: str | Path) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict]:
    """``(positions_2d, metadata)`` from ``data_2d_h36m_<detector>.npz`` (pixels, 4 cameras)."""
    path = Path(path)
    positions = _load_npz_dict(path, "positions_2d")
    metadata = _load_npz_dict(path, "metadata", required=False)  # only num_joints is used
    joints = metadata.get("num_joints", 17)
    if isinstance(joints, bool) or not isinstance(joints, int | np.integer):
        raise ValueError(f"{path}: metadata['num_joints'] should be an int, got {joints!r}")
    for subject, actions in positions.items():
        for action, cams in actions.items():
            if len(cams) != 4:
                raise ValueError(
                    f"{path}: positions_2d[{subject!r}][{action!r}] expected 4 camera arrays, "
                    f"got {len(cams)}"
                )
            for i, arr in enumerate(cams):
                if np.asarray(arr).shape[1:] != (joints, 2):
                    raise ValueError(
                        f"{path}: positions_2d[{subject!r}][{action!r}][{i}] "
                        f"expected (N, {joints}, 2), got {np.asarray(arr).shape}"
                    )
    return positions, metadata


def load_h36m_scores(path: str | Path) -> dict[str, np.ndarray]:
    """The authors' ``score.pkl``: ``{"S9_Walking 1.2": (N, 17)}``."""
    scores = load_numpy_pickle(path)  # arrays and dicts only: the file cannot run code
    if not isinstance(scores, dict):
        raise ValueError(
            f"{path}: expected a dict 'subject_action.camera' -> (N, 17), "
            f"got {type(scores).__name__}"
        )
    return {k: np.asarray(v, dtype=np.float32).reshape(len(v), -1) for k, v in scores.items()}


def _fit_length(x: np.ndarray, n: int, what: str) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    if len(x) == 0:
        raise ValueError(f"{what}: empty, expected {n} frames")
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), 0)])


def load_h36m(
    path_3d: str | Path,
    path_2d: str | Path,
    scores_path: str | Path | None = None,
    subjects: Iterable[str] | None = None,
    skip: Iterable[tuple[str, str]] = _SKIP,
) -> PoseDataset:
    """Human3.6M as a :class:`PoseDataset` (one sequence per subject, action and camera).

    Args:
        path_3d: ``data_3d_h36m.npz``.
        path_2d: ``data_2d_h36m_<detector>.npz`` (e.g. ``cpn_ft_h36m_dbb``, or ``gt``).
        scores_path: the authors' ``score.pkl``; scores are 1 when not given.
        subjects: subjects to load (all with 2D by default).
        skip: ``(subject, action)`` pairs to leave out.

    Returns:
        Sequences with 2D in normalised screen coordinates, camera-space 3D (metres), 50 fps.
        The splits are the protocol's subjects (train S1, S5-S8; test S9, S11) among those
        loaded; when ``subjects`` is not given, a warning names any the files lack.
    """
    pos3d = load_h36m_3d(path_3d)
    pos2d, _ = load_h36m_2d(path_2d)
    scores = load_h36m_scores(scores_path) if scores_path is not None else None
    skip = set(skip)
    wanted = list(subjects) if subjects is not None else list(pos2d)
    seqs = []
    for subject in wanted:
        if subject not in pos3d or subject not in pos2d:
            raise KeyError(
                f"subject {subject!r} missing from {path_3d if subject not in pos3d else path_2d}"
            )
        for action, world in pos3d[subject].items():
            if (subject, action) in skip:
                continue
            if action not in pos2d[subject]:
                raise KeyError(f"{path_2d}: positions_2d[{subject!r}] has no action {action!r}")
            n = len(world)
            for i in range(4):
                cam = h36m_camera(subject, i)
                kp = pos2d[subject][action][i]
                if len(kp) < n:
                    raise ValueError(
                        f"{path_2d}: {subject}/{action} camera {i}: {len(kp)} 2D frames "
                        f"< {n} mocap frames"
                    )
                if scores is not None:
                    keys = (f"{subject}_{action}.{i}", f"{subject}_{action}.{cam.id}")
                    key = next((k for k in keys if k in scores), None)
                    if key is None:
                        raise KeyError(
                            f"{scores_path}: no scores for key {keys[0]!r} (or {keys[1]!r})"
                        )
                    sc = _fit_length(scores[key], n, f"{scores_path}[{key!r}]")
                    if sc.shape[1] != 17:
                        raise ValueError(
                            f"{scores_path}[{key!r}]: expected 17 scores per frame, "
                            f"got {sc.shape[1]}"
                        )
                else:
                    sc = np.ones((n, 17), dtype=np.float32)
                w = torch.from_numpy(world)
                pixels = torch.from_numpy(np.asarray(kp[:n], dtype=np.float32))
                seqs.append(
                    PoseSequence(
                        subject=subject,
                        action=action,
                        keypoints_2d=normalize_screen(pixels, cam.width, cam.height),
                        scores=torch.from_numpy(sc),
                        joints_3d=world_to_camera(w, cam),
                        skeleton=H36M_17,
                        fps=50.0,
                        camera=cam,
                        joints_world=w,
                    )
                )
    loaded = {seq.subject for seq in seqs}
    train = tuple(s for s in H36M_TRAIN_SUBJECTS if s in loaded)
    test = tuple(s for s in H36M_TEST_SUBJECTS if s in loaded)
    missing = [s for s in (*H36M_TRAIN_SUBJECTS, *H36M_TEST_SUBJECTS) if s not in loaded]
    if missing and subjects is None:  # the files lack subjects the protocol uses
        warnings.warn(
            f"Human3.6M subjects {missing} are not in {path_2d}: the splits hold train "
            f"{list(train)} and test {list(test)}, where the published protocol trains on "
            f"{list(H36M_TRAIN_SUBJECTS)} and tests on {list(H36M_TEST_SUBJECTS)}",
            stacklevel=2,
        )
    return PoseDataset("h36m", H36M_17, tuple(seqs), train, test)

"""MPI-INF-3DHP in the npz layout popularised by P-STMO (not shipped: licence).

* ``data_train_3dhp.npz['data']`` = ``{"S1 Seq1": [{camera: {'data_2d': (F, 17, 2),
  'data_3d': (F, 17, 3)}}, fps]}``; frames 2048 x 2048.
* ``data_test_3dhp.npz['data']`` = ``{"TS1".."TS6": {'data_2d', 'data_3d', 'valid'}}``;
  TS1-4 frames 2048 x 2048, TS5-6 1920 x 1080.

2D is in pixels, 3D camera space (millimetres in the published files; values whose
median magnitude exceeds 10 are taken as millimetres and converted to metres). The
skeleton is :data:`~anatomy_lib.skeleton.MPI_INF_3DHP_17` (root 14). There are no
detector scores: they are set to 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..camera import normalize_screen
from ..skeleton import MPI_INF_3DHP_17
from .h36m import _load_npz_dict
from .sequences import PoseDataset, PoseSequence

__all__ = ["MPI_TEST_IMAGE_SIZES", "load_3dhp_train", "load_3dhp_test"]

MPI_TEST_IMAGE_SIZES = {
    "TS1": (2048, 2048),
    "TS2": (2048, 2048),
    "TS3": (2048, 2048),
    "TS4": (2048, 2048),
    "TS5": (1920, 1080),
    "TS6": (1920, 1080),
}
_TRAIN_SIZE = (2048, 2048)


def _metres(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / 1000.0 if np.median(np.abs(x)) > 10 else x


def _sequence(
    where: str,
    subject: str,
    action: str,
    item: dict,
    size: tuple[int, int],
    fps: float,
    camera: str,
):
    for key in ("data_2d", "data_3d"):
        if key not in item:
            raise KeyError(
                f"{where}: key {key!r} missing; "
                "expected 'data_2d' (F, 17, 2) and 'data_3d' (F, 17, 3)"
            )
    kp, j3 = np.asarray(item["data_2d"], dtype=np.float32), _metres(item["data_3d"])
    if kp.ndim != 3 or kp.shape[1:] != (17, 2) or j3.shape != kp.shape[:2] + (3,):
        raise ValueError(
            f"{where}: expected data_2d (F, 17, 2) and data_3d (F, 17, 3), "
            f"got {kp.shape} and {j3.shape}"
        )
    valid = (
        torch.from_numpy(np.asarray(item["valid"]).astype(bool).reshape(-1))
        if "valid" in item
        else None
    )
    return PoseSequence(
        subject=subject,
        action=f"{action} cam{camera}" if camera else action,
        keypoints_2d=normalize_screen(torch.from_numpy(kp), *size),
        scores=torch.ones(kp.shape[:2]),
        joints_3d=torch.from_numpy(j3),
        skeleton=MPI_INF_3DHP_17,
        fps=fps,
        image_size=size,
        valid=valid,
    )


def load_3dhp_train(path: str | Path) -> PoseDataset:
    """Training set: one sequence per ``"S1 Seq1"`` and camera (action ``"Seq1 cam<k>"``)."""
    path = Path(path)
    seqs = []
    for name, entry in _load_npz_dict(path, "data").items():
        if not (
            isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], dict)
        ):
            raise ValueError(
                f"{path}: data[{name!r}] expected [{{camera: {{...}}}}, fps], "
                f"got {type(entry).__name__}"
            )
        cams, fps = entry
        subject, _, seq = name.partition(" ")
        for cam, item in cams.items():
            seqs.append(
                _sequence(
                    f"{path}: data[{name!r}][0][{cam!r}]",
                    subject,
                    seq,
                    item,
                    _TRAIN_SIZE,
                    float(fps),
                    str(cam),
                )
            )
    subjects = tuple(dict.fromkeys(s.subject for s in seqs))
    return PoseDataset("mpi_inf_3dhp_train", MPI_INF_3DHP_17, tuple(seqs), subjects, ())


def load_3dhp_test(path: str | Path, fps: float = 50.0) -> PoseDataset:
    """Test set: TS1-TS6, each with its ``valid`` mask (evaluate only valid frames)."""
    path = Path(path)
    seqs = []
    for name, item in _load_npz_dict(path, "data").items():
        if name not in MPI_TEST_IMAGE_SIZES:
            raise KeyError(
                f"{path}: unexpected test sequence {name!r}; expected {list(MPI_TEST_IMAGE_SIZES)}"
            )
        if "valid" not in item:
            raise KeyError(f"{path}: data[{name!r}] has no 'valid' mask")
        seqs.append(
            _sequence(
                f"{path}: data[{name!r}]", name, name, item, MPI_TEST_IMAGE_SIZES[name], fps, ""
            )
        )
    subjects = tuple(s.subject for s in seqs)
    return PoseDataset("mpi_inf_3dhp_test", MPI_INF_3DHP_17, tuple(seqs), (), subjects)

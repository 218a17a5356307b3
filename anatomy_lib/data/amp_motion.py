"""The shipped AMP motion clips: real motion (CMU-derived) on the Human3.6M-17 skeleton.

Three clips (dance, run, walk) of the DeepMimic body from isaaclab's AMP humanoid task,
world joints at 50 Hz. Built by :mod:`anatomy_lib.data.build_motion`; provenance and
licence in ``files/DATA.md``. These are motion only: no cameras, no detections.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

__all__ = ["AMP_MOTION_FILE", "AMP_MOTION_FORMAT", "load_amp_motion"]

AMP_MOTION_FILE = Path(__file__).parent / "files" / "amp_motion_h36m17.npz"
AMP_MOTION_FORMAT = "anatomy3d-motion-1"


def load_amp_motion(
    path: str | Path = AMP_MOTION_FILE, dtype: torch.dtype = torch.float32
) -> list[tuple[str, torch.Tensor]]:
    """Load the AMP clips as ``[(name, joints)]``.

    Args:
        path: the file written by ``python -m anatomy_lib.data.build_motion``.
        dtype: floating dtype of the returned tensors.

    Returns:
        One ``(name, joints)`` per clip (``"dance"``, ``"run"``, ``"walk"``): ``joints`` is
        ``(T, 17, 3)`` Human3.6M-17 world positions in metres, Z up, floor at z = 0,
        50 frames per second.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: motion file missing; run `python -m anatomy_lib.data.build_motion`"
        )
    with np.load(io.BytesIO(path.read_bytes())) as f:
        if "meta_json" not in f:
            raise KeyError(f"{path}: key 'meta_json' missing; expected an {AMP_MOTION_FORMAT} file")
        meta = json.loads(str(f["meta_json"]))
        if meta.get("format") != AMP_MOTION_FORMAT:
            raise ValueError(
                f"{path}: expected format {AMP_MOTION_FORMAT!r}, got {meta.get('format')!r}"
            )
        return [
            (c["name"], torch.from_numpy(f[f"joints_{c['name']}"]).to(dtype)) for c in meta["clips"]
        ]

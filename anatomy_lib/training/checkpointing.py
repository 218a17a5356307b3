"""Atomic, resumable training checkpoints with the complete random state.

A training checkpoint holds everything needed to continue a run as if it had never
stopped: model, optimiser and gradient-scaler state, the position in the schedule
(epoch and step), the history and the random state of Python, NumPy and torch (CPU and
CUDA). Files are written to a temporary file in the same folder and moved into place
with :func:`os.replace`, so a run killed while saving leaves the previous checkpoint
intact.

The shipped, inference-only checkpoints use :mod:`anatomy_lib.models.checkpoints`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_torch_save, atomic_write_bytes
from ..safe_io import load_torch_file

__all__ = [
    "CHECKPOINT_FORMAT",
    "atomic_write_bytes",
    "atomic_torch_save",
    "capture_rng_state",
    "restore_rng_state",
    "load_training_checkpoint",
]

#: Value of the ``"format"`` key of every training checkpoint.
CHECKPOINT_FORMAT = "anatomy3d-training-checkpoint"
# atomic_write_bytes / atomic_torch_save live in anatomy_lib._atomic (one helper for the
# whole package) and are re-exported here.
_VERSION = 1
_REQUIRED = ("format", "version", "experiment", "model", "optimizer", "epoch", "step_in_epoch",
             "global_step", "rng", "history")  # fmt: skip


def capture_rng_state() -> dict[str, Any]:
    """The random state of Python, NumPy, torch (CPU) and every CUDA device."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - the legacy global state
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`capture_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_training_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", trusted: bool = False
) -> dict:
    """Load and check a training checkpoint written by the trainer, without running code
    from the file (:func:`anatomy_lib.safe_io.load_torch_file`; ``trusted`` opts out).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a torch file (truncated, other format), needs a full
            unpickle (:class:`~anatomy_lib.safe_io.UnsafeFileError`), or is not a training
            checkpoint (an inference checkpoint, a foreign file) or lacks keys; the message
            says which.
    """
    ckpt = load_torch_file(path, map_location, trusted=trusted)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        got = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(
            f"{path}: expected a training checkpoint (format {CHECKPOINT_FORMAT!r}), got {got!r}; "
            "inference checkpoints load with anatomy_lib.models.checkpoints.load_model"
        )
    missing = [k for k in _REQUIRED if k not in ckpt]
    if missing:
        raise ValueError(f"{path}: training checkpoint lacks keys {missing}")
    if ckpt["version"] != _VERSION:
        raise ValueError(
            f"{path}: checkpoint version {ckpt['version']}, this library reads {_VERSION}"
        )
    return ckpt


def new_checkpoint(**fields: Any) -> dict:
    """A checkpoint dict with the format header (used by the trainer)."""
    return {"format": CHECKPOINT_FORMAT, "version": _VERSION, **fields}

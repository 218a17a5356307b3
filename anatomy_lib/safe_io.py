"""Reading torch files without running code from them, and writing files safely.

``torch.load(path, weights_only=False)`` unpickles the file, and a pickle can call any
Python function: a model file from someone else could delete files or open a network
connection the moment it is loaded. Every load in this library therefore goes through
:func:`load_torch_file`, which uses ``weights_only=True`` (tensors, plain containers,
numbers, strings and plain numeric NumPy arrays only). A file that needs more is refused
with :class:`UnsafeFileError`, unless the caller opts in with ``trusted=True`` (the
command line's ``--trust-checkpoint``), which is only for files whose origin you trust.

Writing: :func:`atomic_write` writes to a temporary file in the same folder, then moves
it into place with :func:`os.replace`, so a crash never leaves a half-written file; the
file gets the user's normal permissions (``0o666`` minus the umask, as ``open`` would),
not the ``0o600`` of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

__all__ = [
    "UnsafeFileError",
    "TRUST_HINT",
    "load_torch_file",
    "atomic_write",
    "normal_file_mode",
]

#: How to opt in to a full unpickle, and why not to.
TRUST_HINT = (
    "loading it needs a full unpickle, which can run any code hidden in the file; "
    "only if you trust where it came from, pass trusted=True "
    "(command line: --trust-checkpoint)"
)


class UnsafeFileError(ValueError):
    """A torch file that cannot be read with ``weights_only=True`` (it holds Python objects
    beyond tensors and plain containers), refused because unpickling it could run code."""


def _numpy_globals() -> list:
    """The NumPy names a plain numeric array needs to unpickle (the random state saved in
    training checkpoints holds one); allowing them lets no code run."""
    reconstruct = np.zeros(1).__reduce__()[0]
    kinds = (np.uint32, np.int64, np.float64, np.float32, np.int32, np.uint8, np.bool_)
    return [reconstruct, np.ndarray, np.dtype, *{type(np.dtype(k)) for k in kinds}]


def load_torch_file(
    path: str | os.PathLike, map_location: Any = "cpu", trusted: bool = False
) -> Any:
    """``torch.load`` that never runs code from the file unless ``trusted``.

    Args:
        path: the file.
        map_location: passed to ``torch.load``.
        trusted: unpickle fully (``weights_only=False``); only for files you trust.

    Raises:
        FileNotFoundError: no such file (or a folder).
        UnsafeFileError: the file needs a full unpickle and ``trusted`` is False.
        ValueError: not a readable torch file (truncated, random bytes, another format).
    """
    path = Path(path)
    if not path.is_file():
        what = "a folder, not a checkpoint file" if path.is_dir() else "no such checkpoint file"
        raise FileNotFoundError(f"{path}: {what}")
    try:
        if trusted:
            return torch.load(path, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(_numpy_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
        text = str(exc)
        found = "" if trusted else _unsafe_names(path)
        if found or (not trusted and "global" in text.lower()):
            what = f" (it refers to {found})" if found else ""
            raise UnsafeFileError(
                f"{path}: refused: the file holds Python objects, not only weights{what}; "
                f"{TRUST_HINT}"
            ) from None
        lines = [ln for ln in text.splitlines() if ln.strip() and "weights_only" not in ln]
        first = lines[-1].strip() if lines else type(exc).__name__
        raise ValueError(
            f"{path}: not a readable torch checkpoint (truncated, or another format: {first})"
        ) from None


def _unsafe_names(path: Path) -> str:
    """Names of the Python objects the file would load (for the message), or ``""``."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - only used to improve a message
        return ""
    return ", ".join(sorted(names)[:4]) + (", ..." if len(names) > 4 else "")


def normal_file_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open(path, "w")`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, then move it to ``path``.

    The folder must exist (a missing one is an error, not created silently). The file
    gets :func:`normal_file_mode`. Returns ``path``.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
        IsADirectoryError: ``path`` is a folder.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file path")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, normal_file_mode())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

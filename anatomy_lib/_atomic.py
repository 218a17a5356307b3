"""Atomic file writes: the one helper every module that saves a file uses.

The data goes to a temporary file in the target's folder, is flushed and ``fsync``-ed,
then moved over the target with :func:`os.replace` (atomic on POSIX and Windows). A
process killed at any point leaves either the old file or the new one, never half of
one; the temporary file is removed when writing fails. New files get the permissions
``open(path, "w")`` would give them (:func:`normal_file_mode`), not the temporary
file's ``0o600``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_torch_save", "normal_file_mode"]


def normal_file_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open(path, "w")`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO[bytes]], Any], mode: int | None = None
) -> Path:
    """Call ``write(f)`` on a binary temporary file, then move it to ``path`` atomically.

    Args:
        path: target file (its folder is created if missing).
        write: writes the content to the open file ``f``.
        mode: permission bits of the new file (None: :func:`normal_file_mode`).

    Returns:
        ``path``.

    Raises:
        IsADirectoryError: ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, normal_file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)``, atomically."""
    atomic_write(path, lambda f: torch.save(obj, f))

"""Reading torch files without running code from them, and writing files safely.

``torch.load(path, weights_only=False)`` unpickles the file, and a pickle can call any
Python function: a model file from someone else could delete files or open a network
connection the moment it is loaded. Every load in this library therefore goes through
:func:`load_torch_file`, which uses ``weights_only=True`` (tensors, plain containers,
numbers, strings and plain numeric NumPy arrays only). A file that needs more is refused
with :class:`UnsafeFileError`, unless the caller opts in with ``trusted=True`` (the
command line's ``--trust-checkpoint``), which is only for files whose origin you trust.

Data files that are pickles (the published Human3.6M ``.npz`` files hold pickled dicts,
the authors' ``score.pkl`` is one) are read by :func:`read_npz_key` and
:func:`load_numpy_pickle`, which allow only arrays, numbers, strings and containers.

Writing: :func:`atomic_write` (from :mod:`anatomy_lib._atomic`, the package's one atomic
writer, re-exported here) writes to a temporary file in the same folder, then moves it
into place with :func:`os.replace`, so a crash never leaves a half-written file; the file
gets the user's normal permissions (``0o666`` minus the umask, as ``open`` would).
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._atomic import atomic_write, normal_file_mode

__all__ = [
    "UnsafeFileError",
    "TRUST_HINT",
    "load_torch_file",
    "load_numpy_pickle",
    "read_npz_key",
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


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles containers, numbers, strings and NumPy arrays; refuses every other global
    (functions, classes), which is how a pickle runs code."""

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("collections", "OrderedDict"),
    }  # fmt: skip

    def __init__(self, file, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED or module == "numpy.dtypes":
            return super().find_class(module, name)
        raise UnsafeFileError(
            f"{self.source}: refused: the pickle refers to {module}.{name}, which could run "
            "code when loaded; this file should hold only arrays, numbers and dicts"
        )


def load_numpy_pickle(path: str | os.PathLike) -> Any:
    """Unpickle a data file (dicts, lists, numbers, strings, NumPy arrays) without running
    code: any other object in it raises :class:`UnsafeFileError`.

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: the pickle refers to a function or class.
        ValueError: not a pickle (truncated or another format).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    with path.open("rb") as fh:
        return _unpickle(fh, str(path))


def _unpickle(fh, source: str) -> Any:
    try:
        return _NumpyOnlyUnpickler(fh, source).load()
    except UnsafeFileError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{source}: not a readable pickle ({exc})") from None


def read_npz_key(path: str | os.PathLike, key: str) -> np.ndarray | None:
    """Array ``key`` of an ``.npz`` file (None when absent). Object arrays (pickled dicts,
    as in the published Human3.6M files) are unpickled by :func:`load_numpy_pickle`'s rules:
    NumPy arrays and plain containers only, so the file cannot run code.

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: an object array refers to a function or class.
        ValueError: not a readable npz (truncated, another format).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    source = f"{path}[{key!r}]"
    try:
        with zipfile.ZipFile(path) as z:
            if f"{key}.npy" not in z.namelist():
                return None
            data = z.read(f"{key}.npy")
        fh = io.BytesIO(data)
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"npy format version {version}")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable npz file ({exc})") from None
    if header[2].hasobject:
        return _unpickle(fh, source)
    fh.seek(0)
    try:
        return np.lib.format.read_array(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable npz file ({exc})") from None

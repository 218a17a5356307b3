"""Run folders that are never lost or mixed: refusal, lock, stale files, the final model.

A training run writes ``checkpoint.pt``, ``experiment.json``, ``history.csv``,
``history.json`` and, when it ends, ``model.pt`` into its folder. Rules (used by
``anatomy3d train``):

* a new run refuses a folder that already holds files, unless it continues that run
  (``--resume``) or explicitly replaces it (``--overwrite``, which deletes the old run's
  files first, ``model.pt`` included, so no stale model survives);
* while a run writes, it holds an exclusive lock on ``<folder>/.anatomy3d.lock``: a second
  run in the same folder is refused instead of mixing its files with the first;
* with the lock held, temporary files left by a killed write (``.<name>.*.tmp``) are
  deleted;
* ``model.pt`` belongs to the run whose ``checkpoint.pt`` is not newer than it
  (:func:`run_model_file`): the final model is written after the last checkpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "RUN_FILES",
    "LOCK_NAME",
    "RunFolderError",
    "check_run_folder",
    "lock_run_folder",
    "clean_stale_temporaries",
    "run_model_file",
]

#: Files a training run writes in its folder.
RUN_FILES = ("checkpoint.pt", "experiment.json", "history.csv", "history.json", "model.pt")
#: Lock file held while a run writes (left in place; ignored when a folder is checked).
LOCK_NAME = ".anatomy3d.lock"


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (message says why and what to do)."""


def _is_temporary(p: Path) -> bool:
    return p.name.startswith(".") and p.name.endswith(".tmp")


def check_run_folder(folder: str | Path, mode: str = "new") -> Path:
    """Check that ``folder`` can take a run; with ``mode="overwrite"`` delete the old run.

    Args:
        folder: the run folder (created later by the trainer if missing).
        mode: ``"new"`` (the folder must be missing or empty), ``"resume"`` (it must hold
            ``checkpoint.pt``) or ``"overwrite"`` (the old run's :data:`RUN_FILES` are
            deleted; other files are left alone).

    Raises:
        RunFolderError: the path is a file, holds a run (mode ``"new"``), holds no
            checkpoint (``"resume"``), or ``mode`` is unknown.
    """
    if mode not in ("new", "resume", "overwrite"):
        raise RunFolderError(f"mode: expected 'new', 'resume' or 'overwrite', got {mode!r}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder}: is a file; expected a run folder")
    if mode == "resume":
        if not (folder / "checkpoint.pt").is_file():
            raise RunFolderError(f"--resume {folder}: no checkpoint.pt in that folder")
        return folder
    if not folder.is_dir():
        return folder
    held = sorted(p.name for p in folder.iterdir() if p.name != LOCK_NAME and not _is_temporary(p))
    if mode == "new" and held:
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise RunFolderError(
            f"{folder}: folder is not empty ({shown}); continue that run with "
            f"--resume {folder}, replace it with --overwrite, or choose another --out"
        )
    if mode == "overwrite":
        for name in RUN_FILES:
            (folder / name).unlink(missing_ok=True)
    return folder


@contextlib.contextmanager
def lock_run_folder(folder: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of a run folder (created if missing; removed again if the
    body wrote nothing into it) while the body runs, after cleaning stale temporaries
    (:func:`clean_stale_temporaries`).

    The lock is an OS file lock (``fcntl.flock``; ``msvcrt.locking`` on Windows): it is
    released when the process ends, even if killed, so a crash never leaves a folder
    locked.

    Raises:
        RunFolderError: another process holds the lock.
    """
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    locked = False
    try:
        if not _try_lock(fd):
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RunFolderError(
                f"{folder}: another run (process {other}) is writing to this folder; "
                "wait for it to finish or choose another --out"
            )
        locked = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        clean_stale_temporaries(folder)
        yield folder
    finally:
        if locked and created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            (folder / LOCK_NAME).unlink()  # a run refused before writing leaves no folder
            for p in created:
                with contextlib.suppress(OSError):  # not empty: someone else wrote there
                    p.rmdir()
        os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def clean_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the ``.<name>.*.tmp`` files an interrupted atomic write left in ``folder``
    (call only while holding its lock); returns the deleted paths."""
    removed = [p for p in Path(folder).glob(".*.tmp") if p.is_file()]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


def run_model_file(folder: str | Path) -> Path | None:
    """The file a run folder's model loads from: ``model.pt`` when it belongs to the run
    (written after its last ``checkpoint.pt``), else ``checkpoint.pt``; None if neither."""
    folder = Path(folder)
    model, ckpt = folder / "model.pt", folder / "checkpoint.pt"
    if model.is_file() and (
        not ckpt.is_file() or model.stat().st_mtime_ns >= ckpt.stat().st_mtime_ns
    ):
        return model
    return ckpt if ckpt.is_file() else None

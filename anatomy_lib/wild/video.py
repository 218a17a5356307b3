"""Reading video frames: any format imageio or OpenCV reads, or a folder of images.

Frames come out as ``(H, W, 3)`` uint8 RGB arrays, one at a time, so a long video never
sits in memory. Backends are tried in order: a folder of images (sorted by name); for
video files OpenCV first when it is installed (``opencv-python-headless``, part of the
``wild`` extra: the fastest decoder here), then imageio (GIF, PNG/JPEG sequences, and
MP4/AVI when ``imageio-ffmpeg`` or ``av`` is installed); GIFs and images go to imageio.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["VideoInfo", "IMAGE_SUFFIXES", "video_info", "iter_frames", "read_frames"]

#: File endings read as single images when the input is a folder.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class VideoInfo:
    """What a video is: ``num_frames`` frames of ``width`` x ``height`` pixels at ``fps``.

    ``num_frames`` is None when the container does not say (it is then counted by reading).
    ``fps_known`` is False when the file stores no frame rate (image folders, some GIFs) and
    ``fps`` is the rate assumed.
    """

    path: str
    width: int
    height: int
    fps: float
    num_frames: int | None
    fps_known: bool = True


def _image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _rgb(frame: np.ndarray, source: str) -> np.ndarray:
    """``(H, W)``, ``(H, W, 3|4)`` uint8 -> ``(H, W, 3)`` uint8 RGB."""
    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise ValueError(f"{source}: expected 8-bit frames, got dtype {arr.dtype}")
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=-1)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        return np.ascontiguousarray(arr[..., :3])
    raise ValueError(f"{source}: expected frames (H, W) or (H, W, 3|4), got {arr.shape}")


def _imageio_frames(path: Path) -> Iterator[np.ndarray]:
    import imageio.v3 as iio

    yield from iio.imiter(path)


def _opencv_frames(path: Path) -> Iterator[np.ndarray]:
    cv2 = _import_cv2(path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"{path}: OpenCV cannot open this file")
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def _import_cv2(path: Path):
    try:
        import cv2
    except ImportError:
        raise OSError(
            f"{path}: imageio cannot read this video and OpenCV is not installed; install "
            "the extra (`pip install 'anatomy3d[wild]'`) or `imageio-ffmpeg`"
        ) from None
    return cv2


def _opencv_first(path: Path) -> bool:
    """Decode ``path`` with OpenCV before trying imageio (a video file, OpenCV installed)."""
    if path.suffix.lower() in (".gif", *IMAGE_SUFFIXES):
        return False
    try:
        import cv2
    except ImportError:
        return False
    cap = cv2.VideoCapture(str(path))
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()


def _imageio_readable(path: Path) -> bool:
    import imageio.v3 as iio

    try:
        with warnings.catch_warnings():  # imageio warns while it tries its legacy plugins
            warnings.simplefilter("ignore")
            next(iter(iio.imiter(path)))
    except Exception:  # noqa: BLE001 - any plugin failure means "try OpenCV"
        return False
    return True


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such video file or frame folder")


def iter_frames(path: str | Path, step: int = 1) -> Iterator[np.ndarray]:
    """Yield every ``step``-th frame of a video file or image folder as ``(H, W, 3)`` uint8 RGB.

    Raises:
        FileNotFoundError: ``path`` does not exist, or a folder holds no images.
        OSError: neither imageio nor OpenCV can decode the file.
    """
    if not isinstance(step, int) or step < 1:
        raise ValueError(f"step: expected an int >= 1, got {step!r}")
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        import imageio.v3 as iio

        source = (iio.imread(f) for f in _image_files(path))
    elif not _opencv_first(path) and _imageio_readable(path):
        source = _imageio_frames(path)
    else:
        source = _opencv_frames(path)
    for i, frame in enumerate(source):
        if i % step == 0:
            yield _rgb(frame, str(path))


def video_info(path: str | Path, default_fps: float = 30.0) -> VideoInfo:
    """Size, frame rate and frame count of a video file or image folder.

    ``default_fps`` is used when the file does not store a frame rate (image folders, GIFs
    without durations).
    """
    import imageio.v3 as iio

    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        files = _image_files(path)
        h, w = _rgb(iio.imread(files[0]), str(files[0])).shape[:2]
        return VideoInfo(str(path), w, h, float(default_fps), len(files), fps_known=False)
    if not _opencv_first(path) and _imageio_readable(path):
        meta = iio.immeta(path)
        first = _rgb(next(iter(iio.imiter(path))), str(path))
        fps = meta.get("fps")
        if fps is None and meta.get("duration"):
            fps = 1000.0 / float(meta["duration"])  # GIF: milliseconds per frame
        n = meta.get("nframes")
        n = int(n) if isinstance(n, int | float) and np.isfinite(n) and n > 0 else None
        if n is None:
            n = sum(1 for _ in iio.imiter(path))
        width, height = first.shape[1], first.shape[0]
        return VideoInfo(str(path), width, height, float(fps or default_fps), n, bool(fps))
    cv2 = _import_cv2(path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"{path}: OpenCV cannot open this file")
    try:
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        stored = float(cap.get(cv2.CAP_PROP_FPS))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    finally:
        cap.release()
    return VideoInfo(str(path), w, h, stored or float(default_fps), n, stored > 0)


def read_frames(path: str | Path, indices: Sequence[int]) -> list[np.ndarray]:
    """The frames ``indices`` (any order, 0-based) of a video as ``(H, W, 3)`` uint8 RGB.

    Raises:
        IndexError: an index is negative or past the last frame.
    """
    wanted = sorted(set(int(i) for i in indices))
    if wanted and wanted[0] < 0:
        raise IndexError(f"frame indices must be >= 0, got {wanted[0]}")
    found: dict[int, np.ndarray] = {}
    if wanted:
        for i, frame in enumerate(iter_frames(path)):
            if i in wanted:
                found[i] = frame
            if i >= wanted[-1]:
                break
    missing = [i for i in wanted if i not in found]
    if missing:
        raise IndexError(f"{path}: frames {missing} past the end of the video")
    return [found[int(i)] for i in indices]

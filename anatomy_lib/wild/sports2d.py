"""The Sports2D demo video, detected once with MediaPipe and shipped as small derived files.

Source: ``Sports2D/Demo/demo.mp4`` of the PyPI wheel sports2d 0.8.34 (BSD-3-Clause,
copyright (c) 2022 perfanalytics; notice in ``assets/LICENSE-sports2d.txt``): 230 frames,
30 fps, 1768 x 994, outdoors, backlit. A man walks along the top of a utility box, jumps
off (a somersault) and runs to the right; a woman walks past in front of the box.

Shipped in ``assets/`` (built by :func:`build_sports2d_assets`, which needs the ``wild``
extra): ``sports2d_demo_mediapipe.npz`` (:class:`~.detector.Detections`, up to 2 people
per frame, 33 landmarks + visibility, from :func:`~.detector.detect_people`) and a few
frames downscaled to 360 pixels wide as JPEG (``sports2d_frame_NNN.jpg``).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .detector import Detections

__all__ = ["ASSETS", "Sports2DDemo", "load_sports2d_demo", "build_sports2d_assets"]

#: Folder of the shipped files.
ASSETS = Path(__file__).parent / "assets"
_DETECTIONS = "sports2d_demo_mediapipe.npz"
_VIDEO_IN_WHEEL = "Sports2D/Demo/demo.mp4"
#: Frames kept as JPEG: every 15th, plus the jump.
FRAME_INDICES = (*range(5, 230, 15), 172, 180, 188, 196)


@dataclass
class Sports2DDemo:
    """The shipped demo: ``detections`` of all 230 frames and a few ``frames``
    (``(H, W, 3)`` uint8, 360 pixels wide) with their ``frame_indices``; ``scale`` maps
    detection pixels to frame pixels."""

    detections: Detections
    frames: list[np.ndarray]
    frame_indices: np.ndarray
    scale: float


def load_sports2d_demo(folder: str | Path = ASSETS) -> Sports2DDemo:
    """Load the shipped Sports2D detections and frames (no MediaPipe needed)."""
    import imageio.v3 as iio

    folder = Path(folder)
    if not (folder / _DETECTIONS).is_file():
        raise FileNotFoundError(
            f"{folder / _DETECTIONS}: missing; rebuild with "
            "`python -m anatomy_lib.wild.sports2d PATH/TO/sports2d-0.8.34-py3-none-any.whl`"
        )
    det = Detections.load(folder / _DETECTIONS)
    files = sorted(folder.glob("sports2d_frame_*.jpg"))
    indices = np.array([int(re.findall(r"\d+", f.stem)[-1]) for f in files])
    frames = [iio.imread(f) for f in files]
    scale = frames[0].shape[1] / det.width if frames else 1.0
    return Sports2DDemo(det, frames, indices, scale)


def build_sports2d_assets(wheel: str | Path, out: str | Path = ASSETS, width: int = 360) -> None:
    """Run MediaPipe (2 people per frame) on the wheel's demo video; write the shipped files."""
    import tempfile

    from PIL import Image

    from .detector import detect_people
    from .video import iter_frames, video_info

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        video = Path(zf.extract(_VIDEO_IN_WHEEL, tmp))
        info = video_info(video)
        kept: dict[int, np.ndarray] = {}

        def frames():
            for t, frame in enumerate(iter_frames(video)):
                if t in FRAME_INDICES:
                    kept[t] = frame
                yield frame

        source = f"MediaPipe 0.10.21 pose (full), 2 people, on {Path(wheel).name}:{_VIDEO_IN_WHEEL}"
        det = detect_people(frames(), info.fps, max_people=2, source=source)
    det.save(out / _DETECTIONS)
    for t, frame in kept.items():
        img = Image.fromarray(frame)
        img = img.resize((width, round(frame.shape[0] * width / frame.shape[1])), Image.BILINEAR)
        img.save(out / f"sports2d_frame_{t:03d}.jpg", quality=80)


if __name__ == "__main__":
    import sys

    build_sports2d_assets(sys.argv[1])

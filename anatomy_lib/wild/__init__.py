"""In the wild: run 3D pose lifting on your own video.

* :mod:`.video`: frames of any video imageio or OpenCV reads, or of an image folder.
* :mod:`.detector`: :class:`Detections` (any detector's keypoints, per frame, per person)
  and the offline MediaPipe pose detector (``pip install 'anatomy3d[wild]'``).
* :mod:`.tracking`: follow the main person, fill the frames where they were lost.
* :mod:`.pipeline`: detections or a video -> 3D, saved as npz, CSV and HTML.
* :mod:`.figure`: the frames beside the 3D, animated.

Only :mod:`.detector`'s :class:`MediaPipePoseDetector` and :func:`detect_people` (and
:func:`infer_video`) need MediaPipe; it is imported when they run.
"""

from .detector import (
    MEDIAPIPE_33_NAMES,
    Detections,
    MediaPipePoseDetector,
    detect_people,
    landmarks_to_pixels,
    mediapipe_available,
    mediapipe_to_h36m,
)
from .pipeline import WildResult, infer_video, lift_detections, resolve_model
from .tracking import FilledTrack, FrameStatus, Track, fill_gaps, follow_main_person, link_tracklets
from .video import VideoInfo, iter_frames, read_frames, video_info

__all__ = [
    "MEDIAPIPE_33_NAMES",
    "Detections",
    "FilledTrack",
    "FrameStatus",
    "MediaPipePoseDetector",
    "Track",
    "VideoInfo",
    "WildResult",
    "detect_people",
    "fill_gaps",
    "follow_main_person",
    "infer_video",
    "iter_frames",
    "landmarks_to_pixels",
    "lift_detections",
    "link_tracklets",
    "mediapipe_available",
    "mediapipe_to_h36m",
    "read_frames",
    "resolve_model",
    "video_info",
]

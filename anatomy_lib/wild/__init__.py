"""In the wild: run 3D pose lifting on your own video.

* :mod:`.video`: frames of any video imageio or OpenCV reads, or of an image folder.
* :mod:`.detector`: :class:`Detections` (any detector's keypoints, per frame, per person)
  and the offline MediaPipe pose detector (``pip install 'anatomy3d[wild]'``).
* :mod:`.tracking`: follow the main person (re-joined when they return), fill the frames
  where they were lost.
* :mod:`.left_right`: swap back the left and right labels where the detector exchanged
  them (the labelling that moves least from frame to frame).
* :mod:`.pipeline`: detections, keypoints or a video -> 3D (:class:`LiftResult`).
* :mod:`.exports`: one npz / CSV schema for every input, BVH and TRC.
* :mod:`.figure`: the frames cropped to the person beside the 3D, animated, as a plain
  plotly dict and a standalone HTML page.

Only :mod:`.detector`'s :class:`MediaPipePoseDetector` and :func:`detect_people` (and
:func:`run_video` / :func:`infer_video`) need MediaPipe; it is imported when they run.
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
from .exports import read_bvh, write_bvh, write_trc
from .pipeline import (
    LiftResult,
    VideoRun,
    WildResult,
    infer_video,
    lift_detections,
    lift_keypoints,
    resolve_model,
    run_video,
)
from .tracking import (
    FilledTrack,
    FrameStatus,
    Track,
    fill_gaps,
    follow_main_person,
    frame_counts,
    link_tracklets,
    rejoin_tracklets,
)
from .video import VideoInfo, iter_frames, read_frames, video_info

__all__ = [
    "MEDIAPIPE_33_NAMES",
    "Detections",
    "FilledTrack",
    "FrameStatus",
    "LiftResult",
    "MediaPipePoseDetector",
    "Track",
    "VideoInfo",
    "VideoRun",
    "WildResult",
    "detect_people",
    "fill_gaps",
    "follow_main_person",
    "frame_counts",
    "infer_video",
    "iter_frames",
    "landmarks_to_pixels",
    "lift_detections",
    "lift_keypoints",
    "link_tracklets",
    "mediapipe_available",
    "mediapipe_to_h36m",
    "read_bvh",
    "read_frames",
    "rejoin_tracklets",
    "resolve_model",
    "run_video",
    "video_info",
    "write_bvh",
    "write_trc",
]

"""Is the engine's simulated detector as jittery as a real one? Measured on a video that is
not a test set.

The detector families of :mod:`anatomy_lib.data.detector_errors` state their noise as
assumptions. Their *bias* cannot be checked without ground truth, but their frame-to-frame
noise can: :func:`~anatomy_lib.data.detector_errors.second_difference_jitter` estimates it
from the detections alone. This script applies that one estimator, in the engine's unit
(``person_px / 500``, the person's median vertical extent of the 17 joints in the image), to

* **real**: MediaPipe Pose on the Sports2D demo video (shipped detections,
  :func:`~anatomy_lib.wild.sports2d.load_sports2d_demo`; 30 fps), one row per tracked person
  followed for at least ``MIN_FRAMES`` frames;
* **engine**: the engine's validation clips and bodies (no recombined limbs) played at 30
  fps (``time_warp`` scaled by 50 / 30), seen by the engine's random cameras, once per family
  with the same videos and cameras: ``clean`` (exact projections: the floor that the motion
  alone gives), ``mediapipe`` and ``openpose``.

Beside the jitter, the quartiles of the limb joints' scores (MediaPipe's ``visibility``, the
engine's simulated confidence), a second check that needs no ground truth.

Two joint groups: ``slow`` (hips and shoulders, whose acceleration adds little at 30 fps: the
estimate is close to the detector's white noise) and ``limbs`` (those and the elbows, wrists,
knees and ankles). The Pose2Sim trial is a test set and is not used.

Prints one JSON object::

    python benchmarks/detector_jitter.py [--videos 64]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import report_header  # noqa: E402

from anatomy_lib.camera import project_with_intrinsics  # noqa: E402
from anatomy_lib.data.detector_errors import (  # noqa: E402
    DetectorErrorConfig,
    projected_height,
    second_difference_jitter,
)
from anatomy_lib.data.engine import EngineConfig, TrainingDataEngine  # noqa: E402
from anatomy_lib.data.keypoint_formats import to_h36m  # noqa: E402
from anatomy_lib.skeleton import H36M_17  # noqa: E402
from anatomy_lib.wild.detector import Detections  # noqa: E402
from anatomy_lib.wild.sports2d import load_sports2d_demo  # noqa: E402
from anatomy_lib.wild.tracking import link_tracklets  # noqa: E402

#: Joint groups (Human3.6M-17 names).
SLOW = ("right_hip", "left_hip", "right_shoulder", "left_shoulder")
LIMBS = (*SLOW, "right_knee", "left_knee", "right_ankle", "left_ankle")
LIMBS += ("right_elbow", "left_elbow", "right_wrist", "left_wrist")
GROUPS = {"slow": SLOW, "limbs": LIMBS}
#: A real track must be followed for at least this many frames.
MIN_FRAMES = 60
#: The engine plays its 50 fps clips at this rate, as the real video's.
FPS = 30.0
MIN_SCORE = 0.5
SEED = 2026


def _indices(names: tuple[str, ...]) -> list[int]:
    return [H36M_17.joint_names.index(n) for n in names]


def person_unit(keypoints: torch.Tensor) -> torch.Tensor:
    """``(...)`` pixels per unit, ``person_px / 500``, of ``(..., T, J, 2)`` keypoints
    (:func:`~anatomy_lib.data.detector_errors.projected_height`, as the engine's unit)."""
    return projected_height(keypoints) / 500.0


def group_jitter(
    keypoints: torch.Tensor, scores: torch.Tensor, unit: torch.Tensor | float
) -> dict[str, torch.Tensor]:
    """:func:`second_difference_jitter` of each joint group, ``(...)`` per group."""
    return {
        group: second_difference_jitter(
            keypoints[..., _indices(names), :], scores[..., _indices(names)], unit, MIN_SCORE
        ).jitter
        for group, names in GROUPS.items()
    }


SCORE_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def score_quantiles(scores: torch.Tensor, seen: torch.Tensor) -> list[float]:
    """:data:`SCORE_QUANTILES` of the limb joints' ``(..., T, 17)`` scores where ``seen``
    ``(..., T)``."""
    limbs = scores[..., _indices(LIMBS)][seen]
    return [
        round(float(q), 3)
        for q in limbs.double().quantile(torch.tensor(SCORE_QUANTILES, dtype=torch.float64))
    ]


def tracked_people(detections: Detections) -> list[dict]:
    """Each tracklet of ``detections`` followed for at least :data:`MIN_FRAMES` frames, as
    H36M-17 keypoints ``(T, 17, 2)`` (NaN where it is not seen) and scores ``(T, 17)``."""
    tracklet = link_tracklets(detections)
    people = []
    for tid in np.unique(tracklet[tracklet >= 0]):
        frame, slot = np.nonzero(tracklet == tid)
        if len(frame) < MIN_FRAMES:
            continue
        kp = np.full(detections.keypoints.shape[:1] + detections.keypoints.shape[2:], np.nan)
        sc = np.zeros(detections.scores.shape[:1] + detections.scores.shape[2:])
        kp[frame], sc[frame] = detections.keypoints[frame, slot], detections.scores[frame, slot]
        seen = torch.from_numpy(~np.isnan(kp).any((-2, -1)))
        converted = to_h36m(
            torch.from_numpy(np.nan_to_num(kp)), torch.from_numpy(sc), detections.layout
        )
        keypoints = torch.where(seen[:, None, None], converted.keypoints, torch.nan)
        scores = torch.where(seen[:, None], converted.scores, 0.0)
        people.append(
            {"tracklet": int(tid), "frames": (int(frame.min()), int(frame.max()), len(frame))}
            | {"keypoints": keypoints, "scores": scores}
        )
    return people


def real_rows(detections: Detections) -> list[dict]:
    """One row per tracked person: frames, person height (pixels), jitter per group."""
    rows = []
    for person in tracked_people(detections):
        unit = person_unit(person["keypoints"])
        seen = ~person["keypoints"].isnan().any(-1).any(-1)
        jitter = group_jitter(person["keypoints"], person["scores"], unit)
        first, last, count = person["frames"]
        rows.append(
            {
                "tracklet": person["tracklet"],
                "frames": f"{first}-{last} ({count} seen)",
                "person_px": round(float(unit) * 500.0, 1),
                **{g: round(float(v), 2) for g, v in jitter.items()},
                "score_quantiles": score_quantiles(person["scores"], seen),
            }
        )
    return rows


def engine_jitter(family: DetectorErrorConfig, videos: int, seed: int = SEED) -> dict:
    """Jitter per joint group of ``videos`` engine validation videos seen by ``family``
    alone: median and 10th / 90th percentiles over videos. The same seed gives every
    family the same motion, bodies and cameras."""
    speed = 50.0 / FPS
    config = EngineConfig(
        detectors=(family,),
        recombination_probability=0.0,
        time_warp=(0.75 * speed, 1.35 * speed),
    )
    out = TrainingDataEngine(config).videos(
        videos, torch.Generator().manual_seed(seed), "validation"
    )
    clean = project_with_intrinsics(out.joints_cam, out.cameras.intrinsics[:, None])
    jitter = group_jitter(out.pixels, out.scores, person_unit(clean))
    seen = torch.ones(out.scores.shape[:-1], dtype=torch.bool)
    return {"score_quantiles": score_quantiles(out.scores, seen)} | {
        group: {
            "median": round(float(v.nanmedian()), 2),
            "p10": round(float(v.nanquantile(0.1)), 2),
            "p90": round(float(v.nanquantile(0.9)), 2),
        }
        for group, v in jitter.items()
    }


FAMILIES = {
    "clean": DetectorErrorConfig.clean(),
    "mediapipe": DetectorErrorConfig.mediapipe_like(),
    "openpose": DetectorErrorConfig.openpose_like(),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=64, help="engine videos per family")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    report = {
        **report_header("benchmarks/detector_jitter.py", argv),
        "unit": "person_px / 500 (median vertical extent of the 17 joints)",
        "estimator": f"second_difference_jitter, min_score {MIN_SCORE}, {FPS:g} fps",
        "groups": {g: list(n) for g, n in GROUPS.items()},
        "score_quantiles": list(SCORE_QUANTILES),
        "real_sports2d_mediapipe": real_rows(load_sports2d_demo().detections),
        "engine": {
            name: {"jitter_range": list(family.jitter)} | engine_jitter(family, args.videos)
            for name, family in FAMILIES.items()
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

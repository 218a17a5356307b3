"""How large is a real detector's error, beside the engine's? Measured on a validation trial.

``benchmarks/detector_jitter.py`` compares frame-to-frame noise only; the size of the error
itself needs a 3D reference. The multi-person trial's validation person
(:func:`anatomy_lib.data.load_pose2sim_multiperson`, not test data) has one: MediaPipe's
keypoints triangulated from three or four calibrated views. Per scored frame of each
(person, camera) sequence, the distance between that camera's MediaPipe 2D and the
projection of the reference, in the engine's unit (``person_px / 500``, the person's median
vertical extent of the 17 joints in the image, here of the projected reference). The
reference is made from the same detections, so the distance *underestimates* the detector's
error (a view's error is partly pulled into the triangulation).

Beside it, the engine's validation clips and bodies (no recombined limbs) seen through each
detector family, with its assumed error sizes, with the ``calibrated`` ones
(:data:`~anatomy_lib.data.detector_errors.CALIBRATED_ERRORS`, fitted on both people) and with
the sizes refitted on the validation person
(:data:`~anatomy_lib.data.detector_errors.VALIDATION_PERSON_ERRORS`): the distance of the simulated
detections to the exact projections, the same statistics, and the hips-and-shoulders jitter
at 30 fps of ``benchmarks/detector_jitter.py`` (the real MediaPipe's: 1.2-1.8 units).

Statistics over the limb joints (hips, knees, ankles, shoulders, elbows, wrists) of all
scored frames: median, mean and 90th percentile; per joint, the median; and ``by_score``,
the limb joints' share and median error in each band of the keypoint's score
(:data:`SCORE_BINS`): does a low score mean a less accurate keypoint? For the real detector
it does; for the engine's families it did not with the measured sizes until session 30's
``occluded_noise="all"`` (the rows so marked). Prints one JSON::

    python benchmarks/detector_calibration.py [--videos 64] [--people all]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import report_header  # noqa: E402
from detector_jitter import FPS, LIMBS, SEED, _indices, group_jitter, person_unit  # noqa: E402

from anatomy_lib.camera import project, project_with_intrinsics  # noqa: E402
from anatomy_lib.data import load_pose2sim_multiperson  # noqa: E402
from anatomy_lib.data.detector_errors import (  # noqa: E402
    CALIBRATED_ERRORS,
    ERROR_SIZES,
    DetectorErrorConfig,
)
from anatomy_lib.data.engine import EngineConfig, TrainingDataEngine  # noqa: E402
from anatomy_lib.skeleton import H36M_17  # noqa: E402

#: The score bands of ``by_score``: [0, 0.3), [0.3, 0.5), ..., [0.9, 1].
SCORE_BINS = (0.0, 0.3, 0.5, 0.7, 0.9, 1.0)


def error_by_score(errors: torch.Tensor, scores: torch.Tensor) -> dict:
    """``errors, scores (N, 17)`` -> per :data:`SCORE_BINS` band of the limb joints: its
    share of their keypoints and their median error (None for an empty band)."""
    limbs = _indices(LIMBS)
    e, sc = errors[:, limbs].reshape(-1).double(), scores[:, limbs].reshape(-1).double()
    out = {}
    for k, (low, high) in enumerate(zip(SCORE_BINS[:-1], SCORE_BINS[1:], strict=True)):
        band = (sc >= low) & ((sc <= high) if k == len(SCORE_BINS) - 2 else (sc < high))
        out[f"{low}-{high}"] = {
            "share": round(float(band.double().mean()), 3),
            "median": round(float(e[band].median()), 2) if bool(band.any()) else None,
        }
    return out


def error_statistics(errors: torch.Tensor) -> dict:
    """``errors (N, 17)`` in units -> median / mean / p90 over the limb joints and the
    median per joint."""
    limbs = errors[:, _indices(LIMBS)].reshape(-1).double()
    return {
        "limbs": {
            "median": round(float(limbs.median()), 2),
            "mean": round(float(limbs.mean()), 2),
            "p90": round(float(limbs.quantile(0.9)), 2),
        },
        "per_joint_median": {
            name: round(float(errors[:, j].double().median()), 2)
            for j, name in enumerate(H36M_17.joint_names)
        },
    }


def real_errors(
    people: str | tuple[str, ...] | None = None,
) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Per sequence ``{frames, person_px, limbs median}``, all errors ``(N, 17)`` and their
    keypoints' scores ``(N, 17)``, of the validation person (``people``: as
    :func:`~anatomy_lib.data.load_pose2sim_multiperson`)."""
    rows, pooled, scores = {}, [], []
    for seq in load_pose2sim_multiperson(people=people):
        cam, valid = seq.camera, seq.valid
        pixels = seq.keypoints_pixels.double()[valid]
        reference = project(seq.joints_3d.double(), cam)[valid]
        unit = person_unit(reference)
        errors = (pixels - reference).norm(dim=-1) / unit
        pooled.append(errors)
        scores.append(seq.scores.double()[valid])
        rows[f"{seq.subject}/{cam.id}"] = {
            "frames": int(valid.sum()),
            "person_px": round(float(unit) * 500, 1),
            "limbs_median": round(float(errors[:, _indices(LIMBS)].median()), 2),
        }
    return rows, torch.cat(pooled), torch.cat(scores)


def engine_errors(family: DetectorErrorConfig, videos: int, seed: int = SEED) -> dict:
    """The engine's validation videos seen by ``family`` alone: error statistics (50 fps
    clips) and the hips-and-shoulders jitter played at :data:`FPS` (as detector_jitter.py)."""
    out = {}
    for rate, key in ((1.0, "errors"), (50.0 / FPS, "jitter")):
        config = EngineConfig(
            detectors=(family,), recombination_probability=0.0, time_warp=(0.75 * rate, 1.35 * rate)
        )
        videos_ = TrainingDataEngine(config).videos(
            videos, torch.Generator().manual_seed(seed), "validation"
        )
        clean = project_with_intrinsics(videos_.joints_cam, videos_.cameras.intrinsics[:, None])
        unit = person_unit(clean)
        if key == "errors":
            errors = (videos_.pixels - clean).norm(dim=-1) / unit[:, None, None]
            flat = errors.reshape(-1, errors.shape[-1])
            out.update(error_statistics(flat))
            out["by_score"] = error_by_score(flat, videos_.scores.reshape(flat.shape))
        else:
            jitter = group_jitter(videos_.pixels, videos_.scores, unit)["slow"]
            out["jitter_hips_shoulders_median"] = round(float(jitter.nanmedian()), 2)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=64, help="engine videos per family")
    parser.add_argument("--people", choices=["validation", "all"], default="validation",
                        help="validation: person 2 only (default); all: also person 1, the "
                        "test trial's performer (as CALIBRATED_ERRORS were fitted)")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sequences, pooled, scores = real_errors("all" if args.people == "all" else None)
    families = {
        "mediapipe_like": DetectorErrorConfig.mediapipe_like(),
        "openpose_like": DetectorErrorConfig.openpose_like(),
    }
    engine = {}
    for name, family in families.items():
        engine[f"{name} (assumed)"] = engine_errors(family, args.videos)
        for sizes in ERROR_SIZES:  # calibrated, validation_person
            label = f"{name} ({sizes.replace('_', ' ')})"
            engine[label] = engine_errors(family.with_error_sizes(sizes), args.videos)
        refitted = family.with_error_sizes("validation_person")
        engine[f"{name} (validation person, occluded noise all)"] = engine_errors(
            dataclasses.replace(refitted, occluded_noise="all"), args.videos
        )
    report = {
        **report_header("benchmarks/detector_calibration.py", argv),
        "unit": "person_px / 500 (median vertical extent of the 17 joints)",
        "limb_joints": list(LIMBS),
        "calibrated_errors": {k: list(v) for k, v in CALIBRATED_ERRORS.items()},
        "real_mediapipe_multiperson": {
            "sequences": sequences,
            **error_statistics(pooled),
            "by_score": error_by_score(pooled, scores),
        },
        "score_bins": list(SCORE_BINS),
        "engine_validation_videos": engine,
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

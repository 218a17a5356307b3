"""The lifted 3D fitted to its own 2D (anatomy_lib.keypoint_fit): does it lower the error?

:func:`~anatomy_lib.keypoint_fit.fit_to_keypoints` keeps the model's bone lengths and turns
its bones so that the pose reprojects onto the 2D it was lifted from, pulled towards the
network's directions with weight ``prior_weight``. Each row compares the model's 3D as
``anatomy3d infer`` lifts it (mirror pass, no smoothing) with the same 3D fitted
(``--prior-weight``, default :class:`~anatomy_lib.keypoint_fit.KeypointFitConfig`'s).
Validation data only; neither the embedded test split nor the test trial is read:

* ``engine``: the engine's validation videos (``benchmarks/engine_validation.py``):
  ``fixed`` and ``varied`` (the splits of the default's rule), and ``fixed``'s videos with
  the detector error sizes measured on real MediaPipe (``calibrated``) and on the
  validation person (``validation_person``). Per split: P1, P2 and MPJVE (mm, means over
  actions as the trainer reports them), each video's P1 averaged (``p1_per_video_mean``)
  and the paired difference per video (:func:`~engine_validation.paired_videos`);
* ``prior_weight_grid``: the per-video mean P1 of ``fixed`` for each ``--grid`` weight (the
  choice of the default weight, session 30);
* ``person2``: the validation person (``benchmarks/real_validation.py``, MediaPipe full,
  lite and heavy, 9 sequences): P-MPJPE and MPJPE over 15 joints (mm), the paired
  difference, and two diagnostics that say what the fit needs: fitted to the reference
  projected through the camera instead of the detections (``fitted_to_reference_2d``), and
  the model's bone directions with her reference's median bone lengths, before and after
  the fit (``her_lengths``, ``her_lengths_fitted``);
* ``seconds``: the fit's time per frame beside the lifting's, on ``fixed``.

    python benchmarks/keypoint_fit.py [--model NAME_OR_PATH ...] [--threads 2]
        [--prior-weight 300] [--grid 0.3 1 ... 10000]
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from engine_validation import fixed_and_varied, paired_videos, per_video_p1  # noqa: E402
from real_validation import (  # noqa: E402
    lift_sequences,
    paired_comparison,
    score_sequences,
    sequence_name,
    validation_person,
)

from anatomy_lib.bones import bones_to_joints, joints_to_bones  # noqa: E402
from anatomy_lib.camera import normalize_screen, project_normalized  # noqa: E402
from anatomy_lib.data.augment import normalized_intrinsics  # noqa: E402
from anatomy_lib.evaluation import (  # noqa: E402
    EvaluationConfig,
    evaluate_dataset,
    score_predictions,
)
from anatomy_lib.keypoint_fit import KeypointFitConfig, fit_to_keypoints  # noqa: E402
from anatomy_lib.skeleton import H36M_17  # noqa: E402
from anatomy_lib.training.engine_data import validation_videos  # noqa: E402

#: The grid of session 30's rule (``anatomy_lib/results/keypoint_fit.json["rules"]``).
PRIOR_WEIGHT_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)


@functools.cache
def engine_splits() -> dict:
    """``fixed``, ``varied`` and ``fixed``'s videos with two measured detector error sizes."""
    errors = {e: validation_videos(detector_errors=e) for e in ("calibrated", "validation_person")}
    return {**fixed_and_varied(), **errors}


def fit_videos(predictions: list, dataset, config: KeypointFitConfig) -> list[torch.Tensor]:
    """Each engine video's lifted 3D fitted to its own 2D (normalised) and camera."""
    return [
        fit_to_keypoints(
            p.double(), s.keypoints_2d, s.scores,
            normalized_intrinsics(s.camera, dtype=torch.float64), config,
        ).joints
        for p, s in zip(predictions, dataset, strict=True)
    ]  # fmt: skip


def video_p1(predictions: list, dataset) -> list[float]:
    """Each engine video's P1 (mm) against its root-relative reference."""
    return per_video_p1(predictions, [s.joints_3d_relative for s in dataset])


def split_row(dataset, lifted: list, fitted: list) -> dict:
    """P1, P2, MPJVE and the per-video P1 of a split, lifted and fitted."""
    row, per_video = {}, {}
    for name, predictions in (("lifted", lifted), ("fitted", fitted)):
        averages = score_predictions(dataset, predictions).averages
        per_video[name] = video_p1(predictions, dataset)
        row[name] = {
            **{k: round(averages[k], 2) for k in ("p1", "p2", "mpjve")},
            "p1_per_video_mean": round(float(np.mean(per_video[name])), 2),
        }
    row["fitted_minus_lifted"] = paired_videos(per_video["lifted"], per_video["fitted"])
    return row


def engine_rows(model, config: KeypointFitConfig, grid: tuple[float, ...]) -> dict:
    """:func:`split_row` for every :func:`engine_splits` split, the grid on ``fixed`` and
    the seconds per frame."""
    rows, seconds = {}, {}
    for split, dataset in engine_splits().items():
        start = time.perf_counter()
        result = evaluate_dataset(
            model, dataset, EvaluationConfig(), progress=False, keep_predictions=True
        )
        lift_s = time.perf_counter() - start
        lifted = [p.double() for p in result.predictions]
        start = time.perf_counter()
        fitted = fit_videos(lifted, dataset, config)
        fit_s = time.perf_counter() - start
        rows[split] = split_row(dataset, lifted, fitted)
        if split == "fixed":
            frames = sum(s.num_frames for s in dataset)
            seconds = {
                "frames": frames,
                "lift_ms_per_frame": round(1000 * lift_s / frames, 3),
                "fit_ms_per_frame": round(1000 * fit_s / frames, 3),
            }
            rows["prior_weight_grid"] = {
                str(w): round(float(np.mean(video_p1(
                    fit_videos(lifted, dataset, replace(config, prior_weight=w)), dataset
                ))), 2)
                for w in grid
            }  # fmt: skip
    return {"engine": rows, "seconds": seconds}


def median_lengths(sequence) -> torch.Tensor:
    """``(B,)`` the reference's median bone lengths over the valid frames."""
    lengths = joints_to_bones(sequence.joints_3d.double(), H36M_17).lengths
    return lengths[sequence.valid].median(0).values


def person_rows(model, config: KeypointFitConfig) -> dict:
    """The validation person's rows of the module docstring."""
    trial = validation_person()
    lifted = lift_sequences(model, trial, 0.0, None)
    ways: dict[str, dict] = {k: {} for k in (
        "fitted", "fitted_to_reference_2d", "her_lengths", "her_lengths_fitted"
    )}  # fmt: skip
    for s in trial:
        name, cam = sequence_name(s), s.camera
        intrinsics = normalized_intrinsics(cam, dtype=torch.float64)
        detected = normalize_screen(s.keypoints_pixels.double(), cam.width, cam.height)
        reference_2d = project_normalized(s.joints_3d.double(), cam, distort=False)
        pred = torch.from_numpy(lifted[name])
        directions = joints_to_bones(pred, H36M_17).directions
        hers = bones_to_joints(median_lengths(s).expand(directions.shape[:-1]), directions, H36M_17)
        for way, joints, keypoints, scores in (
            ("fitted", pred, detected, s.scores),
            ("fitted_to_reference_2d", pred, reference_2d, None),
            ("her_lengths_fitted", hers, detected, s.scores),
        ):
            fit = fit_to_keypoints(joints, keypoints, scores, intrinsics, config)
            ways[way][name] = fit.joints.numpy()
        ways["her_lengths"][name] = hers.numpy()
    lifted_scores = score_sequences(lifted, trial)
    first = lifted_scores["p_mpjpe_15"]["per_sequence"]

    def summary(scores: dict) -> dict:
        return {"p_mpjpe_15": scores["p_mpjpe_15"]["mean"], "mpjpe_15": scores["mpjpe_15"]["mean"]}

    rows = {"sequences": len(trial), "lifted": summary(lifted_scores)}
    for way, predictions in ways.items():
        scores = score_sequences(predictions, trial)
        rows[way] = summary(scores)
        if way == "fitted":
            rows[way]["versus_lifted"] = paired_comparison(
                first, scores["p_mpjpe_15"]["per_sequence"]
            )
    return rows


def main(argv: list[str] | None = None) -> dict:
    def score(model, args) -> dict:
        config = KeypointFitConfig(prior_weight=args.prior_weight)
        return {
            "prior_weight": args.prior_weight,
            **engine_rows(model, config, tuple(args.grid)),
            "person2": person_rows(model, config),
        }

    def add_arguments(parser) -> None:
        parser.add_argument("--prior-weight", type=float, default=KeypointFitConfig.prior_weight,
                            help="the fit's prior weight (default: the library's)")  # fmt: skip
        parser.add_argument("--grid", type=float, nargs="*", default=list(PRIOR_WEIGHT_GRID),
                            help="prior weights tried on the engine's fixed split "
                            "(default: session 30's grid; none: skip)")  # fmt: skip

    return model_report(
        "benchmarks/keypoint_fit.py", __doc__.split("\n\n")[0], score, argv,
        add_arguments=add_arguments,
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""Models on a real validation person: real cameras and detections, not the test data.

Prints one JSON object. The trial is Pose2Sim's two-person demo
(:func:`anatomy_lib.data.load_pose2sim_multiperson`; the same four cameras as the test
trial): per kept (person, camera) sequence, MediaPipe's 2D of that person and, as
reference, MediaPipe's keypoints triangulated from at least three of the four views. Its
video is the test trial's recording with a second person added, so only that person
(``person2``) validates; ``--people all`` adds person 1, the test trial's performer in the
test frames, only to reproduce numbers measured before session 23 found this. Scored per
sequence on its ``valid`` frames (the reference is good and the camera found the person),
with ``benchmarks/real_data.py``'s own P-MPJPE and MPJPE (15 joints, without Human3.6M's
neck/nose and head, and 17):

``--detectors`` picks whose 2D is lifted: MediaPipe's ``full`` model (the default; it also
made the reference) and/or its ``lite`` and ``heavy`` models (more sequences against the
same reference, which shares none of their 2D error but their model family's); with
several, each metric also gives the mean per detector.

* per model: the model on the sequence's MediaPipe 2D, lifted as ``anatomy3d infer`` lifts
  (the library's whole-video inference: test-time flip for one model, none for an ensemble,
  unless ``--flip`` / ``--no-flip``;
  the 3D smoothed over ``--smooth`` seconds, by default the command's
  :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S`, none for a causal model), with the
  camera's intrinsics;
* ``baselines`` (once): the reference projected through the camera and lifted by the first
  model (``perfect_2d``), the person's own mean pose (``constant_mean_pose``), and the 2D
  un-projected at the reference's depth (``detections_at_true_depth``, the floor set by the
  2D).

``headline``: P-MPJPE over 15 joints, the mean over sequences of each sequence's mean.
Every model after the first also gets ``versus_first_model``: its difference to the first,
per person and per (person, camera), with a 95 % interval over the (person, camera) pairs
(:func:`paired_comparison`), which speaks for the people scored only (one by default).
The reference shares part of the input's 2D error (it is triangulated from the same
detector), so the trial ranks models; it is not ground truth. Neither the embedded test
split nor the test trial's files are read.

    python benchmarks/real_validation.py [--model NAME_OR_PATH ...] [--label ...] [--threads 2]
        [--smooth SECONDS] [--flip | --no-flip] [--detectors full lite heavy] [--people all]
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import (  # noqa: E402
    add_flip_option,
    add_pull_option,
    add_roll_option,
    model_report,
)
from real_data import (  # noqa: E402
    JOINTS_15,
    keypoint_pull_for,
    lift,
    mean_pose,
    pose_errors_mm,
    unproject_at_depth,
)

from anatomy_lib.camera import project  # noqa: E402
from anatomy_lib.data import load_pose2sim_multiperson  # noqa: E402
from anatomy_lib.data.pose2sim_multiperson import detector_of  # noqa: E402
from anatomy_lib.data.sequences import PoseSequence  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, uses_flip  # noqa: E402
from anatomy_lib.keypoint_fit import KeypointPull  # noqa: E402
from anatomy_lib.results.ablation import t_interval  # noqa: E402
from anatomy_lib.wild.pipeline import video_roll_views, video_smoothing  # noqa: E402

#: MediaPipe's three pose models, whose 2D of the validation person can be lifted.
DETECTORS = ("full", "lite", "heavy")


@functools.cache
def validation_person() -> list[PoseSequence]:
    """The validation person's sequences with every detector's 2D (:data:`DETECTORS`),
    loaded once per process."""
    return list(load_pose2sim_multiperson(DETECTORS))


def sequence_name(seq: PoseSequence) -> str:
    """``person1/cam01`` (the ``full`` detector's 2D), ``person1/cam01/lite`` (another's)."""
    detector = detector_of(seq)
    return f"{seq.subject}/{seq.camera.id}" + ("" if detector == "full" else f"/{detector}")


def score_sequences(predictions: dict[str, np.ndarray], trial) -> dict:
    """P-MPJPE and MPJPE (15 and 17 joints), mm, per sequence on its valid frames, the mean
    per person, per detector (when there are several) and over sequences, and ``headline``
    (P-MPJPE 15, mean over sequences)."""
    out: dict = {}
    for joints, tag in ((JOINTS_15, "15"), (None, "17")):
        per = {}
        for seq in trial:
            name = sequence_name(seq)
            valid = seq.valid.numpy()
            target = seq.joints_3d.double().numpy()[valid]
            per[name] = pose_errors_mm(predictions[name][valid], target, joints)
        detectors = {sequence_name(seq): detector_of(seq) for seq in trial}
        for metric in ("p_mpjpe", "mpjpe"):
            values = {name: float(e[metric].mean()) for name, e in per.items()}
            people = sorted({name.split("/")[0] for name in values})
            out[f"{metric}_{tag}"] = {
                "mean": round(float(np.mean(list(values.values()))), 2),
                "per_person": {
                    p: round(float(np.mean([v for n, v in values.items() if n.startswith(p)])), 2)
                    for p in people
                },
                "per_sequence": {n: round(v, 2) for n, v in values.items()},
            }
            if len(set(detectors.values())) > 1:
                out[f"{metric}_{tag}"]["per_detector"] = {
                    d: round(float(np.mean([v for n, v in values.items() if detectors[n] == d])), 2)
                    for d in dict.fromkeys(detectors.values())
                }
    out["headline"] = out["p_mpjpe_15"]["mean"]
    return out


def paired_comparison(first: dict[str, float], other: dict[str, float]) -> dict:
    """``other - first`` (per-sequence P-MPJPE 15, mm; negative: ``other`` errs less).

    The sequences of one (person, camera) differ only in their detector's 2D, so they are
    averaged into one difference per (person, camera); the interval is a Student-t one over
    those (95 %). It speaks for the people scored only: the trial has no more.
    """
    clusters: dict[str, list[float]] = {}
    for name, value in other.items():
        clusters.setdefault("/".join(name.split("/")[:2]), []).append(value - first[name])
    per_cluster = {k: float(np.mean(v)) for k, v in clusters.items()}
    mean, low, high = t_interval(list(per_cluster.values()))
    people = sorted({k.split("/")[0] for k in per_cluster})
    return {
        "mean": round(mean, 2),
        "ci95_over_person_cameras": [round(low, 2), round(high, 2)],
        "person_cameras": len(per_cluster),
        "per_person": {
            p: round(
                float(np.mean([v for k, v in per_cluster.items() if k.startswith(p + "/")])), 2
            )
            for p in people
        },
        "per_person_camera": {k: round(v, 2) for k, v in per_cluster.items()},
        "sequences_lower": f"{sum(v < first[n] for n, v in other.items())} of {len(other)}",
    }


def lift_sequences(
    model, trial, smoothing_s: float | None = None, flip: bool | None = None,
    lift_fps: float | str | None = "auto", pull_strength: float | KeypointPull | None = None,
    roll_deg: float | None = None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """:func:`sequence_name` -> ``(T, 17, 3)`` the model's 3D of the sequence's MediaPipe 2D,
    every frame (``smoothing_s``, ``flip``, ``lift_fps``, ``pull_strength``, ``roll_deg``:
    as :func:`lift`; the camera's intrinsics)."""
    predictions = {}
    for seq in trial:
        cam = seq.camera
        pixels = seq.keypoints_pixels.double()
        predictions[sequence_name(seq)] = lift(
            model, pixels, seq.scores, cam.width, cam.height, cam, seq.fps, smoothing_s, flip,
            lift_fps, pull_strength, roll_deg,
        )  # fmt: skip
    return predictions


def model_rows(
    model, trial, smoothing_s: float | None = None, flip: bool | None = None,
    pull_strength: float | KeypointPull | None = None, roll_deg: float | None = None,
) -> dict:  # fmt: skip
    """The model on every sequence's MediaPipe 2D (:func:`lift_sequences`), and the smoothing,
    mirror pass, pull towards the keypoints' rays and turned views used."""
    predictions = lift_sequences(
        model, trial, smoothing_s, flip, pull_strength=pull_strength, roll_deg=roll_deg
    )
    smoothing = video_smoothing(model, smoothing_s)
    mirror = uses_flip(model, EvaluationConfig(flip=flip))
    pull = keypoint_pull_for(model, pull_strength)
    return {
        "smoothing_s": smoothing,
        "flip": mirror,
        "keypoint_pull": None if pull is None else dataclasses.asdict(pull),
        "roll_views_deg": list(video_roll_views(model, roll_deg)),
        **score_sequences(predictions, trial),
    }


def baseline_rows(
    model, trial, smoothing_s: float | None = None, flip: bool | None = None,
    pull_strength: float | None = None, roll_deg: float | None = None,
) -> dict:  # fmt: skip
    """``perfect_2d`` (lifted by ``model``), ``constant_mean_pose`` and
    ``detections_at_true_depth``."""
    perfect, constant, floor = {}, {}, {}
    for seq in trial:
        name, cam = sequence_name(seq), seq.camera
        target = seq.joints_3d.double()
        px = project(target, cam)
        ones = torch.ones(px.shape[:-1])
        perfect[name] = lift(
            model, px, ones, cam.width, cam.height, cam, seq.fps, smoothing_s, flip,
            pull_strength=pull_strength, roll_deg=roll_deg,
        )  # fmt: skip
        valid = seq.valid.numpy()
        shape = mean_pose(target.numpy()[valid])
        constant[name] = np.broadcast_to(shape, target.shape).copy()
        pixels = seq.keypoints_pixels.double().numpy()
        floor[name] = unproject_at_depth(pixels, target.numpy()[..., 2], cam)
    return {
        "perfect_2d": score_sequences(perfect, trial),
        "constant_mean_pose": score_sequences(constant, trial),
        "detections_at_true_depth": score_sequences(floor, trial),
    }


def trial_summary(trial) -> dict:
    return {
        "source": "anatomy_lib.data.load_pose2sim_multiperson (pose2sim 0.10.49 Demo_MultiPerson)",
        "people": list(dict.fromkeys(s.subject for s in trial)),
        "detectors": list(dict.fromkeys(detector_of(s) for s in trial)),
        "sequences": {
            sequence_name(s): {"frames": s.num_frames, "scored": int(s.valid.sum())} for s in trial
        },
    }


def main(argv: list[str] | None = None) -> dict:
    state: dict = {}  # the trial, the first model's baselines and per-sequence errors

    def score(model, args) -> dict:
        if "trial" not in state:
            people = "all" if args.people == "all" else None  # None: the validation person
            state["trial"] = load_pose2sim_multiperson(tuple(args.detectors), people)
        trial = state["trial"]
        if "baselines" not in state:
            state["baselines"] = baseline_rows(
                model, trial, args.smooth, args.flip, args.pull, args.roll
            )
        rows = model_rows(model, trial, args.smooth, args.flip, args.pull, args.roll)
        per_sequence = rows["p_mpjpe_15"]["per_sequence"]
        first_model = state.setdefault("first_per_sequence", per_sequence)
        if first_model is not per_sequence:
            rows["versus_first_model"] = paired_comparison(first_model, per_sequence)
        return rows

    def add_arguments(parser) -> None:
        parser.add_argument("--smooth", type=float, default=None, metavar="SECONDS",
                            help="smoothing of the lifted 3D, seconds (default: as anatomy3d "
                            "infer, none for a causal model)")  # fmt: skip
        add_flip_option(parser)
        add_pull_option(parser, None, "as anatomy3d infer: the pipeline's default, none for "
                        "a causal model")  # fmt: skip
        add_roll_option(parser, None, "as anatomy3d infer: 6 for anatomy_medium, none for "
                        "causal, small or ensembled models")  # fmt: skip
        parser.add_argument("--detectors", nargs="+", default=["full"],
                            choices=list(DETECTORS),
                            help="whose 2D is lifted: MediaPipe's full model (the reference's "
                            "own detector; default) and/or its lite and heavy models")  # fmt: skip
        parser.add_argument("--people", choices=["validation", "all"], default="validation",
                            help="validation: person 2 only (default); all: also person 1, "
                            "the test trial's performer (to reproduce numbers measured "
                            "before session 23)")  # fmt: skip

    report = model_report(
        "benchmarks/real_validation.py", __doc__.split("\n\n")[0], score, argv,
        extra=lambda: {
            "trial": trial_summary(state["trial"]),
            "baselines_lifted_by_first_model": state["baselines"],
        },
        add_arguments=add_arguments,
    )  # fmt: skip
    return report


if __name__ == "__main__":
    main()

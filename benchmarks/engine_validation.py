"""Models on the engine's validation videos: marker joints varied, other detector errors.

Prints one JSON object with, for each model, on eight versions of the engine's validation
split (held-out clips, held-out ANSUR bodies, random cameras and detectors), on the embedded
dataset's training split and on its validation clips (the trainer's protocol: test-time flip
for one model, none for an ensemble, unless ``--flip`` / ``--no-flip``; no smoothing unless
``--smooth``):

* ``fixed``: :func:`~anatomy_lib.training.engine_data.validation_videos`, the trainer's
  validation: every body keeps the ANSUR table's spine, neck/nose and head;
* ``varied``: ``validation_videos(joint_definitions="varied")``: the same clips and bodies,
  each body with its own definition of those three joints
  (:class:`~anatomy_lib.data.bodies.MarkerJointRanges`); the draws shift the generator, so
  cameras and detector noise are drawn anew too;
* ``varied_thorax``: ``validation_videos(joint_definitions="varied_thorax")``: as ``varied``,
  and each body's thorax (with the spine) lowered by its own drawn fraction of the trunk
  (``MarkerJointRanges.including_thorax()``): the same motion and bodies, new cameras;
* ``coco_spread``: ``validation_videos(detector_noise="coco_spread")``: ``fixed``'s videos,
  cameras and draws, each joint's simulated detector noise scaled by COCO's keypoint spread
  (:func:`~anatomy_lib.data.detector_errors.joint_noise_scale`: hips noisier, nose and
  wrists less; the same total);
* ``calibrated``: ``validation_videos(detector_errors="calibrated")``: ``fixed``'s videos,
  cameras and draws with the error sizes measured on real MediaPipe
  (:data:`~anatomy_lib.data.detector_errors.CALIBRATED_ERRORS`: less white noise, a larger
  and slower drift, more gross errors), the split on which runs trained with
  ``data.engine_detector_errors=calibrated`` meet the errors they were trained on;
* ``occluded_fixed`` / ``occluded_varied``: ``validation_videos(joint_definitions=...,
  detector_errors="validation_person", occluded_noise="all")``: ``fixed``'s and
  ``varied``'s videos, cameras and draws, detected with the validation person's error sizes
  and occlusion enlarging the whole error, drift included (so that, as on real MediaPipe, a
  low score means a worse keypoint: ``benchmarks/detector_calibration.py``'s ``by_score``);
* ``embedded_train``: not the engine's: the embedded dataset's *training* split (the
  training sources' ClimberA and DeepMimic motion, the four Human3.6M cameras, the dataset's
  own simulated detections), by the library's protocol;
* ``embedded_validation``: the part of ``embedded_train`` made of the engine's validation
  clips (:data:`~anatomy_lib.data.engine.VALIDATION_CLIPS`: 4 clips x 4 cameras), which a
  run trained with ``data.dataset=embedded data.held_out_clips=engine_validation`` has not
  seen either;
* ``h36m_rendered``: :func:`~anatomy_lib.training.engine_data.validation_videos_h36m`: the
  first 32 of ``fixed``'s videos (held-out clips on held-out ANSUR bodies) rendered as the
  embedded dataset renders its clips (the four Human3.6M cameras of a subject it does not
  use, its simulated detector): the embedded test split's conditions, new bodies included,
  without its subjects (``embedded_validation`` shares its bodies with the training split).

Per split: Protocols 1 and 2 (mm, the mean over the action columns, as the trainer reports
them) and the mean joint error (MPJPE, mm, over all frames) of the *limb* joints (hips, knees,
ankles, shoulders, elbows, wrists) and of the *marker* joints (spine, thorax, neck/nose, head).
Every model after the first also gets ``versus_first_model``: per split, its difference to
the first model in each video's P1, with a 95 % interval over the videos
(:func:`paired_videos`). Neither the embedded test split nor the Pose2Sim trial is read.

    python benchmarks/engine_validation.py [--model NAME_OR_PATH ...] [--label ...] [--threads 2]
        [--smooth SECONDS] [--flip | --no-flip]
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

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

from anatomy_lib.data.embedded import load_default_dataset  # noqa: E402
from anatomy_lib.data.engine import VALIDATION_CLIPS  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset, uses_flip  # noqa: E402
from anatomy_lib.keypoint_fit import KeypointPull  # noqa: E402
from anatomy_lib.metrics import mpjpe  # noqa: E402
from anatomy_lib.results.ablation import t_interval  # noqa: E402
from anatomy_lib.skeleton import H36M_17, Skeleton  # noqa: E402
from anatomy_lib.training.engine_data import (  # noqa: E402
    validation_videos,
    validation_videos_h36m,
)
from anatomy_lib.wild.pipeline import video_keypoint_pull, video_roll_views  # noqa: E402

#: The joints whose place each dataset defines by its own markers (``MarkerJointRanges``).
MARKER_JOINTS = ("spine", "thorax", "neck_nose", "head")


def joint_groups(skeleton: Skeleton = H36M_17) -> dict[str, list[int]]:
    """``{"limbs": [...], "marker": [...]}``: joint indices of the two groups (the root,
    at zero error by construction, in neither)."""
    marker = [skeleton.joint_index(n) for n in MARKER_JOINTS]
    limbs = [j for j in range(skeleton.num_joints) if j not in marker and j != skeleton.root]
    return {"limbs": limbs, "marker": marker}


def group_errors(
    predictions: list[torch.Tensor], targets: list[torch.Tensor], skeleton: Skeleton = H36M_17
) -> dict[str, float]:
    """Mean joint error (mm) of each :func:`joint_groups` group over every frame.

    Args:
        predictions, targets: per video ``(T, J, 3)`` root-relative joints, metres.
    """
    error = torch.cat(
        [(p.double() - t.double()).norm(dim=-1) for p, t in zip(predictions, targets, strict=True)]
    )  # (frames, J)
    return {name: round(1000 * float(error[:, idx].mean()), 1)
            for name, idx in joint_groups(skeleton).items()}  # fmt: skip


def per_video_p1(predictions: list[torch.Tensor], targets: list[torch.Tensor]) -> list[float]:
    """Each video's P1 (mm) from its ``(T, J, 3)`` root-relative prediction and target."""
    return [
        1000 * float(mpjpe(p.double(), t.double()))
        for p, t in zip(predictions, targets, strict=True)
    ]


def split_errors(
    model, dataset, smoothing_s: float = 0.0, flip: bool | None = None,
    lift_fps: float | str | None = None, keypoint_pull: KeypointPull | None = None,
    roll_views_deg: tuple[float, ...] = (),
) -> tuple[dict, list[float]]:  # fmt: skip
    """P1, P2 and the group errors of ``model`` on one validation split (the 3D smoothed
    over ``smoothing_s`` seconds; 0, the trainer's protocol, does not; the mirror pass as
    ``flip`` says, None: for one model, not for an ensemble; lifted at ``lift_fps``, None:
    the videos' rate, :mod:`anatomy_lib.frame_rate`; pulled towards the keypoints' rays by
    ``keypoint_pull``, None: not; with the turned views ``roll_views_deg``, ``()``: none),
    and each video's own P1 (mm) for :func:`paired_videos`."""
    protocol = EvaluationConfig(
        flip=flip, smoothing_s=smoothing_s, lift_fps=lift_fps, keypoint_pull=keypoint_pull,
        roll_views_deg=roll_views_deg,
    )  # fmt: skip
    result = evaluate_dataset(model, dataset, protocol, progress=False, keep_predictions=True)
    seqs = [s for s in dataset if s.joints_3d is not None]
    targets = [s.joints_3d_relative for s in seqs]
    per_video = per_video_p1(result.predictions, targets)
    row = {
        "videos": len(seqs),
        "p1": round(result.averages["p1"], 2),
        "p2": round(result.averages["p2"], 2),
        **{f"mpjpe_{k}": v for k, v in group_errors(result.predictions, targets).items()},
    }
    return row, per_video


@functools.cache
def fixed_and_varied() -> dict:
    """The ``fixed`` and ``varied`` validation splits (:func:`validation_videos`), built once
    per process."""
    return {d: validation_videos(joint_definitions=d) for d in ("fixed", "varied")}


def paired_videos(first: list[float], other: list[float]) -> dict:
    """``other - first``, each video's P1 (mm) paired: the mean, a 95 % Student-t interval
    over the videos (each its own clip, body, camera and detector draw) and how many
    videos ``other`` lifts better. Every video weighs the same here, while the split's
    ``p1`` is a mean over actions, so the mean differs a little from the two ``p1``'s
    difference."""
    differences = [b - a for a, b in zip(first, other, strict=True)]
    mean, low, high = t_interval(differences)
    return {
        "mean": round(mean, 2),
        "ci95_over_videos": [round(low, 2), round(high, 2)],
        "videos_lower": f"{sum(d < 0 for d in differences)} of {len(differences)}",
    }


@functools.cache
def validation_splits() -> dict:
    """Every split the module docstring lists, by name, built once per process."""
    return {
        **fixed_and_varied(),
        "varied_thorax": validation_videos(joint_definitions="varied_thorax"),
        "coco_spread": validation_videos(detector_noise="coco_spread"),
        "calibrated": validation_videos(detector_errors="calibrated"),
        **{
            f"occluded_{d}": validation_videos(
                joint_definitions=d,
                detector_errors="validation_person",
                occluded_noise="all",
            )
            for d in ("fixed", "varied")
        },
        "embedded_train": load_default_dataset().split("train"),
        "embedded_validation": load_default_dataset().select_clips(VALIDATION_CLIPS),
        "h36m_rendered": validation_videos_h36m(),
    }


def main(argv: list[str] | None = None) -> None:
    def add_arguments(parser) -> None:
        parser.add_argument("--smooth", type=float, default=0.0, metavar="SECONDS",
                            help="smooth the lifted 3D over time, seconds (default 0: the "
                            "trainer's protocol, and anatomy3d infer's default)")  # fmt: skip
        add_flip_option(parser)
        add_pull_option(parser, 0.0, "0, none: the trainer's protocol")
        add_roll_option(parser, 0.0, "0, none: the trainer's protocol")

    first_model: dict[str, list[float]] = {}  # each split's per-video P1 of the first model

    def score(model, args) -> dict:
        rows, per_video = {}, {}
        pull = video_keypoint_pull(model, args.pull)
        views = video_roll_views(model, args.roll)
        for name, data in validation_splits().items():
            rows[name], per_video[name] = split_errors(
                model, data, args.smooth, args.flip, keypoint_pull=pull, roll_views_deg=views
            )
        mirror = uses_flip(model, EvaluationConfig(flip=args.flip))
        report = {"smoothing_s": args.smooth, "flip": mirror, **rows}
        if pull is not None:
            report["keypoint_pull"] = dataclasses.asdict(pull)
        if views:
            report["roll_views_deg"] = list(views)
        if first_model:
            report["versus_first_model"] = {
                name: paired_videos(first_model[name], videos) for name, videos in per_video.items()
            }
        else:
            first_model.update(per_video)
        return report

    model_report(
        "benchmarks/engine_validation.py", __doc__.split("\n\n")[0], score, argv,
        add_arguments=add_arguments,
    )  # fmt: skip


if __name__ == "__main__":
    main()

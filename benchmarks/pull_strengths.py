"""Per-joint pull strengths, fitted on the engine's validation videos, scored on validation.

Prints one JSON object. For each model:

* ``estimates``: on each ``--estimate-on`` split of ``benchmarks/engine_validation.py``
  (:func:`engine_validation.validation_splits`), every video lifted without a pull (the
  trainer's protocol) and placed on its detections' rays
  (:func:`~anatomy_lib.keypoint_fit.root_translation`, as the pull places it); per joint,
  the RMS distance of the network's and of the detector's pinhole image points to the
  truth's (``rms_network``, ``rms_detector``) and the strength that brings the network's
  points closest to the truth's (:func:`~anatomy_lib.keypoint_fit.least_squares_strengths`,
  score-weighted as the pull is), and one strength for all joints but the root (``global``);
* ``strengths``: the mean of the splits' per-joint strengths, by joint name;
* ``validation_person`` and ``engine``: the default pull
  (:func:`~anatomy_lib.wild.pipeline.video_keypoint_pull` of
  :data:`~anatomy_lib.keypoint_fit.VIDEO_KEYPOINT_PULL`'s strength: for a causal model, each
  frame on its own, :func:`default_pulls`) against the same pull with
  ``strengths`` per joint: the validation person's P-MPJPE (15 joints, her nine sequences,
  as ``benchmarks/real_validation.py --detectors full lite heavy --smooth 0`` prints it)
  with the per-camera paired comparison, and every engine split's P1 and P2 with the
  per-video paired comparison (``engine_validation.py --pull 0.5``'s protocol);
* ``by_group``: the default pull with one :data:`JOINT_GROUPS` group at its fitted strengths,
  the others at the default's: the validation person's P-MPJPE and the fitted splits' P1.

Validation data only: neither the embedded test split nor the Pose2Sim test trial is read.
The strengths are the least-squares answer for the *2D* error; P-MPJPE is a 3D error after a
rigid alignment, so they need not lower it (session 38 found they do on the engine's
simulated detectors and do not on the validation person's real ones).

    python benchmarks/pull_strengths.py [--model NAME_OR_PATH] [--threads 2]
        [--estimate-on fixed calibrated occluded_fixed]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from engine_validation import paired_videos, split_errors, validation_splits  # noqa: E402
from real_validation import (  # noqa: E402
    DETECTORS,
    model_rows,
    paired_comparison,
    validation_person,
)

from anatomy_lib.data.augment import normalized_intrinsics  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, predict_sequence  # noqa: E402
from anatomy_lib.keypoint_fit import (  # noqa: E402
    VIDEO_KEYPOINT_PULL,
    KeypointPull,
    least_squares_strengths,
    root_translation,
)
from anatomy_lib.ray_frame import pixel_rays  # noqa: E402
from anatomy_lib.wild.pipeline import video_keypoint_pull  # noqa: E402

#: Joint groups that ``by_group`` gives their fitted strengths one at a time (the others 0.5).
JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "hips": ("pelvis", "right_hip", "left_hip"),
    "knees": ("right_knee", "left_knee"),
    "ankles": ("right_ankle", "left_ankle"),
    "torso": ("spine", "thorax", "neck_nose", "head"),
    "shoulders": ("left_shoulder", "right_shoulder"),
    "elbows": ("left_elbow", "right_elbow"),
    "wrists": ("left_wrist", "right_wrist"),
}

#: The engine splits the strengths are fitted on by default: the trainer's validation and
#: the two sized on real MediaPipe (``engine_validation.py`` describes each).
ESTIMATE_ON = ("fixed", "calibrated", "occluded_fixed")


def image_points(model, seq) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(network, detected, true, scores)`` of one video: ``(T, J, 2)`` pinhole image
    points (x / z, y / z) of the model's joints placed on the detections' rays, of the
    detections and of the true joints, and ``(T, J)`` scores; frames that cannot be placed
    are left out."""
    intrinsics = normalized_intrinsics(seq.camera, dtype=torch.float64)
    joints = predict_sequence(
        model, seq.keypoints_2d, seq.scores, EvaluationConfig(), intrinsics.float()
    ).double()
    keypoints = seq.keypoints_2d.double()
    scores = torch.ones(keypoints.shape[:-1], dtype=torch.float64)
    if seq.scores is not None:
        scores = seq.scores.double()
    placed = joints + root_translation(joints, keypoints, scores, intrinsics).unsqueeze(-2)
    truth = seq.joints_3d.double()
    ok = torch.isfinite(placed).all(-1).all(-1)
    detected = pixel_rays(keypoints, intrinsics)[..., :2]
    return (
        (placed[..., :2] / placed[..., 2:])[ok],
        detected[ok],
        (truth[..., :2] / truth[..., 2:])[ok],
        scores[ok],
    )


def split_estimate(model, dataset) -> dict:
    """The ``estimates`` entry of one split (module docstring)."""
    network, detected, true, scores = (
        torch.cat(parts)
        for parts in zip(*(image_points(model, seq) for seq in dataset), strict=True)
    )
    rms = {
        "rms_network": ((network - true) ** 2).sum(-1).mean(0).sqrt(),
        "rms_detector": ((detected - true) ** 2).sum(-1).mean(0).sqrt(),
    }
    root = dataset.skeleton.root
    others = [j for j in range(dataset.skeleton.num_joints) if j != root]
    pooled = least_squares_strengths(
        network[:, others].reshape(-1, 1, 2), detected[:, others].reshape(-1, 1, 2),
        true[:, others].reshape(-1, 1, 2), scores[:, others].reshape(-1, 1),
    )  # fmt: skip
    return {
        "frames": int(network.shape[0]),
        "strengths": least_squares_strengths(network, detected, true, scores).tolist(),
        "global": round(float(pooled[0]), 3),
        **{k: [round(float(v), 4) for v in value] for k, value in rms.items()},
    }


def default_pulls(model, strengths: tuple[float, ...]) -> tuple[KeypointPull, KeypointPull]:
    """``(default, per_joint)``: the pull ``anatomy3d infer --pull`` gives ``model`` at the
    default's strength (a causal model's is neither smoothed nor given the video's lengths),
    and the same pull with ``strengths``, one per joint."""
    default = video_keypoint_pull(model, VIDEO_KEYPOINT_PULL.strength)
    return default, dataclasses.replace(default, strength=strengths)


def main(argv: list[str] | None = None) -> dict:
    def add_arguments(parser) -> None:
        parser.add_argument("--estimate-on", nargs="+", default=list(ESTIMATE_ON),
                            choices=["fixed", "varied", "varied_thorax", "coco_spread",
                                     "calibrated", "occluded_fixed", "occluded_varied"],
                            help="the engine splits the strengths are fitted on (default: "
                            f"{' '.join(ESTIMATE_ON)})")  # fmt: skip

    def score(model, args) -> dict:
        splits = validation_splits()
        estimates = {name: split_estimate(model, splits[name]) for name in args.estimate_on}
        mean = torch.tensor([e["strengths"] for e in estimates.values()]).mean(0)
        strengths = tuple(round(float(v), 3) for v in mean)
        for entry in estimates.values():
            entry["strengths"] = [round(v, 3) for v in entry["strengths"]]
        default, per_joint = default_pulls(model, strengths)
        names = splits["fixed"].skeleton.joint_names
        trial = validation_person()
        her = {
            label: model_rows(model, trial, 0.0, None, pull)
            for label, pull in (("default", default), ("per_joint", per_joint))
        }
        engine, paired = {}, {}
        for name, data in splits.items():
            rows = {
                label: split_errors(model, data, 0.0, None, keypoint_pull=pull)
                for label, pull in (("default", default), ("per_joint", per_joint))
            }
            engine[name] = {
                label: {k: row[k] for k in ("p1", "p2")} for label, (row, _) in rows.items()
            }
            paired[name] = paired_videos(rows["default"][1], rows["per_joint"][1])
        by_group = {}
        for group, joints in JOINT_GROUPS.items():
            mixed = tuple(
                v if n in joints else default.strength
                for n, v in zip(names, strengths, strict=True)
            )
            pull = dataclasses.replace(default, strength=mixed)
            by_group[group] = {
                "validation_person": model_rows(model, trial, 0.0, None, pull)["headline"],
                **{
                    name: split_errors(model, splits[name], 0.0, None, keypoint_pull=pull)[0]["p1"]
                    for name in args.estimate_on
                },
            }
        return {
            "estimates": estimates,
            "strengths": dict(zip(names, strengths, strict=True)),
            "pulls": {
                "default": dataclasses.asdict(default),
                "per_joint": dataclasses.asdict(per_joint),
            },
            "validation_person": {
                "detectors": list(DETECTORS),
                **{label: rows["headline"] for label, rows in her.items()},
                "per_joint_versus_default": paired_comparison(
                    her["default"]["p_mpjpe_15"]["per_sequence"],
                    her["per_joint"]["p_mpjpe_15"]["per_sequence"],
                ),
            },
            "engine": {
                name: {**engine[name], "per_joint_versus_default": paired[name]} for name in splits
            },
            "by_group": by_group,
        }

    return model_report(
        "benchmarks/pull_strengths.py", __doc__.split("\n\n")[0], score, argv,
        add_arguments=add_arguments,
    )  # fmt: skip


if __name__ == "__main__":
    main()

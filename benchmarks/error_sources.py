"""Where a model's 3D error lies: in its bone lengths or its bone directions, and in which bones.

The anatomy-aware model predicts bone directions and bone lengths and joins them by Eq. 1
(:mod:`anatomy_lib.bones`). This script splits each lifted video the same way, puts the
reference's part in place of the model's and re-assembles the joints
(:func:`with_true_parts`). The error left is what the other part costs; the drop is the
most any better estimate of the replaced part could give:

* ``as_lifted``: the model's 3D (re-assembled, so with its root at the origin);
* ``true_lengths_per_frame``: the reference's bone lengths, frame by frame;
* ``true_lengths_median``: its median lengths over the video, one skeleton per video as the
  model itself predicts;
* ``true_proportions``: that skeleton scaled to the model's size (the lengths' sum, frame by
  frame): the true proportions without the true size, which one camera cannot see;
* ``true_directions``: every bone's true direction, the model's lengths;
* ``one_true_direction``: each bone's true direction alone, as the change of the error
  (mm; negative: that bone's direction costs the error), most costly first, the bone named
  ``parent>child``.

Validation data only: the engine's validation videos (``engine_fixed``, 50 fps, root-relative
P1 and P2 per video, their mean) and the validation person (``person2``, Pose2Sim's two-person
demo with MediaPipe's full, lite and heavy 2D, 9 sequences: P-MPJPE and MPJPE over 15
joints as :mod:`real_validation` scores them). The model lifts as ``anatomy3d infer`` does
(mirror pass, no smoothing). Neither the embedded test split nor the test trial is read.

    python benchmarks/error_sources.py [--model NAME_OR_PATH ...] [--threads 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from engine_validation import fixed_and_varied  # noqa: E402
from real_validation import (  # noqa: E402
    lift_sequences,
    score_sequences,
    sequence_name,
    validation_person,
)

from anatomy_lib.bones import bones_to_joints, joints_to_bones  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.metrics import mpjpe, p_mpjpe  # noqa: E402
from anatomy_lib.skeleton import H36M_17, Skeleton  # noqa: E402


def with_true_parts(
    pred: torch.Tensor,
    true: torch.Tensor,
    lengths: str | None = None,
    directions: str | int | None = None,
    valid: torch.Tensor | None = None,
    skeleton: Skeleton = H36M_17,
) -> torch.Tensor:
    """``pred``'s joints with parts of ``true``'s bones put in, re-assembled by Eq. 1 with
    the root at the origin: ``(T, J, 3), (T, J, 3) -> (T, J, 3)``.

    Args:
        pred, true: a video's predicted and reference joints.
        lengths: ``"frame"`` (each frame's true bone lengths), ``"median"`` (their median
            over ``valid`` frames, the same for every frame), ``"proportions"`` (that median
            skeleton scaled to the model's size: in each frame its lengths sum to the
            model's) or None (the model's).
        directions: ``"all"`` (every bone's true direction), a bone index (that bone's
            only) or None (the model's).
        valid: ``(T,)`` frames with a reference (default all).
    """
    p, t = joints_to_bones(pred, skeleton), joints_to_bones(true, skeleton)
    bone_lengths, bone_directions = p.lengths, p.directions
    if lengths == "frame":
        bone_lengths = t.lengths
    elif lengths in ("median", "proportions"):
        kept = t.lengths if valid is None else t.lengths[valid]
        bone_lengths = kept.median(0).values.expand_as(t.lengths)
        if lengths == "proportions":
            size = p.lengths.sum(-1, keepdim=True) / bone_lengths.sum(-1, keepdim=True)
            bone_lengths = bone_lengths * size
    elif lengths is not None:
        raise ValueError(
            f"lengths: expected 'frame', 'median', 'proportions' or None, got {lengths!r}"
        )
    if directions == "all":
        bone_directions = t.directions
    elif isinstance(directions, int):
        bone_directions = p.directions.clone()
        bone_directions[..., directions, :] = t.directions[..., directions, :]
    elif directions is not None:
        raise ValueError(f"directions: expected 'all', a bone index or None, got {directions!r}")
    return bones_to_joints(bone_lengths, bone_directions, skeleton)


def bone_name(bone: int, skeleton: Skeleton = H36M_17) -> str:
    """``parent>child``: the joints a bone joins."""
    child = skeleton.bone_children[bone]
    return f"{skeleton.joint_names[skeleton.parents[child]]}>{skeleton.joint_names[child]}"


#: The swaps of a row: its name, then :func:`with_true_parts`' ``lengths`` and ``directions``.
SWAPS = (
    ("as_lifted", None, None),
    ("true_lengths_per_frame", "frame", None),
    ("true_lengths_median", "median", None),
    ("true_proportions", "proportions", None),
    ("true_directions", None, "all"),
)


def error_rows(swapped, score) -> dict:
    """The rows of the module docstring. ``swapped(lengths, directions)`` gives every video's
    re-assembled joints; ``score(joints)`` their errors ``{metric: mm}``, the first metric
    the one ``one_true_direction`` reports."""
    rows = {name: score(swapped(lengths, directions)) for name, lengths, directions in SWAPS}
    first = next(iter(rows["as_lifted"]))
    changes = {
        bone_name(b): round(score(swapped(None, b))[first] - rows["as_lifted"][first], 2)
        for b in range(H36M_17.num_bones)
    }
    rows["one_true_direction"] = dict(sorted(changes.items(), key=lambda item: item[1]))
    rows["one_true_direction_metric"] = first
    return rows


def engine_rows(model, dataset) -> dict:
    """:func:`error_rows` on the engine's videos: P1 and P2 (mm, the mean over videos)."""
    result = evaluate_dataset(
        model, dataset, EvaluationConfig(), progress=False, keep_predictions=True
    )
    truths = [s.joints_3d_relative.double() for s in dataset]
    lifted = [p.double() for p in result.predictions]

    def swapped(lengths, directions):
        pairs = zip(lifted, truths, strict=True)
        return [with_true_parts(p, t, lengths, directions) for p, t in pairs]

    def score(joints) -> dict:
        pairs = list(zip(joints, truths, strict=True))
        return {
            name: round(float(np.mean([1000 * float(metric(p, t)) for p, t in pairs])), 2)
            for name, metric in (("p1", mpjpe), ("p2", p_mpjpe))
        }

    return {"videos": len(truths), **error_rows(swapped, score)}


def person_rows(model, trial: list) -> dict:
    """:func:`error_rows` on the validation person: P-MPJPE and MPJPE over 15 joints (mm, the
    mean over the sequences)."""
    lifted = lift_sequences(model, trial, 0.0, None)
    parts = {sequence_name(s): (torch.from_numpy(lifted[sequence_name(s)]), s) for s in trial}

    def swapped(lengths, directions):
        return {
            name: with_true_parts(
                p, s.joints_3d.double(), lengths, directions, valid=s.valid
            ).numpy()
            for name, (p, s) in parts.items()
        }  # fmt: skip

    def score(joints) -> dict:
        scores = score_sequences(joints, trial)
        return {"p_mpjpe_15": scores["p_mpjpe_15"]["mean"], "mpjpe_15": scores["mpjpe_15"]["mean"]}

    return {"sequences": len(trial), **error_rows(swapped, score)}


def main(argv: list[str] | None = None) -> dict:
    def score(model, args) -> dict:
        return {
            "engine_fixed": engine_rows(model, fixed_and_varied()["fixed"]),
            "person2": person_rows(model, validation_person()),
        }

    return model_report("benchmarks/error_sources.py", __doc__.split("\n\n")[0], score, argv)


if __name__ == "__main__":
    main()

"""How much of a model's error is the body's turn in camera space, and how it follows the
person's position in the image.

For each model and dataset, every frame's prediction is aligned to the truth by the best
rotation (the rotation of :func:`anatomy_lib.metrics.procrustes_align`); the JSON gives

* ``p1``, ``p2`` (mm, mean over frames; the trainer's protocol averages over actions instead);
* ``p1_after_rotation``: Protocol 1 after that rotation alone (root-relative, no scale): what
  a perfect global orientation would leave;
* ``rotation_deg``: the mean angle of that rotation;
* ``mean_rotation_deg``, ``rotation_sd_deg``: the mean and standard deviation over frames of
  its rotation vector's components about the camera's x (pitch), y (yaw) and z (roll) axes,
  in degrees: a mean away from 0 is a turn the model makes on every frame, a large SD a turn
  that changes from frame to frame;
* ``mean_rotation_deg_per_video`` (the datasets of :data:`PER_VIDEO`, a few videos each):
  that mean for each video (``subject/action/camera``): a turn of the same sign about the
  vertical axis in every camera is the body's, one that changes with the camera is the
  camera's;
* ``slope_yaw``, ``slope_pitch``: least-squares slopes of the rotation about the camera's y
  (x) axis against the horizontal (vertical) angle between the optical axis and the true
  root ray, over frames. A model that turns the body with the ray has slopes near 0; one
  that ignores where the person is in the image has slopes near +-1 (the body is then
  wrong by the whole ray angle).

Datasets: the engine's validation videos (virtual cameras, held-out clips and bodies), the
embedded test split (Human3.6M-like cameras, CMU01 and ClimberB) and the Pose2Sim trial
(real OpenPose 2D). Every model is run as :func:`anatomy_lib.evaluation.evaluate_dataset`
runs it (test-time flip; the sequences' own cameras for models that predict in the ray
frame, :mod:`anatomy_lib.ray_frame`).

    python benchmarks/orientation_errors.py [--model NAME_OR_PATH ...] [--threads 2]
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402

from anatomy_lib.data import load_default_dataset, load_pose2sim_trial  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset, output_frame  # noqa: E402
from anatomy_lib.metrics import procrustes_align  # noqa: E402
from anatomy_lib.training.engine_data import validation_videos  # noqa: E402

#: The camera axes of the rotation vectors' components.
AXES = ("pitch_x", "yaw_y", "roll_z")

#: Datasets of a few videos each, whose turn is also reported per video.
PER_VIDEO = ("embedded_test", "pose2sim_trial")

DATASETS = {
    "engine_validation": lambda: validation_videos(),
    "embedded_test": lambda: load_default_dataset().split("test"),
    "pose2sim_trial": load_pose2sim_trial,
}


def _rotation_about_axes(rotation: torch.Tensor) -> torch.Tensor:
    """``(N, 3, 3)`` rotations acting on row vectors -> ``(N, 3)`` rotation vectors (degrees)
    of the same rotations acting on column vectors (``R^T``)."""
    r = rotation.transpose(-1, -2)
    angle = torch.arccos(((r.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1))
    axis = torch.stack(
        [r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0], r[:, 1, 0] - r[:, 0, 1]], -1
    )
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.rad2deg(angle).unsqueeze(-1) * axis


def _per_axis(values: torch.Tensor) -> dict[str, float]:
    """``(3,)`` degrees -> ``{axis name: value}`` rounded to 0.1 degree."""
    return {axis: round(float(v), 1) for axis, v in zip(AXES, values, strict=True)}


def _slope(x: torch.Tensor, y: torch.Tensor) -> float:
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / x.square().sum())


def orientation_errors(model, dataset, per_video: bool = False) -> dict:
    """The quantities of the module docstring for one model on one dataset
    (``mean_rotation_deg_per_video`` with ``per_video``)."""
    result = evaluate_dataset(model, dataset, EvaluationConfig(), progress=False,
                              keep_predictions=True)  # fmt: skip
    seqs = [s for s in dataset if s.joints_3d is not None]
    pred = torch.cat([p.double() for p in result.predictions])
    target = torch.cat([s.joints_3d_relative.double() for s in seqs])
    root = torch.cat([s.joints_3d[:, s.skeleton.root].double() for s in seqs])
    aligned = procrustes_align(pred, target)
    centred = pred - pred.mean(-2, keepdim=True)
    turned = centred @ aligned.rotation + target.mean(-2, keepdim=True)
    axes = _rotation_about_axes(aligned.rotation)
    horizontal = torch.rad2deg(torch.atan2(root[:, 0], root[:, 2]))
    vertical = torch.rad2deg(torch.atan2(root[:, 1], root[:, 2]))

    def mm(a: torch.Tensor) -> float:
        return round(1000 * float((a - target).norm(dim=-1).mean()), 1)

    videos = {}
    if per_video:
        chunks = axes.split([s.num_frames for s in seqs])
        for seq, chunk in zip(seqs, chunks, strict=True):
            camera = seq.camera.id if seq.camera is not None else "?"
            videos[f"{seq.subject}/{seq.action}/{camera}"] = _per_axis(chunk.mean(0))
    return {
        "frames": int(pred.shape[0]),
        "p1": mm(pred),
        "p2": mm(aligned.aligned),
        "p1_after_rotation": mm(turned),
        "rotation_deg": round(float(axes.norm(dim=-1).mean()), 1),
        "mean_rotation_deg": _per_axis(axes.mean(0)),
        "rotation_sd_deg": _per_axis(axes.std(0)),
        **({"mean_rotation_deg_per_video": videos} if per_video else {}),
        "slope_yaw": round(_slope(horizontal, axes[:, 1]), 2),
        "slope_pitch": round(_slope(vertical, axes[:, 0]), 2),
        "ray_angle_sd_deg": {
            "horizontal": round(float(horizontal.std()), 1),
            "vertical": round(float(vertical.std()), 1),
        },
    }


def main(argv: list[str] | None = None) -> None:
    data = functools.cache(lambda: {name: load() for name, load in DATASETS.items()})
    model_report(
        "benchmarks/orientation_errors.py",
        __doc__.split("\n\n")[0],
        lambda model, _args: {
            "output_frame": output_frame(model),
            **{
                name: orientation_errors(model, d, per_video=name in PER_VIDEO)
                for name, d in data().items()
            },
        },
        argv,
    )


if __name__ == "__main__":
    main()

"""What knowing the person's height is worth: lifted 3D scaled to a stature (``--stature``).

Prints one JSON object:

* ``fit``: the proportion stature / standing chain of :mod:`anatomy_lib.stature`, fitted on
  the ANSUR II training bodies, and its error on the held-out bodies (from their table bone
  lengths: the fit's own error; the table's neck and head bones are themselves fractions
  of stature, so this is a lower bound of the error on real skeletons).
* per model, on the engine's validation splits (``fixed``: the trainer's; ``varied``: the
  spine, neck/nose and head joints drawn per body; held-out clips and bodies,
  :func:`~anatomy_lib.training.engine_data.validation_videos`) and on the real validation
  person (``person2``: Pose2Sim's two-person demo, MediaPipe's full, lite and heavy 2D,
  :func:`~anatomy_lib.data.load_pose2sim_multiperson`), each video's MPJPE (mm, root-relative,
  no alignment; the person's 15 joints without neck/nose and head, all 17 on the engine):

  - ``as_lifted``: the model's own size (a typical adult's);
  - ``scaled_to_stature``: scaled to the height of the reference skeleton as the same fit
    reads it (what a user who gives the person's height gets, up to the fit's error);
  - ``best_scale``: scaled by the least-squares factor of each video (about the best any
    one factor per video can do);
  - ``height_error``: the model's own height estimate against the reference's (mean
    absolute, centimetres and percent), and ``mean_height_m`` of both.

Neither the embedded test split nor the test trial is read.

    python benchmarks/stature.py [--model NAME_OR_PATH ...] [--threads 2]
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
from real_data import JOINTS_15  # noqa: E402
from real_validation import lift_sequences, validation_person  # noqa: E402

from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.stature import estimate_stature, scale_to_stature, stature_fit  # noqa: E402


def scaling_rows(
    predictions: list[torch.Tensor], targets: list[torch.Tensor], joints: list[int] | None = None
) -> dict:
    """The four rows of the module docstring over videos of ``(T, 17, 3)`` root-relative
    predictions and references (metres); errors over ``joints`` (default all)."""
    sel = slice(None) if joints is None else joints
    rows: dict[str, list[float]] = {"as_lifted": [], "scaled_to_stature": [], "best_scale": []}
    height_cm, height_pct, heights = [], [], {"reference": [], "lifted": []}
    for pred, target in zip(predictions, targets, strict=True):
        p, t = pred.double(), target.double()
        p, t = p - p[:, :1], t - t[:, :1]
        stature = estimate_stature(t)
        best = float((p[:, sel] * t[:, sel]).sum() / (p[:, sel] * p[:, sel]).sum())
        for name, q in (
            ("as_lifted", p),
            ("scaled_to_stature", scale_to_stature(p, stature)),
            ("best_scale", p * best),
        ):
            rows[name].append(1000 * float((q[:, sel] - t[:, sel]).norm(dim=-1).mean()))
        own = estimate_stature(p)
        heights["reference"].append(float(stature))
        heights["lifted"].append(float(own))
        height_cm.append(100 * abs(float(own - stature)))
        height_pct.append(100 * abs(float(own / stature - 1)))
    out = {name: round(float(np.mean(v)), 2) for name, v in rows.items()}
    out["height_error"] = {
        "mean_abs_cm": round(float(np.mean(height_cm)), 2),
        "mean_abs_percent": round(float(np.mean(height_pct)), 2),
    }
    out["mean_height_m"] = {k: round(float(np.mean(v)), 3) for k, v in heights.items()}
    out["videos"] = len(predictions)
    return out


def main(argv: list[str] | None = None) -> dict:
    def score(model, args) -> dict:
        report = {}
        for name, data in fixed_and_varied().items():
            result = evaluate_dataset(
                model, data, EvaluationConfig(), progress=False, keep_predictions=True
            )
            targets = [s.joints_3d_relative for s in data if s.joints_3d is not None]
            report[f"engine_{name}"] = scaling_rows(result.predictions, targets)
        person = validation_person()
        lifted = lift_sequences(model, person, smoothing_s=0.0)
        pairs = zip(lifted.values(), person, strict=True)
        predictions = [torch.from_numpy(pred)[seq.valid] for pred, seq in pairs]
        targets = [s.joints_3d.double()[s.valid] for s in person]
        report["person2"] = scaling_rows(predictions, targets, list(JOINTS_15))
        report["person2"]["sequences"] = list(lifted)
        return report

    fit = stature_fit()
    return model_report(
        "benchmarks/stature.py", __doc__.split("\n\n")[0], score, argv,
        extra=lambda: {"fit": {
            "ratio": round(fit.ratio, 4), "train_bodies": fit.train_bodies,
            "validation_bodies": fit.validation_bodies,
            "validation_rmse_cm": round(100 * fit.validation_rmse_m, 2),
            "validation_max_abs_cm": round(100 * fit.validation_max_abs_m, 2),
        }},
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""Do models trained apart err apart? The mean of several models' predictions on the engine's
validation videos, against each model alone.

If the models' errors were independent, the mean of their predictions would be clearly
better than any of them; if they share their errors (what the 2D keypoints leave open, or
what the training data teach all of them alike), it is hardly better. Every model runs as
:func:`anatomy_lib.evaluation.evaluate_dataset` runs it (test-time flip, its own output frame
turned back into the camera's), and the per-video predictions are averaged.

Prints one JSON object: per validation split (``fixed``, ``varied``, as in
``benchmarks/engine_validation.py``), each model's P1 / P2 (mm, the trainer's protocol) and
those of the mean of all the models' predictions. No test data are read.

    python benchmarks/prediction_ensemble.py --model NAME_OR_PATH NAME_OR_PATH ... [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_data import commit  # noqa: E402

from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset, score_predictions  # noqa: E402
from anatomy_lib.training.engine_data import validation_videos  # noqa: E402
from anatomy_lib.wild import resolve_model  # noqa: E402

SPLITS = ("fixed", "varied")


def mean_predictions(predictions: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """The per-video mean over models.

    Args:
        predictions: one list per model of ``(T, J, 3)`` predictions, one per video, the
            videos in the same order for every model.

    Returns:
        One ``(T, J, 3)`` mean per video.
    """
    if not predictions:
        raise ValueError("mean_predictions: expected at least one model's predictions")
    counts = {len(p) for p in predictions}
    if len(counts) != 1:
        raise ValueError(
            f"mean_predictions: expected as many videos per model, got {sorted(counts)}"
        )
    out = []
    for i, per_model in enumerate(zip(*predictions, strict=True)):
        shapes = {tuple(p.shape) for p in per_model}
        if len(shapes) != 1:
            raise ValueError(
                f"mean_predictions: video {i} has shapes {sorted(shapes)} across models"
            )
        out.append(torch.stack(per_model).mean(0))
    return out


def ensemble_report(models: dict[str, torch.nn.Module], datasets: dict) -> dict:
    """``{split: {"models": {name: {p1, p2}}, "mean_of_predictions": {p1, p2}}}``."""
    report = {}
    for split, data in datasets.items():
        scores, predictions = {}, []
        for name, model in models.items():
            result = evaluate_dataset(model, data, EvaluationConfig(), progress=False,
                                      keep_predictions=True)  # fmt: skip
            scores[name] = {p: round(result.averages[p], 2) for p in ("p1", "p2")}
            predictions.append(result.predictions)
        mean = score_predictions(data, mean_predictions(predictions)).averages
        report[split] = {
            "models": scores,
            "mean_of_predictions": {p: round(mean[p], 2) for p in ("p1", "p2")},
        }
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", required=True, help="two or more models")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if len(args.model) < 2:
        parser.error(f"--model: expected two or more models, got {len(args.model)}")
    torch.set_num_threads(args.threads)
    models = {spec: resolve_model(spec) for spec in args.model}
    datasets = {split: validation_videos(joint_definitions=split) for split in SPLITS}
    report = {
        "command": shlex.join(
            [
                "python",
                "benchmarks/prediction_ensemble.py",
                *(sys.argv[1:] if argv is None else argv),
            ]
        ),  # fmt: skip
        "commit": commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "splits": ensemble_report(models, datasets),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

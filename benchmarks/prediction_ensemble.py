"""Do models trained apart err apart? The mean of several models' predictions on the engine's
validation videos, against each model alone.

If the models' errors were independent, the mean of their predictions would be clearly
better than any of them; if they share their errors (what the 2D keypoints leave open, or
what the training data teach all of them alike), it is hardly better. Every model runs as
:func:`anatomy_lib.evaluation.evaluate_dataset` runs it, with test-time flip, its own output
frame turned back into the camera's; the mean is their
:class:`~anatomy_lib.models.ensemble.PredictionEnsemble`, lifted the same way.

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

from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.models.ensemble import PredictionEnsemble  # noqa: E402
from anatomy_lib.training.engine_data import validation_videos  # noqa: E402
from anatomy_lib.wild import resolve_model  # noqa: E402

SPLITS = ("fixed", "varied")


def ensemble_report(models: dict[str, torch.nn.Module], datasets: dict) -> dict:
    """``{split: {"models": {name: {p1, p2}}, "mean_of_predictions": {p1, p2}}}``: every model
    and their :class:`~anatomy_lib.models.ensemble.PredictionEnsemble`, each with the mirror
    pass (as every model was run when this was first measured)."""
    protocol = EvaluationConfig(flip=True)
    ensemble = PredictionEnsemble(list(models.values()), names=list(models))
    report = {}
    for split, data in datasets.items():
        scores = {}
        for name, model in models.items():
            result = evaluate_dataset(model, data, protocol, progress=False)
            scores[name] = {p: round(result.averages[p], 2) for p in ("p1", "p2")}
        mean = evaluate_dataset(ensemble, data, protocol, progress=False).averages
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

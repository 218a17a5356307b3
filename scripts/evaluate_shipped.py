"""Errors of the shipped checkpoints (the table in ``anatomy_lib/checkpoints/README.md``).

Evaluates every model of ``anatomy_lib.checkpoints.SHIPPED_NAMES`` on the embedded dataset's
test split (simulated detections) and on the Pose2Sim trial (real OpenPose detections) with
the library's protocol (test-time flip for one model, none for an ensemble; not smoothed),
bone lengths from all frames of each video; errors are the averages over actions, in mm.

    python scripts/evaluate_shipped.py [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anatomy_lib.checkpoints import SHIPPED_NAMES, load_pretrained  # noqa: E402
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402

DATASETS = {
    "embedded test split (CMU01, ClimberB; simulated detections)": lambda: (
        load_default_dataset().split("test")
    ),
    "Pose2Sim trial (real OpenPose detections, 4 cameras x 100 frames)": load_pose2sim_trial,
}


METRICS = ("p1", "p2", "p3", "mpjve")


def shipped_errors() -> dict[tuple[str, str], tuple[float, ...]]:
    """``(data label, model name) -> (P1, P2, P3, MPJVE)`` in mm, in table order."""
    errors = {}
    for label, load in DATASETS.items():
        data = load()
        for name in SHIPPED_NAMES:
            result = evaluate_dataset(
                load_pretrained(name), data, EvaluationConfig(), label=name, progress=False
            )
            errors[(label, name)] = tuple(result.averages[m] for m in METRICS)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| data | model | Protocol 1 | Protocol 2 | Protocol 3 | MPJVE |")
    print("|---|---|---:|---:|---:|---:|")
    previous = None
    for (label, name), values in shipped_errors().items():
        first = label if label != previous else ""
        previous = label
        print(f"| {first} | `{name}` | " + " | ".join(f"{v:.1f}" for v in values) + " |")


if __name__ == "__main__":
    main()

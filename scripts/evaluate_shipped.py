"""Errors of the shipped checkpoints (the table in ``anatomy_lib/checkpoints/README.md``).

Evaluates every model of ``anatomy_lib.checkpoints.PRETRAINED`` on the embedded dataset's
test split (simulated detections) and on the Pose2Sim trial (real OpenPose detections),
test-time flip on, bone lengths from all frames of each video; errors are the averages
over actions, in mm.

    python scripts/evaluate_shipped.py [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anatomy_lib.checkpoints import PRETRAINED, load_pretrained  # noqa: E402
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402

DATASETS = {
    "embedded test split (CMU01, ClimberB; simulated detections)": lambda: (
        load_default_dataset().split("test")
    ),
    "Pose2Sim trial (real OpenPose detections, 4 cameras x 100 frames)": load_pose2sim_trial,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| data | model | Protocol 1 | Protocol 2 | Protocol 3 | MPJVE |")
    print("|---|---|---:|---:|---:|---:|")
    for label, load in DATASETS.items():
        data = load()
        for i, name in enumerate(PRETRAINED):
            result = evaluate_dataset(
                load_pretrained(name), data, EvaluationConfig(), label=name, progress=False
            )
            a = result.averages
            first = label if i == 0 else ""
            print(
                f"| {first} | `{name}` | {a['p1']:.1f} | {a['p2']:.1f} | {a['p3']:.1f} | "
                f"{a['mpjve']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

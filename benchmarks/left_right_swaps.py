"""Swapping left and right back (:mod:`anatomy_lib.wild.left_right`) on the engine's
validation videos, where the simulated detectors' swaps are known.

Prints one JSON object:

* ``by_swap_cost``: for each ``swap_cost`` tried, frames whose labels were swapped by the
  simulated detector (``swapped``), found by :func:`find_left_right_swaps` (``found``),
  swapped back without having been swapped (``false``) and left swapped (``missed``), in
  the default (whole video) and causal modes. The library's default ``swap_cost`` is the
  smallest value with no false swap in the default mode (chosen here, on validation videos;
  neither the embedded test split nor the Pose2Sim trial was looked at for it);
* ``models``: Protocols 1 and 2 on the same videos for each model with the detections as
  they are and swapped back (the model's own mode: causal models decide causally).

    python benchmarks/left_right_swaps.py [--model NAME ...] [--threads 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_data import commit  # noqa: E402

from anatomy_lib.data.sequences import PoseDataset  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.training.engine_data import (  # noqa: E402
    VALIDATION_SEED,
    engine_for,
    validation_videos,
)
from anatomy_lib.wild import resolve_model  # noqa: E402
from anatomy_lib.wild.left_right import find_left_right_swaps, swap_back  # noqa: E402

SWAP_COSTS = (0.002, 0.005, 0.01, 0.02, 0.04)


def validation_swaps(videos: int = 64) -> np.ndarray:
    """``(N, T)`` bool: the frames of :func:`validation_videos` whose left and right limbs
    the simulated detector swapped (the same videos, drawn again with the same seed)."""
    engine = engine_for("ansur", 0.0)
    drawn = engine.videos(videos, torch.Generator().manual_seed(VALIDATION_SEED), "validation")
    return drawn.swapped.numpy()


def _swaps(seq, causal: bool, **options) -> np.ndarray:
    """``(T, 2)`` of :func:`find_left_right_swaps` with the pipeline's ``max_gap``."""
    return find_left_right_swaps(
        seq.keypoints_2d.double().numpy(), seq.scores.double().numpy(), "h36m",
        causal=causal, max_gap=round(seq.fps / 4), **options,
    )  # fmt: skip


def detection_counts(dataset: PoseDataset, truth: np.ndarray, swap_cost: float, causal: bool):
    """Frames swapped / found / false / missed over the dataset."""
    found = np.stack([_swaps(s, causal, swap_cost=swap_cost).any(-1) for s in dataset])
    return {
        "swapped": int(truth.sum()),
        "found": int((found & truth).sum()),
        "false": int((found & ~truth).sum()),
        "missed": int((~found & truth).sum()),
    }


def swapped_back(dataset: PoseDataset, causal: bool) -> PoseDataset:
    """The dataset with every sequence's 2D swapped back (the library's default options)."""
    seqs = []
    for s in dataset:
        kp, sc = swap_back(s.keypoints_2d.numpy(), s.scores.numpy(), _swaps(s, causal), "h36m")
        seqs.append(
            dataclasses.replace(
                s, keypoints_2d=torch.as_tensor(kp, dtype=s.keypoints_2d.dtype),
                scores=torch.as_tensor(sc, dtype=s.scores.dtype),
            )
        )  # fmt: skip
    return dataclasses.replace(dataset, sequences=tuple(seqs))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="*", default=["anatomy_medium", "anatomy_medium_causal"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = validation_videos()
    truth = validation_swaps(len(dataset.sequences))
    report = {
        "benchmark": "left_right_swaps",
        "command": shlex.join(["python", "benchmarks/left_right_swaps.py", *sys.argv[1:]]),
        "commit": commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "data": f"the engine's validation videos ({len(dataset.sequences)} x 128 frames)",
        "by_swap_cost": {
            str(cost): {
                mode: detection_counts(dataset, truth, cost, causal)
                for mode, causal in (("whole_video", False), ("causal", True))
            }
            for cost in SWAP_COSTS
        },
        "models": {},
    }
    for name in args.model:
        model = resolve_model(name)
        causal = bool(model.config.causal)
        rows = {}
        variants = {"as_detected": dataset, "swapped_back": swapped_back(dataset, causal)}
        for label, data in variants.items():
            result = evaluate_dataset(model, data, EvaluationConfig(), progress=False)
            rows[label] = {k: round(result.averages[k], 2) for k in ("p1", "p2")}
        report["models"][name] = rows
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

"""Training throughput on CPU: samples per second at batch 64, data pipeline included.

For the paper's 27- and 243-frame models (1024 channels, 2 direction sub-networks,
visibility attention, l = 50 length frames, bone-length-augmented batch of 64 clips),
each timed step builds its batch with the library's sampler (window gather, flip,
bone-length augmentation and re-projection) from the embedded dataset, then runs
forward, backward and the Adam step. The authors' released code was measured at 46 and
19 samples/s on this machine for one training step at batch 64 *without* its data
loading (``shared/reference-notes.md``); the ratio is ours / theirs. Measured in the same
run for comparison: the VideoPose3D baseline of the same size, and the anatomy model with
two of this library's CPU speed-ups swapped back for the plain PyTorch ops
(``F.dropout``, whose Bernoulli draws dominate it, instead of
``anatomy_lib.models.dropout``; strided ``F.conv1d`` instead of ``window_conv``).

    python benchmarks/training.py [--steps 8] [--warmup 3]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anatomy_lib.data import load_default_dataset  # noqa: E402
from anatomy_lib.models import dropout as dropout_module  # noqa: E402
from anatomy_lib.models import temporal as temporal_module  # noqa: E402
from anatomy_lib.training.config import ExperimentConfig  # noqa: E402
from anatomy_lib.training.trainer import Trainer  # noqa: E402

#: Samples per second of the authors' code, one training step at batch 64, no data loading.
AUTHORS_SAMPLES_PER_S = {27: 46.0, 243: 19.0}


@contextlib.contextmanager
def plain_pytorch_ops():
    """Swap the library's CPU dropout and window convolution for the plain PyTorch ops."""
    saved = dropout_module.dropout, temporal_module.window_conv
    dropout_module.dropout = lambda x, p, training=True: F.dropout(x, p, training)
    temporal_module.window_conv = lambda x, w: F.conv1d(x, w, stride=w.shape[-1])
    try:
        yield
    finally:
        dropout_module.dropout, temporal_module.window_conv = saved


def samples_per_second(preset: str, dataset, steps: int, warmup: int) -> float:
    """Time ``steps`` full training steps (batch construction included) after ``warmup``."""
    exp = ExperimentConfig.preset(preset).override(
        ["data.dataset=embedded", "optim.batch_size=64", "optim.eval_every=0"]
    )
    trainer = Trainer(exp, dataset=dataset, progress=False, device="cpu")
    trainer._start_epoch(0)
    for s in range(warmup):
        trainer.train_step(0, s)
    start = time.perf_counter()
    for s in range(warmup, warmup + steps):
        trainer.train_step(0, s)
    return exp.optim.batch_size * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    dataset = load_default_dataset()
    results = {}
    for frames in (27, 243):
        ours = samples_per_second(f"full@paper-{frames}", dataset, args.steps, args.warmup)
        baseline = samples_per_second(f"baseline@paper-{frames}", dataset, args.steps, args.warmup)
        with plain_pytorch_ops():
            plain = samples_per_second(f"full@paper-{frames}", dataset, args.steps, args.warmup)
        results[f"{frames}_frames"] = {
            "anatomy_samples_per_s": round(ours, 2),
            "authors_samples_per_s_without_data_loading": AUTHORS_SAMPLES_PER_S[frames],
            "ratio_vs_authors": round(ours / AUTHORS_SAMPLES_PER_S[frames], 3),
            "videopose3d_baseline_samples_per_s": round(baseline, 2),
            "anatomy_with_plain_pytorch_dropout_and_conv_samples_per_s": round(plain, 2),
            "speedup_over_plain_pytorch_ops": round(ours / plain, 3),
        }
    print(json.dumps({
        "benchmark": "training throughput, batch 64, 1024 channels, CPU, data pipeline included",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "steps": args.steps,
        "results": results,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()

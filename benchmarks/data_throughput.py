"""Batches per second of the vectorised sampler vs a naive per-sample loop (CPU, same run).

Batch 1024, l = 50 length frames, 243-frame centred windows, on the embedded training split.
Prints one JSON object.
"""

from __future__ import annotations

import json
import time

import torch

from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.samplers import AnatomyBatch, SamplerConfig, WindowBatchSampler

BATCH = 1024


def naive_batch(sampler: WindowBatchSampler, generator: torch.Generator) -> AnatomyBatch:
    """Reference: one Python iteration per sample, slicing each sequence with edge clamping."""
    cfg = sampler.config
    before, after = cfg.pad
    parts = []
    for _ in range(BATCH):
        s = int(torch.randint(len(sampler.sequences), (1,), generator=generator))
        seq = sampler.sequences[s]
        t = int(torch.randint(seq.num_frames, (1,), generator=generator))
        frames = [min(max(k, 0), seq.num_frames - 1) for k in range(t - before, t + after + 1)]
        lf = torch.randint(seq.num_frames, (cfg.num_length_frames,), generator=generator)
        rel = seq.joints_3d_relative
        parts.append(
            (
                seq.keypoints_2d[frames],
                seq.scores[frames],
                rel[t],
                seq.keypoints_2d[lf],
                seq.scores[lf],
                rel[lf],
            )
        )
    return [torch.stack(x) for x in zip(*parts, strict=True)]


def rate(fn, seconds: float = 3.0) -> float:
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(2)
    train = load_default_dataset().split("train")
    sampler = WindowBatchSampler(train, SamplerConfig.paper_243())
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    vectorised = rate(lambda: sampler.sample(BATCH, g1))
    naive = rate(lambda: naive_batch(sampler, g2))
    print(json.dumps({
        "benchmark": "data_throughput", "device": "cpu", "threads": torch.get_num_threads(),
        "batch_size": BATCH, "receptive_field": 243, "length_frames": 50,
        "frames": len(sampler), "vectorised_batches_per_s": round(vectorised, 2),
        "naive_loop_batches_per_s": round(naive, 2), "speedup": round(vectorised / naive, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

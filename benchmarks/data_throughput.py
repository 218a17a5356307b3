"""Batches per second of the vectorised sampler vs a naive per-sample loop (CPU, same run).

Batch 1024, l = 50 length frames, 243-frame centred windows, on the embedded training split.
Also times limb recombination (``anatomy_lib.data.pose_recombination``: the default config
and rejection check, and a 10-degree mutation with per-group rejection) of 1,024 real
27-frame motion windows against one training step of the smallest model preset (``small``,
27 frames) at the same batch size, in the same run, and
the whole training-data engine (``anatomy_lib.data.engine``: motion, ANSUR bodies,
recombined limbs, cameras, detector errors) against one training step of the ``medium``
preset at batch 1,024: both as trained (a pool of 128-frame videos, each giving 128 target
windows) and in the worst case of one fresh 27-frame video per window.
Prints one JSON object.
"""

from __future__ import annotations

import json
import time

import torch

from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.amp_motion import load_amp_motion
from anatomy_lib.data.pose_recombination import RecombinationConfig, recombine_limbs
from anatomy_lib.data.samplers import AnatomyBatch, SamplerConfig, WindowBatchSampler
from anatomy_lib.training.config import ExperimentConfig
from anatomy_lib.training.trainer import Trainer

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


def train_step_seconds(trainer: Trainer, repeats: int) -> float:
    """Mean seconds of one optimiser step after a warm-up step."""
    trainer._start_epoch(0)
    trainer.train_step(0, 0)
    start = time.perf_counter()
    for s in range(1, repeats + 1):
        trainer.train_step(0, s)
    return (time.perf_counter() - start) / repeats


def recombination_timing(dataset, window: int = 27, repeats: int = 3) -> dict:
    """Seconds to recombine BATCH windows vs one training step of the ``small`` preset."""
    clips = [j for _, j in load_amp_motion()]
    train = dataset.split("train").sequences
    clips += list({(s.subject, s.action): s.joints_world for s in train}.values())
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(len(clips), (BATCH,), generator=g)
    windows = torch.stack(
        [clips[i][s : s + window] for i in idx.tolist()
         for s in [int(torch.randint(len(clips[i]) - window, (1,), generator=g))]]
    )  # fmt: skip
    config = RecombinationConfig()
    grouped = RecombinationConfig(mutation_std_deg=10.0, rejection="group")

    def timed(cfg: RecombinationConfig) -> tuple[float, float]:  # seconds, acceptance
        recombine_limbs(windows, cfg, g)
        start, accepted = time.perf_counter(), []
        for _ in range(repeats):
            accepted.append(recombine_limbs(windows, cfg, g).acceptance_rate)
        return (time.perf_counter() - start) / repeats, sum(accepted) / repeats

    recombine_s, accepted = timed(config)
    grouped_s, grouped_accepted = timed(grouped)
    exp = ExperimentConfig.preset("small").override(
        ["data.dataset=embedded", f"optim.batch_size={BATCH}", "optim.eval_every=0"]
    )
    trainer = Trainer(exp, dataset=dataset, progress=False, device="cpu")
    step_s = train_step_seconds(trainer, repeats)
    return {
        "windows": BATCH, "frames": window, "config": config.__dict__,
        "acceptance_rate": round(accepted, 4),
        "recombine_s": round(recombine_s, 4), "train_step_small_s": round(step_s, 4),
        "recombine_over_train_step": round(recombine_s / step_s, 3),
        "group_rejection_10deg": {
            "config": grouped.__dict__, "acceptance_rate": round(grouped_accepted, 4),
            "recombine_s": round(grouped_s, 4),
            "recombine_over_train_step": round(grouped_s / step_s, 3),
        },
    }  # fmt: skip


def engine_timing(repeats: int = 2) -> dict:
    """Seconds of engine work per 1,024 training windows vs one ``medium`` training step."""
    from anatomy_lib.data.engine import EngineConfig, TrainingDataEngine
    from anatomy_lib.data.joint_limits import within_limits

    pool_engine = TrainingDataEngine(EngineConfig(), pose_filter=within_limits)
    videos = 32
    start = time.perf_counter()
    for r in range(repeats):
        pool_engine.dataset(videos, torch.Generator().manual_seed(r))
    pool_s = (time.perf_counter() - start) / repeats
    windows_per_pool = videos * pool_engine.config.frames
    fresh_engine = TrainingDataEngine(EngineConfig(frames=27), pose_filter=within_limits)
    start = time.perf_counter()
    fresh_engine.videos(BATCH, torch.Generator().manual_seed(0))
    fresh_s = time.perf_counter() - start
    exp = ExperimentConfig.preset("full@medium").override(
        [f"optim.batch_size={BATCH}", "optim.eval_every=0", "data.engine_videos=16",
         "data.engine_validation_videos=1"]
    )  # fmt: skip
    step_s = train_step_seconds(Trainer(exp, progress=False, device="cpu"), repeats)
    per_batch = pool_s * BATCH / windows_per_pool
    return {
        "pool_videos": videos, "frames_per_video": pool_engine.config.frames,
        "pool_s": round(pool_s, 3), "engine_s_per_1024_windows_pooled": round(per_batch, 4),
        "engine_s_1024_fresh_27_frame_videos": round(fresh_s, 3),
        "train_step_medium_batch_1024_s": round(step_s, 3),
        "pooled_over_train_step": round(per_batch / step_s, 4),
        "fresh_over_train_step": round(fresh_s / step_s, 3),
    }  # fmt: skip


def main() -> None:
    torch.set_num_threads(2)
    dataset = load_default_dataset()
    train = dataset.split("train")
    sampler = WindowBatchSampler(train, SamplerConfig.paper_243())
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    vectorised = rate(lambda: sampler.sample(BATCH, g1))
    naive = rate(lambda: naive_batch(sampler, g2))
    print(json.dumps({
        "benchmark": "data_throughput", "device": "cpu", "threads": torch.get_num_threads(),
        "batch_size": BATCH, "receptive_field": 243, "length_frames": 50,
        "frames": len(sampler), "vectorised_batches_per_s": round(vectorised, 2),
        "naive_loop_batches_per_s": round(naive, 2), "speedup": round(vectorised / naive, 1),
        "pose_recombination": recombination_timing(dataset),
        "engine": engine_timing(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

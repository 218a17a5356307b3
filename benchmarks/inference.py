"""Whole-video inference speed of the anatomy model vs its baselines, on the CPU.

Prints one JSON object: parameter counts and frames/s for the 27-, 81- and 243-frame
models (C = 1024, random weights, eval mode, ``length_frames="all"``) with

* ``lift_video`` in float32 and with the bf16 autocast path,
* the VideoPose3D baseline (``lift_video_baseline``) in the same run,
* a naive per-frame loop (window form, one window at a time) on fewer frames,

and the ratios between them. Usage: ``python benchmarks/inference.py [--frames 1000]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from anatomy_lib.models import AnatomyModel, ModelConfig, TemporalConvNet
from anatomy_lib.models.inference import lift_video, lift_video_baseline, pad_edges


def _fps(fn, frames: int, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return frames / best


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--loop-frames", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--presets", default="paper-27,paper-81,paper-243")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t = args.frames
    kp, sc = torch.rand(t, 17, 2) * 2 - 1, torch.rand(t, 17)
    report: dict = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "frames": t,
        "models": {},
    }
    for name in args.presets.split(","):
        cfg = ModelConfig.preset(name)
        model = AnatomyModel(cfg).eval()
        base = TemporalConvNet(cfg.baseline()).eval()
        rf = cfg.receptive_field
        fp32 = _fps(lambda m=model: lift_video(m, kp, sc), t, args.repeats)
        bf16 = _fps(lambda m=model: lift_video(m, kp, sc, dtype=torch.bfloat16), t, args.repeats)
        vp3d = _fps(lambda b=base: lift_video_baseline(b, kp), t, args.repeats)
        n = args.loop_frames
        padded, padded_sc = pad_edges(kp, rf, False), pad_edges(sc, rf, False)

        def loop(m=model, n=n, rf=rf, padded=padded, padded_sc=padded_sc):
            with torch.no_grad():
                for i in range(n):
                    m(padded[None, i : i + rf], padded_sc[None, i : i + rf], kp[None])

        naive = _fps(loop, n, 1)
        report["models"][name] = {
            "receptive_field": rf,
            "params_anatomy": _params(model),
            "params_videopose3d": _params(base),
            "fps_lift_video_fp32": round(fp32, 1),
            "fps_lift_video_bf16": round(bf16, 1),
            "fps_videopose3d_fp32": round(vp3d, 1),
            "fps_naive_window_loop_fp32": round(naive, 1),
            "naive_loop_frames": n,
            "speedup_vs_naive_loop": round(fp32 / naive, 1),
            "bf16_speedup": round(bf16 / fp32, 2),
            "videopose3d_over_anatomy": round(vp3d / fp32, 1),
        }
        print(json.dumps({name: report["models"][name]}), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

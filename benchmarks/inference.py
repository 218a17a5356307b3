"""Whole-video inference speed of the anatomy model vs its baselines, on the CPU.

Prints one JSON object: parameter counts and frames/s for the 27-, 81- and 243-frame
models (C = 1024, random weights, eval mode, ``length_frames="all"``) with

* ``lift_video`` in float32 and in bfloat16 (weights converted once, fp32 accumulation),
  with the kernel each ran on (``"kernel"``: oneDNN's fused linear, or the portable
  ``torch.addmm`` fallback on CPUs without bf16 instructions),
* the VideoPose3D baseline (``lift_video_baseline``) in the same run,
* a naive per-frame loop (window form, one window at a time) on fewer frames,

and the ratios between them; the multiply-adds per frame of the exact algorithm (the
direction sub-network ``k > 1`` cannot share work across frames, see
``anatomy_lib.models.inference``), the (4096 x C) @ (C x C) matmul rate measured in the
same run, and the frames/s ceiling they imply. The load average at start and end tells
how much the machine was shared.

The issue's target (2,000 frames/s at 243 frames) was set against measurements of the
authors' code (77 frames/s at 243 frames, 198 at 27) and VideoPose3D (11,060 and 24,460)
recorded in ``shared/reference-notes.md``. VideoPose3D does the same float32 convolutions in both
places, so ``reference_scale`` (its frames/s here over 11,060) tells how this CPU
compares with the one those numbers came from, and ``target_fps_at_this_machine`` is the
target scaled by it. Both the raw and the scaled comparison are printed.

Usage: ``python benchmarks/inference.py [--frames 1000]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import torch

from anatomy_lib.models import AnatomyModel, ModelConfig, TemporalConvNet
from anatomy_lib.models.inference import lift_video, lift_video_baseline, pad_edges
from anatomy_lib.models.inference_plan import PORTABLE_ENV, inference_kernel

#: Whole-video frames/s recorded in shared/reference-notes.md (2 threads), by receptive field.
REFERENCE_FPS = {
    27: {"authors_code": 198.0, "videopose3d": 24460.0},
    243: {"authors_code": 77.0, "videopose3d": 11060.0},
}
#: The issue's target for the 243-frame model (frames/s).
TARGET_243 = 2000.0


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fps(fn, frames: int, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return frames / best


def _matmul_gflops(channels: int, dtype: torch.dtype, repeats: int = 5) -> float:
    a = torch.randn(4096, channels).to(dtype)
    b = torch.randn(channels, channels).to(dtype)
    seconds = 1 / _fps(lambda: a @ b, 1, repeats)
    return 2 * 4096 * channels * channels / seconds / 1e9


def _macs_per_frame(cfg: ModelConfig) -> int:
    """Multiply-adds per output frame of ``lift_video`` (long skips, ignoring edge padding)."""
    c, w, j = cfg.channels, cfg.filter_widths, cfg.skeleton_tree.num_joints
    in_ch = j * (3 if cfg.visibility == "fusion" else 2)
    macs = w[0] * in_ch * c + (w[0] * j * c if cfg.visibility == "attention" else 0)
    extra0 = c if cfg.visibility == "attention" else 0
    macs += sum(wb * c * c + c * c for wb in w[1:]) + (w[1] * extra0 * c if len(w) > 1 else 0)
    for _ in range(cfg.num_direction_stages - 1):
        for b, wb in enumerate(w[1:]):
            out_positions = math.prod(w[b + 2 :])
            stream = c * c if b == 0 else out_positions * wb * c * c
            skip = wb * c * c if cfg.long_skip else 0
            macs += stream + skip + out_positions * c * c
    macs += 2 * j * c + 2 * cfg.num_blocks * c * c + c * 3 * j  # length network
    return macs


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
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "frames": t,
        # which kernel lift_video's layers ran on: "onednn-fused" or "portable" (torch.addmm;
        # bf16 on a CPU without bf16 instructions, or forced by ANATOMY3D_PORTABLE_KERNEL=1)
        "kernel": {
            "fp32": inference_kernel(torch.float32),
            "bf16": inference_kernel(torch.bfloat16),
            "forced_portable": os.environ.get(PORTABLE_ENV, "") == "1",
        },
        "models": {},
    }
    rates = {
        "fp32": _matmul_gflops(1024, torch.float32),
        "bf16": _matmul_gflops(1024, torch.bfloat16),
    }
    report["matmul_gflops_4096x1024x1024"] = {k: round(v, 1) for k, v in rates.items()}
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
        gflop = 2 * _macs_per_frame(cfg) / 1e9
        report["models"][name] = {
            "gflop_per_frame": round(gflop, 3),
            "fps_ceiling_fp32_at_matmul_rate": round(rates["fp32"] / gflop, 1),
            "fps_ceiling_bf16_at_matmul_rate": round(rates["bf16"] / gflop, 1),
            "fraction_of_ceiling_fp32": round(fp32 * gflop / rates["fp32"], 2),
            "fraction_of_ceiling_bf16": round(bf16 * gflop / rates["bf16"], 2),
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
        if rf in REFERENCE_FPS:
            ref = REFERENCE_FPS[rf]
            scale = vp3d / ref["videopose3d"]
            comparison = {
                "reference_fps": ref,
                "reference_scale": round(scale, 3),
                "fp32_over_authors_code": round(fp32 / ref["authors_code"], 1),
            }
            if rf == 243:
                target = TARGET_243 * scale
                comparison |= {
                    "target_fps": TARGET_243,
                    "target_fps_at_this_machine": round(target, 1),
                    "fp32_over_scaled_target": round(fp32 / target, 2),
                    "bf16_over_scaled_target": round(bf16 / target, 2),
                }
            report["models"][name]["reference_comparison"] = comparison
        print(json.dumps({name: report["models"][name]}), file=sys.stderr, flush=True)
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

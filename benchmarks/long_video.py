"""Lifting a long video in bounded memory: wall time and peak memory against video length.

Each measurement runs ``lift_video`` in a fresh subprocess (so that its peak resident
memory is its own) on the 2D keypoints and visibility scores of the embedded dataset's
test sequences, repeated end to end up to the requested length, with a model of random
weights (default: the paper's 243-frame model, 1024 channels). Peak memory is the
process's maximum resident set size (``ru_maxrss``) minus its size just before the call,
so the model's weights and the data are not counted. The memory ratio between the
longest and shortest video shows whether memory grows with the video: the outputs
(``(T, 17, 3)`` joints and a few ``(T, 16)`` tensors) grow linearly but are small.

    python benchmarks/long_video.py [--frames 10000 100000] [--dtype bfloat16]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    """Current resident set size of this process (MB, Linux)."""
    with open("/proc/self/statm", encoding="utf-8") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(frames: int, preset: str, dtype_name: str, chunk_size: int, threads: int) -> None:
    """Run one measurement and print its JSON line (called in a subprocess)."""
    sys.path.insert(0, str(ROOT))
    import torch

    from anatomy_lib.data import load_default_dataset
    from anatomy_lib.models import AnatomyModel, ModelConfig
    from anatomy_lib.models.inference import lift_video

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    test = load_default_dataset().split("test")
    kp = torch.cat([s.keypoints_2d for s in test])
    sc = torch.cat([s.scores for s in test])
    reps = -(-frames // kp.shape[0])
    kp, sc = kp.repeat(reps, 1, 1)[:frames].contiguous(), sc.repeat(reps, 1)[:frames].contiguous()
    model = AnatomyModel(ModelConfig.preset(preset)).eval()
    dtype = None if dtype_name == "float32" else getattr(torch, dtype_name)
    lift_video(model, kp[:2000], sc[:2000], dtype=dtype, chunk_size=chunk_size)  # warm-up
    before = _rss_mb()
    start = time.perf_counter()
    out = lift_video(model, kp, sc, dtype=dtype, chunk_size=chunk_size)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB on Linux
    print(
        json.dumps(
            {
                "frames": frames,
                "seconds": round(seconds, 2),
                "frames_per_s": round(frames / seconds, 1),
                "peak_rss_mb": round(peak, 1),
                "rss_before_call_mb": round(before, 1),
                "peak_above_before_mb": round(peak - before, 1),
                "output_mb": round(
                    sum(
                        t.numel() * t.element_size()
                        for t in (out.joints, out.lengths, out.directions, out.frame_lengths)
                    )
                    / 2**20,
                    1,
                ),
                "finite": bool(torch.isfinite(out.joints).all()),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--preset", default="paper-243")
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.frames[0], args.preset, args.dtype, args.chunk_size, args.threads)
        return
    runs = []
    for frames in args.frames:
        cmd = [sys.executable, __file__, "--child", "--frames", str(frames)]
        cmd += ["--preset", args.preset, "--dtype", args.dtype]
        cmd += ["--chunk-size", str(args.chunk_size), "--threads", str(args.threads)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    first, last = runs[0], runs[-1]
    report = {
        "benchmark": "whole-video inference of a long video, peak memory vs length",
        "preset": args.preset,
        "dtype": args.dtype,
        "chunk_size": args.chunk_size,
        "threads": args.threads,
        "machine": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
        "length_ratio": round(last["frames"] / first["frames"], 1),
        "peak_memory_ratio": round(
            last["peak_above_before_mb"] / max(first["peak_above_before_mb"], 1.0), 2
        ),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

